// STOW-RS (PS3.18 10.5): instances of a multipart/related body, each judged
// by the validator and stored as study {StudyInstanceUID}, file
// {SOPInstanceUID}.dcm, so that the original API sees them too.
#include <dicomd/cpp/json.hpp>

#include <algorithm>

#include "echo.h"
#include "dataset_scan.h"
#include "dicomweb.h"
#include "multipart.h"
#include "negotiation.h"

namespace dicomd::dicomweb {
namespace {

constexpr uint32_t kSopClass = 0x00080016, kSopInstance = 0x00080018, kStudy = 0x0020000D, kSeries = 0x0020000E;
constexpr uint32_t kKeepSettleMs = 10000;

// PS3.18 Table 10.5.3-2 and PS3.4 Annex B failure reasons.
constexpr uint16_t kProcessingFailure = 0x0110, kDuplicate = 0x0111, kOutOfResources = 0xA700, kDoesNotMatch = 0xA900,
                   kCannotUnderstand = 0xC000, kSyntaxNotSupported = 0xC122;

struct Outcome {
  std::string sop_class, sop_instance, study, series;
  uint16_t failure = 0;  // 0: stored
  std::string reason;    // why it failed, for people (ErrorComment)
};

void write_string_element(JsonWriter& w, std::string_view tag, std::string_view vr, std::string_view value) {
  w.key(tag).start_object().key("vr").string(vr).key("Value").start_array().string(value).end_array().end_object();
}

}  // namespace

void DicomWeb::settle_events() const {
  if (s_.host.has_events() && !s_.host.flush_events(kKeepSettleMs))
    s_.host.warn("event subscribers are behind; a STOW answer goes out before the index has every instance");
}

void DicomWeb::store(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  auto content_type = parse_media_type(req.header("content-type").value_or(""));
  if (!content_type || content_type->type != "multipart/related")
    throw HttpError(415, "STOW-RS takes multipart/related; type=\"application/dicom\"");
  if (auto type = content_type->param("type"); type && *type != "application/dicom")
    throw HttpError(415, "STOW-RS takes parts of type application/dicom, not " + echo(*type));
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  auto answer_type = choose_single(*accept, {"application/dicom+json", "application/json"});
  if (!answer_type) throw HttpError(406, "STOW-RS answers application/dicom+json only");
  std::string url_study;
  if (auto p = req.param("study")) {
    if (!is_uid(*p)) throw HttpError(400, "the study in the path is not a UID");
    url_study = *p;
  }
  std::string reason;
  auto parts = parse_multipart_related(req.body(), content_type->param("boundary").value_or(""), reason);
  if (!parts) throw HttpError(400, "malformed multipart/related body: " + reason);
  if (parts->empty()) throw HttpError(400, "the body holds no instance");
  if (!s_.validator) throw HttpError(503, "STOW-RS needs the validator-gdcm plugin, which is disabled");

  std::vector<Outcome> outcomes;
  std::string uploader(req.identity().subject);
  for (const BodyPart& part : *parts) {
    Outcome o;
    auto part_type = parse_media_type(part.content_type.empty() ? "application/dicom" : part.content_type);
    ScanError scan_error;
    std::optional<ScannedDataset> ds;
    if (!part_type || part_type->type != "application/dicom") {
      o.failure = kCannotUnderstand;
      o.reason = "the part is " + echo(part.content_type) + ", not application/dicom";
    } else if (part.data.size() > settings_.max_instance_bytes) {
      o.failure = kOutOfResources;
      o.reason = "the instance is larger than " + std::to_string(settings_.max_instance_bytes) + " bytes";
    } else if (!(ds = scan_dataset(part.data, kSeries, scan_error))) {
      bool deflated = scan_error.reason.starts_with("a deflated");
      o.failure = deflated ? kSyntaxNotSupported : kCannotUnderstand;
      o.reason = scan_error.reason;
    } else {
      o.sop_class = ds->text(part.data, kSopClass);
      o.sop_instance = ds->text(part.data, kSopInstance);
      o.study = ds->text(part.data, kStudy);
      o.series = ds->text(part.data, kSeries);
      if (!is_uid(o.sop_instance) || !is_uid(o.study)) {
        o.failure = kCannotUnderstand;
        o.reason = "the instance has no valid SOPInstanceUID and StudyInstanceUID";
      } else if (!url_study.empty() && o.study != url_study) {
        o.failure = kDoesNotMatch;
        o.reason = "the instance's StudyInstanceUID " + o.study + " is not the study of the URL";
      }
    }
    if (!o.failure) {
      std::string name = o.sop_instance + ".dcm", refusal;
      // Validated where the storage wrote it (files' uploads do the same);
      // a validator older than ABI 1.5 judges the part in memory.
      storage::WrittenCheck check = [this](int fd, uint64_t size) -> std::optional<std::string> {
        Validator::Verdict verdict = s_.validator.validate_file(fd, size);
        if (verdict.valid) return std::nullopt;
        return verdict.reason;
      };
      if (!s_.validator.can_validate_file()) {
        Validator::Verdict verdict = s_.validator.validate(part.data);
        check = [verdict](int, uint64_t) -> std::optional<std::string> {
          if (verdict.valid) return std::nullopt;
          return verdict.reason;
        };
      }
      auto status = s_.store.put_checked(o.study, name, part.data, uploader, check, refusal);
      using storage::StoreStatus;
      if (status == StoreStatus::kRefused) {
        o.failure = kCannotUnderstand;
        o.reason = refusal;
      } else if (status == StoreStatus::kExists) {
        // The same instance again is stored already (a client's retry);
        // another one under its UID is a conflict.
        bool same = false;
        s_.store.read(o.study, name, [&](std::string_view stored) { same = stored == part.data; });
        if (!same) {
          o.failure = kDuplicate;
          o.reason = "another instance with this SOPInstanceUID is stored in the study";
        }
      } else if (status == StoreStatus::kUnavailable) {
        throw HttpError(503, "the storage is unavailable; try again later");
      } else if (status != StoreStatus::kOk) {
        s_.host.error("STOW: storing " + o.study + "/" + name + " failed");
        o.failure = kProcessingFailure;
        o.reason = "the instance could not be written";
      }
    }
    outcomes.push_back(std::move(o));
  }
  size_t failed = std::count_if(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.failure != 0; });
  if (failed < outcomes.size()) settle_events();

