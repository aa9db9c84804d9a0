// Synthetic DICOM images for the Google Benchmark programs: 16-bit
// MONOCHROME2 with anatomy-like smooth structure plus noise, written with GDCM.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gdcmImage.h>
#include <gdcmImageWriter.h>

namespace dicomd::bench {

// A 16-bit MONOCHROME2 image with anatomy-like smooth structure plus noise.
inline std::string make_dicom(unsigned width, unsigned height, double center, double window_width) {
  gdcm::ImageWriter writer;
  gdcm::Image& image = writer.GetImage();
  image.SetNumberOfDimensions(2);
  image.SetDimension(0, width);
  image.SetDimension(1, height);
  image.SetPixelFormat(gdcm::PixelFormat(gdcm::PixelFormat::INT16));
  image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
  image.SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  std::vector<int16_t> pixels(static_cast<size_t>(width) * height);
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 25);
  for (unsigned y = 0; y < height; ++y)
    for (unsigned x = 0; x < width; ++x) {
      double u = static_cast<double>(x) / width - 0.5, v = static_cast<double>(y) / height - 0.5;
      double body = std::exp(-(u * u + v * v) * 8) * 1400 + 300 * std::sin(u * 40) * std::cos(v * 30);
      pixels[static_cast<size_t>(y) * width + x] =
          static_cast<int16_t>(std::clamp(body + noise(rng) - 1000, -1024.0, 3000.0));
    }
  gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
  pixel_data.SetByteValue(reinterpret_cast<const char*>(pixels.data()), static_cast<uint32_t>(pixels.size() * 2));
  image.SetDataElement(pixel_data);
  gdcm::DataSet& ds = writer.GetFile().GetDataSet();
  auto put = [&](uint16_t g, uint16_t e, const gdcm::VR& vr, const std::string& value) {
    gdcm::DataElement de(gdcm::Tag(g, e));
    de.SetVR(vr);
    de.SetByteValue(value.c_str(), static_cast<uint32_t>(value.size()));
    ds.Replace(de);
  };
  put(0x0028, 0x1050, gdcm::VR::DS, std::to_string(static_cast<int>(center)) + " ");
  put(0x0028, 0x1051, gdcm::VR::DS, std::to_string(static_cast<int>(window_width)) + " ");
  std::ostringstream out;
  writer.SetStream(out);
  if (!writer.Write()) throw std::runtime_error("cannot write the benchmark image");
  return out.str();
}

}  // namespace dicomd::bench
