// Writes the search benchmark's instances: small files (8x8 16-bit pixels)
// with realistic search keys — 1,000 patients with accented names, five
// studies each (20 instances in 1–3 series), six modalities, study dates
// over ten years. The first N instances of the same sequence are written,
// so a 10k set is a prefix of the 100k one.
//   make_search_dataset OUT_DIR FIRST COUNT
// writes instances FIRST..FIRST+COUNT-1 as OUT_DIR/NNNNNN.dcm.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gdcmTrace.h>

#include "dicom_writing.h"

namespace {

using dicomd::bench::put;
using dicomd::bench::set_grey_image;

constexpr int kStudiesPerPatient = 5;
constexpr int kInstancesPerStudy = 20;

const std::vector<std::string> kFamily = {
    "Müller",  "Schäfer", "Núñez",   "García", "Lefèvre", "Ångström", "Øster",    "Dvořák", "Kowalski", "Nakamura",
    "O'Brien", "Smith",   "Johnson", "Brown",  "Łukasik", "Jérôme",   "Beaulieu", "Göbel",  "Çelik",    "Søren",
    "Martin",  "Bernard", "Dubois",  "Rossi",  "Russo",   "Ferrari",  "Esposito", "Novák",  "Horváth",  "Nagy",
    "Kim",     "Lee",     "Park",    "Wang",   "Li",      "Zhang",    "Sato",     "Suzuki", "Andersen", "Hansen"};
const std::vector<std::string> kGiven = {"Anna",  "Élodie", "José",   "Zoë",   "Björn", "Chloé",  "Jürgen",
                                         "Renée", "Søren",  "Ingrid", "Klaus", "Marie", "Thomas", "Lucía",
                                         "Paul",  "Noémie", "Ömer",   "Kenji", "Yuki",  "Hélène", "Pedro",
                                         "Sara",  "Ivan",   "Olga",   "Mateus"};
const char* kModalities[] = {"CT", "MR", "US", "CR", "DX", "MG"};
const char* kSopClasses[] = {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4",   "1.2.840.10008.5.1.4.1.1.6.1",
                             "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2"};
const char* kBodyParts[] = {"CHEST", "HEAD", "ABDOMEN", "KNEE", "HAND", "BREAST"};

// YYYYMMDD of day `n` after 2016-01-01.
std::string date_after(int n) {
  using namespace std::chrono;
  year_month_day d{sys_days{year{2016} / January / 1} + days{n}};
  char out[16];
  std::snprintf(out, sizeof out, "%04d%02u%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return out;
}

bool write_instance(const std::filesystem::path& path, int index) {
  int study = index / kInstancesPerStudy, in_study = index % kInstancesPerStudy;
  int patient = study / kStudiesPerPatient;
  int series_count = 1 + study % 3;
  int series = in_study % series_count;
  int modality = (study + series) % 6;
  std::string root = "1.2.826.0.1.3680043.10.543.";
  std::string study_uid = root + std::to_string(study + 1);
  std::string series_uid = study_uid + "." + std::to_string(series + 1);

  gdcm::ImageWriter writer;
  std::vector<uint16_t> pixels(64, static_cast<uint16_t>(index));
  set_grey_image(writer, 8, 8, gdcm::PixelFormat::UINT16, pixels.data());
  gdcm::DataSet& ds = writer.GetFile().GetDataSet();
  put(ds, 0x0008, 0x0005, gdcm::VR::CS, "ISO_IR 192");
  put(ds, 0x0008, 0x0016, gdcm::VR::UI, kSopClasses[modality]);
  put(ds, 0x0008, 0x0018, gdcm::VR::UI, series_uid + "." + std::to_string(in_study + 1));
  put(ds, 0x0008, 0x0020, gdcm::VR::DA, date_after((study * 37) % 3650));
  put(ds, 0x0008, 0x0030, gdcm::VR::TM, std::to_string(100000 + (study * 7919) % 90000));
  put(ds, 0x0008, 0x0050, gdcm::VR::SH, std::string("A") + std::to_string(1000000 + study));
  put(ds, 0x0008, 0x0060, gdcm::VR::CS, kModalities[modality]);
  put(ds, 0x0008, 0x0080, gdcm::VR::LO, std::string("Hôpital ") + std::to_string(study % 12));
  put(ds, 0x0008, 0x1030, gdcm::VR::LO, std::string(kModalities[modality]) + " " + kBodyParts[modality]);
  put(ds, 0x0008, 0x103e, gdcm::VR::LO, std::string("Series ") + std::to_string(series + 1));
  put(ds, 0x0010, 0x0010, gdcm::VR::PN,
      kFamily[static_cast<size_t>(patient) % kFamily.size()] + "^" +
          kGiven[static_cast<size_t>(patient / 40) % kGiven.size()]);
  put(ds, 0x0010, 0x0020, gdcm::VR::LO, std::string("P") + std::to_string(10000 + patient));
  put(ds, 0x0010, 0x0030, gdcm::VR::DA, date_after(-10000 - patient * 11));
  put(ds, 0x0010, 0x0040, gdcm::VR::CS, patient % 2 ? "F" : "M");
  put(ds, 0x0018, 0x0015, gdcm::VR::CS, kBodyParts[modality]);
  put(ds, 0x0020, 0x000d, gdcm::VR::UI, study_uid);
  put(ds, 0x0020, 0x000e, gdcm::VR::UI, series_uid);
  put(ds, 0x0020, 0x0011, gdcm::VR::IS, std::to_string(series + 1));
  put(ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string(in_study + 1));
  writer.SetFileName(path.string().c_str());
  return writer.Write();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_search_dataset OUT_DIR FIRST COUNT\n");
    return 2;
  }
  gdcm::Trace::SetWarning(false);
  std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  int first = std::stoi(argv[2]), count = std::stoi(argv[3]);
  for (int i = first; i < first + count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%06d.dcm", i);
    if (!write_instance(out / name, i)) return 1;
  }
  return 0;
}