  std::string base = base_url(req);
  JsonWriter w;
  w.start_object();
  if (!url_study.empty()) write_string_element(w, "00081190", "UR", base + "/studies/" + url_study);
  auto sequence = [&](std::string_view tag, bool failures) {
    w.key(tag).start_object().key("vr").string("SQ").key("Value").start_array();
    for (const auto& o : outcomes) {
      if ((o.failure != 0) != failures) continue;
      w.start_object();
      if (failures && !o.reason.empty()) write_string_element(w, "00000902", "LO", echo(o.reason));
      if (!o.sop_class.empty()) write_string_element(w, "00081150", "UI", o.sop_class);
      if (!o.sop_instance.empty()) write_string_element(w, "00081155", "UI", o.sop_instance);
      if (failures) {
        w.key("00081197").start_object().key("vr").string("US").key("Value").start_array().uint(o.failure);
        w.end_array().end_object();
      } else {
        write_string_element(w, "00081190", "UR",
                             base + "/studies/" + o.study + "/series/" + o.series + "/instances/" + o.sop_instance);
      }
      w.end_object();
    }
    w.end_array().end_object();
  };
  if (failed > 0) sequence("00081198", true);
  if (failed < outcomes.size()) sequence("00081199", false);
  w.end_object();
  int status = failed == 0 ? 200 : failed == outcomes.size() ? 409 : 202;
  res.send(status, *answer_type, w.text());
}

}  // namespace dicomd::dicomweb
