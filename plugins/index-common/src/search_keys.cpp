#include "search_keys.h"

#include <array>

namespace dicomd::index {
namespace {

constexpr std::array kKeys{
    SearchKey{"PatientID", Level::kStudy, Match::kText, "patient_id"},
    SearchKey{"PatientName", Level::kStudy, Match::kPersonName, "patient_name"},
    SearchKey{"PatientBirthDate", Level::kStudy, Match::kDate, "patient_birth_date"},
    SearchKey{"PatientSex", Level::kStudy, Match::kText, "patient_sex"},
    SearchKey{"StudyInstanceUID", Level::kStudy, Match::kUid, "study_uid"},
    SearchKey{"StudyDate", Level::kStudy, Match::kDate, "study_date"},
    SearchKey{"StudyTime", Level::kStudy, Match::kTime, "study_time"},
    SearchKey{"AccessionNumber", Level::kStudy, Match::kText, "accession_number"},
    SearchKey{"StudyDescription", Level::kStudy, Match::kText, "study_description"},
    SearchKey{"ReferringPhysicianName", Level::kStudy, Match::kPersonName, "referring_physician_name"},
    SearchKey{"InstitutionName", Level::kStudy, Match::kText, "institution_name"},
    SearchKey{"ModalitiesInStudy", Level::kStudy, Match::kModalities, ""},
    SearchKey{"SeriesInstanceUID", Level::kSeries, Match::kUid, "series_uid"},
    SearchKey{"Modality", Level::kSeries, Match::kText, "modality"},
    SearchKey{"SeriesNumber", Level::kSeries, Match::kInteger, "series_number"},
    SearchKey{"SeriesDescription", Level::kSeries, Match::kText, "series_description"},
    SearchKey{"BodyPartExamined", Level::kSeries, Match::kText, "body_part_examined"},
    SearchKey{"SOPInstanceUID", Level::kInstance, Match::kUid, "sop_instance_uid"},
    SearchKey{"SOPClassUID", Level::kInstance, Match::kUid, "sop_class_uid"},
    SearchKey{"InstanceNumber", Level::kInstance, Match::kInteger, "instance_number"},
    SearchKey{"study", Level::kInstance, Match::kText, "study"},
    SearchKey{"file", Level::kInstance, Match::kText, "file"},
};

}  // namespace

std::span<const SearchKey> search_keys() {
  return kKeys;
}

const SearchKey* find_key(std::string_view keyword) {
  for (const auto& k : kKeys)
    if (k.keyword == keyword) return &k;
  return nullptr;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kStudy:
      return "study";
    case Level::kSeries:
      return "series";
    case Level::kInstance:
      return "instance";
  }
  return "instance";
}

std::optional<Level> parse_level(std::string_view name) {
  if (name == "study") return Level::kStudy;
  if (name == "series") return Level::kSeries;
  if (name == "instance") return Level::kInstance;
  return std::nullopt;
}

}  // namespace dicomd::index
