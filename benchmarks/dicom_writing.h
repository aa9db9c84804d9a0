// Helpers the data set generators share: one element of a data set, and a
// single-frame MONOCHROME2 explicit-VR little-endian image.
#pragma once

#include <cstdint>
#include <string>

#include <gdcmImage.h>
#include <gdcmImageWriter.h>

namespace dicomd::bench {

// value padded to an even length as its VR wants (UI with NUL, else space).
inline void put(gdcm::DataSet& ds, uint16_t group, uint16_t element, const gdcm::VR& vr, std::string value) {
  if (value.size() % 2) value += vr == gdcm::VR::UI ? '\0' : ' ';
  gdcm::DataElement de(gdcm::Tag(group, element));
  de.SetVR(vr);
  de.SetByteValue(value.c_str(), static_cast<uint32_t>(value.size()));
  ds.Replace(de);
}

// `pixels` are width x height samples of `type` (16-bit), copied.
inline void set_grey_image(gdcm::ImageWriter& writer, unsigned width, unsigned height,
                           gdcm::PixelFormat::ScalarType type, const void* pixels) {
  gdcm::Image& image = writer.GetImage();
  image.SetNumberOfDimensions(2);
  image.SetDimension(0, width);
  image.SetDimension(1, height);
  image.SetPixelFormat(gdcm::PixelFormat(type));
  image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
  image.SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
  pixel_data.SetByteValue(static_cast<const char*>(pixels), static_cast<uint32_t>(width * height * 2));
  image.SetDataElement(pixel_data);
}

}  // namespace dicomd::bench
