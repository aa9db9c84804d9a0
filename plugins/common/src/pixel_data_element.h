// Where the PixelData element (7FE0,0010) sits in a file's raw bytes, found
// from the offset at which a header-only read stopped — so that checking
// its length, or decoding native pixel data, needs no full parse and no
// copy of the pixels. Pure byte arithmetic: safe on untrusted bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::gdcm_support {

struct PixelDataElement {
  std::string vr;             // "OB", "OW", … ("OW" when the element is implicit VR)
  bool encapsulated = false;  // undefined length: items (offset table, fragments) follow
  size_t value_offset = 0;    // first byte of the value
  uint64_t length = 0;        // declared length; for encapsulated data, the bytes to the end of the file
  bool fits = true;           // false: the file ends before the declared length
};

// The element near `stop` (the offset a header read stopped at). The
// transfer syntax says whether it is big endian and explicit VR; the other
// layout is tried when the declared one does not fit (files that say
// explicit VR and are implicit, like pydicom's SC_rgb_jpeg.dcm).
// `bytes` may be the start of a file of `file_size` bytes (kWholeFile: it is
// the whole file); the element's header must lie in it, and its length and
// `fits` are reckoned against the whole file.
inline constexpr uint64_t kWholeFile = UINT64_MAX;
std::optional<PixelDataElement> locate_pixel_data(std::string_view bytes, size_t stop, bool big_endian,
                                                  bool explicit_vr, uint64_t file_size = kWholeFile);

// The fragments of encapsulated pixel data (after the basic offset table),
// as views into `bytes`; nullopt when an item header is malformed or runs
// past the end of the file.
std::optional<std::vector<std::string_view>> pixel_fragments(std::string_view bytes, const PixelDataElement& e);

}  // namespace dicomd::gdcm_support
