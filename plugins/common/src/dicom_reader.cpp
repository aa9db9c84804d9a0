#include "dicom_reader.h"

#include <mutex>

#include <gdcmTrace.h>

#include "memory_stream.h"
#include "meta_header.h"

namespace dicomd::gdcm_support {

void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
    gdcm::Trace::SetDebug(false);
  });
}

bool read_full(gdcm::Reader& reader, std::string_view bytes) {
  quiet_gdcm();
  MemoryStream stream(bytes);
  reader.SetStream(stream);
  return reader.Read();
}

bool read_header(gdcm::Reader& reader, std::string_view bytes, size_t* stop_offset) {
  quiet_gdcm();
  // GDCM cannot stop part-way through a deflated data set (ReadUpToTag
  // fails): read it whole. Its pixel data is native, so no codec runs.
  auto meta = read_meta_header(bytes);
  if (meta && is_deflated_syntax(meta->transfer_syntax)) {
    if (stop_offset) *stop_offset = bytes.size();
    return read_full(reader, bytes);
  }
  MemoryStream stream(bytes);
  reader.SetStream(stream);
  const gdcm::Tag pixel_data(0x7fe0, 0x0010);
  std::set<gdcm::Tag> skip = {pixel_data};
  bool ok = reader.ReadUpToTag(pixel_data, skip);
  if (stop_offset) {
    stream.clear();
    auto pos = stream.tellg();
    *stop_offset = pos < 0 ? bytes.size() : static_cast<size_t>(pos);
  }
  return ok;
}

}  // namespace dicomd::gdcm_support
