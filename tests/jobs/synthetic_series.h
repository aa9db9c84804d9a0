// Series for the jobs tests, written with GDCM: slices whose grey level
// grows with their position (so an animation's frame order can be read back
// from its pixels), with or without InstanceNumber, and multi-frame files.
#pragma once

#include <gdcmTrace.h>
#include <gdcmUIDGenerator.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dicom_writing.h"

namespace dicomd::test {

struct SliceSpec {
  std::string study_uid, series_uid;
  std::optional<int> instance_number;
  double z = 0;   // ImagePositionPatient's third value, axial orientation
  int level = 0;  // the slice's grey level in the window 0..1000
  unsigned width = 64, height = 64;
  unsigned frames = 1;  // > 1: a multi-frame file, frame k at level + k
};

inline SliceSpec slice_of(const std::string& study_uid, const std::string& series_uid) {
  SliceSpec s;
  s.study_uid = study_uid;
  s.series_uid = series_uid;
  return s;
}

inline std::string make_slice(const SliceSpec& s) {
  using dicomd::bench::put;
  gdcm::Trace::SetWarning(false);  // its notes on what the writer fills in
  gdcm::ImageWriter writer;
  std::vector<int16_t> pixels(static_cast<size_t>(s.width) * s.height * s.frames);
  for (unsigned f = 0; f < s.frames; ++f)
    for (size_t i = 0; i < static_cast<size_t>(s.width) * s.height; ++i)
      pixels[f * s.width * s.height + i] = static_cast<int16_t>(s.level + static_cast<int>(f) + (i % 7));
  gdcm::Image& image = writer.GetImage();
  dicomd::bench::set_grey_image(writer, s.width, s.height, gdcm::PixelFormat::INT16, pixels.data());
  if (s.frames > 1) {
    image.SetNumberOfDimensions(3);
    image.SetDimension(2, s.frames);
    gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
    pixel_data.SetByteValue(reinterpret_cast<const char*>(pixels.data()), static_cast<uint32_t>(pixels.size() * 2));
    image.SetDataElement(pixel_data);
  }
  // GDCM writes Image Position (Patient) from the image's origin.
  image.SetOrigin(0, 0.0);
  image.SetOrigin(1, 0.0);
  image.SetOrigin(2, s.z);
  gdcm::DataSet& ds = writer.GetFile().GetDataSet();
  gdcm::UIDGenerator uid;
  put(ds, 0x0008, 0x0016, gdcm::VR::UI, "1.2.840.10008.5.1.4.1.1.2");
  put(ds, 0x0008, 0x0018, gdcm::VR::UI, uid.Generate());
  put(ds, 0x0008, 0x0060, gdcm::VR::CS, "CT");
  put(ds, 0x0010, 0x0010, gdcm::VR::PN, "Jobs^Test");
  put(ds, 0x0010, 0x0020, gdcm::VR::LO, "JOBS1");
  put(ds, 0x0020, 0x000d, gdcm::VR::UI, s.study_uid);
  put(ds, 0x0020, 0x000e, gdcm::VR::UI, s.series_uid);
  if (s.instance_number) put(ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string(*s.instance_number));
  put(ds, 0x0020, 0x0032, gdcm::VR::DS, "0\\0\\" + std::to_string(s.z));
  put(ds, 0x0020, 0x0037, gdcm::VR::DS, "1\\0\\0\\0\\1\\0");
  put(ds, 0x0028, 0x1050, gdcm::VR::DS, "500");
  put(ds, 0x0028, 0x1051, gdcm::VR::DS, "1000");
  std::ostringstream out;
  writer.SetStream(out);
  if (!writer.Write()) throw std::runtime_error("cannot write a test slice");
  return out.str();
}

inline std::string new_uid() {
  gdcm::UIDGenerator uid;
  return uid.Generate();
}

}  // namespace dicomd::test
