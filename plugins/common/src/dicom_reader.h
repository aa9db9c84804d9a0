// Reading DICOM bytes with GDCM, quietly. Debian's GDCM is built with
// assert() enabled and aborts on some malformed input: call read_full() on
// untrusted bytes only inside an isolated worker process.
#pragma once

#include <string>
#include <string_view>

#include <gdcmReader.h>

namespace dicomd::gdcm_support {

// Silences GDCM's own warnings and errors (once per process).
void quiet_gdcm();

// Reads the whole data set, pixel data included. False when GDCM cannot.
bool read_full(gdcm::Reader& reader, std::string_view bytes);
// Reads everything before the pixel data (whose value is skipped). When
// given, *stop_offset receives how far into `bytes` the read went. A
// deflated data set is read whole (*stop_offset is then the file's size).
bool read_header(gdcm::Reader& reader, std::string_view bytes, size_t* stop_offset = nullptr);

}  // namespace dicomd::gdcm_support
