// Writes a realistic data set for the load comparison: 512x512 16-bit CT
// slices (~530 KB) and 2000x2500 16-bit radiographs (~10 MB), each with its
// own UIDs, smooth anatomy-like structure plus noise (not constants, which
// would compress and cache unrealistically).
//   make_dataset OUT_DIR CT_COUNT RADIOGRAPH_COUNT
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gdcmTrace.h>
#include <gdcmUIDGenerator.h>

#include "dicom_writing.h"

namespace {

using dicomd::bench::put;
using dicomd::bench::set_grey_image;

bool write_image(const std::filesystem::path& path, unsigned w, unsigned h, unsigned seed, bool ct,
                 const std::string& study_uid, const std::string& series_uid, int instance) {
  gdcm::ImageWriter writer;
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, ct ? 20 : 60);
  std::vector<int16_t> pixels(static_cast<size_t>(w) * h);
  double phase = seed * 0.37;
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) {
      double u = static_cast<double>(x) / w - 0.5, v = static_cast<double>(y) / h - 0.5;
      double body = std::exp(-(u * u + v * v) * 7) * (ct ? 1300 : 2500);
      double texture = (ct ? 150 : 400) * std::sin(u * 37 + phase) * std::cos(v * 29 - phase);
      double value = body + texture + noise(rng) + (ct ? -1000 : 500);
      pixels[static_cast<size_t>(y) * w + x] =
          static_cast<int16_t>(std::clamp(value, ct ? -1024.0 : 0.0, ct ? 3071.0 : 4095.0));
    }
  set_grey_image(writer, w, h, ct ? gdcm::PixelFormat::INT16 : gdcm::PixelFormat::UINT16, pixels.data());
  gdcm::DataSet& ds = writer.GetFile().GetDataSet();
  gdcm::UIDGenerator uid;
  put(ds, 0x0008, 0x0016, gdcm::VR::UI, ct ? "1.2.840.10008.5.1.4.1.1.2" : "1.2.840.10008.5.1.4.1.1.1.1");
  put(ds, 0x0008, 0x0018, gdcm::VR::UI, uid.Generate());
  put(ds, 0x0008, 0x0020, gdcm::VR::DA, "20261126");
  put(ds, 0x0008, 0x0060, gdcm::VR::CS, ct ? "CT" : "DX");
  put(ds, 0x0010, 0x0010, gdcm::VR::PN, "Bench^Patient");
  put(ds, 0x0010, 0x0020, gdcm::VR::LO, "BENCH001");
  put(ds, 0x0020, 0x000d, gdcm::VR::UI, study_uid);
  put(ds, 0x0020, 0x000e, gdcm::VR::UI, series_uid);
  put(ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string(instance));
  put(ds, 0x0028, 0x0030, gdcm::VR::DS, ct ? "0.7\\0.7" : "0.15\\0.15");
  put(ds, 0x0028, 0x1050, gdcm::VR::DS, ct ? "40" : "2000");
  put(ds, 0x0028, 0x1051, gdcm::VR::DS, ct ? "400" : "4000");
  if (ct) {
    put(ds, 0x0028, 0x1052, gdcm::VR::DS, "0");
    put(ds, 0x0028, 0x1053, gdcm::VR::DS, "1");
    put(ds, 0x0020, 0x0032, gdcm::VR::DS, "-180\\-180\\" + std::to_string(instance * 2.5));
  }
  writer.SetFileName(path.string().c_str());
  return writer.Write();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_dataset OUT_DIR CT_COUNT RADIOGRAPH_COUNT\n");
    return 2;
  }
  gdcm::Trace::SetWarning(false);
  std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out / "ct");
  std::filesystem::create_directories(out / "dx");
  gdcm::UIDGenerator uid;
  std::string study = uid.Generate(), ct_series = uid.Generate(), dx_series = uid.Generate();
  int cts = std::stoi(argv[2]), dxs = std::stoi(argv[3]);
  for (int i = 0; i < cts; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "CT%05d.dcm", i);
    if (!write_image(out / "ct" / name, 512, 512, static_cast<unsigned>(i), true, study, ct_series, i + 1)) return 1;
  }
  for (int i = 0; i < dxs; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "DX%03d.dcm", i);
    if (!write_image(out / "dx" / name, 2000, 2500, 1000u + i, false, study, dx_series, i + 1)) return 1;
  }
  return 0;
}
