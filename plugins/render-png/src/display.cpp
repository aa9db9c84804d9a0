#include "display.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "decode.h"

namespace dicomd::render {
namespace {

constexpr int64_t kMaxLutSpan = 1 << 22;  // stored-value range below which a table pays

uint8_t clamp8(double v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

// Stored values of one sample type, masked to BitsStored and sign-extended.
// A template so that the per-pixel loop has no branch on the sample size.
template <class Raw>
void extract(const char* p, size_t n, int shift, int bits, bool is_signed, int32_t* out) {
  const uint64_t mask = bits >= 32 ? 0xffffffffull : ((1ull << bits) - 1);
  const int64_t sign_bit = int64_t{1} << (bits - 1), wrap = int64_t{1} << bits;
  for (size_t i = 0; i < n; ++i) {
    Raw raw;
    std::memcpy(&raw, p + i * sizeof(Raw), sizeof(Raw));
    int64_t v = static_cast<int64_t>((static_cast<uint64_t>(raw) >> shift) & mask);
    if (is_signed && (v & sign_bit)) v -= wrap;
    out[i] = static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
  }
}

// The stored values of a grey frame, masked to BitsStored and sign-extended.
std::vector<int32_t> stored_values(const Frame& f) {
  size_t n = static_cast<size_t>(f.width) * f.height;
  std::vector<int32_t> out(n);
  const char* p = f.bytes().data();
  if (f.bits_allocated == 1) {
    for (size_t i = 0; i < n; ++i) out[i] = (static_cast<uint8_t>(p[i / 8]) >> (i % 8)) & 1;
    return out;
  }
  // HighBit and BitsStored come from the file: shifts stay below the sample width.
  int shift = std::clamp(f.high_bit + 1 - f.bits_stored, 0, 31);
  int bits = std::clamp<int>(f.bits_stored, 1, 32);
  if (f.bits_allocated == 8)
    extract<uint8_t>(p, n, shift, bits, f.is_signed, out.data());
  else if (f.bits_allocated == 16)
    extract<uint16_t>(p, n, shift, bits, f.is_signed, out.data());
  else
    extract<uint32_t>(p, n, shift, bits, f.is_signed, out.data());
  return out;
}

double modality(const Frame& f, int32_t stored) {
  if (f.modality_lut) return f.modality_lut->at(stored);
  return stored * f.slope + f.intercept;
}

}  // namespace

double apply_window(const Window& w, double x) {
  const double c = w.center, width = w.width;
  if (w.function == "SIGMOID") return 255.0 / (1.0 + std::exp(-4.0 * (x - c) / width));
  if (w.function == "LINEAR_EXACT") {
    if (x <= c - width / 2) return 0;
    if (x > c + width / 2) return 255;
    return ((x - c) / width + 0.5) * 255.0;
  }
  if (width <= 1) return x < c - 0.5 ? 0 : 255;  // LINEAR needs width >= 1
  if (x <= c - 0.5 - (width - 1) / 2) return 0;
  if (x > c - 0.5 + (width - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (width - 1) + 0.5) * 255.0;
}

namespace {

// Maps modality values to 0..255 by the chosen VOI; `lo`/`hi` is the frame's
// modality range for the min-max fallback.
struct Voi {
  std::optional<Window> window;
  const Lut* lut = nullptr;
  double lo = 0, hi = 0;
  bool invert = false;

  uint8_t operator()(double x) const {
    double y;
    if (window) {
      y = apply_window(*window, x);
    } else if (lut) {
      double max = lut->bits >= 16 ? 65535.0 : (1 << lut->bits) - 1;
      y = lut->at(x) * 255.0 / max;
    } else if (hi > lo) {
      y = (x - lo) * 255.0 / (hi - lo);
    } else {
      y = 0;
    }
    return invert ? 255 - clamp8(y) : clamp8(y);
  }
};

// The stored value a raw 8/16-bit sample stands for.
int32_t stored_of(uint32_t raw, const Frame& f) {
  int shift = std::clamp(f.high_bit + 1 - f.bits_stored, 0, 15);
  int bits = std::clamp<int>(f.bits_stored, 1, 16);
  int32_t v = static_cast<int32_t>((raw >> shift) & ((1u << bits) - 1));
  if (f.is_signed && (v & (1 << (bits - 1)))) v -= 1 << bits;
  return v;
}

Voi choose_voi(const Frame& f, const RenderOptions& o, int32_t smin, int32_t smax) {
  Voi voi;
  voi.invert = f.photometric == "MONOCHROME1";
  if (o.window)
    voi.window = o.window;
  else if (!f.windows.empty())
    voi.window = f.windows.front();
  else if (f.voi_lut)
    voi.lut = &*f.voi_lut;
  if (!voi.window && !voi.lut) {  // min-max of the frame's modality values
    double a = modality(f, smin), b = a;
    for (int64_t s = smin; s <= smax && s - smin < kMaxLutSpan; ++s) {  // a LUT need not be monotonic
      double m = modality(f, static_cast<int32_t>(s));
      a = std::min(a, m);
      b = std::max(b, m);
      if (!f.modality_lut) {
        double last = modality(f, smax);
        a = std::min(a, last);
        b = std::max(b, last);
        break;
      }
    }
    voi.lo = a;
    voi.hi = b;
  }
  return voi;
}

void put16(Image& img, size_t i, double modality_value) {
  long v = std::clamp(std::lround(modality_value), 0L, 65535L);
  img.data[2 * i] = static_cast<uint8_t>(v >> 8);
  img.data[2 * i + 1] = static_cast<uint8_t>(v & 0xff);
}

// 8- and 16-bit samples: one table indexed by the raw sample does masking,
// sign, Modality LUT, VOI and inversion at once; one pass over the pixels.
template <class Raw>
Image grey_by_table(const Frame& f, const RenderOptions& o) {
  size_t n = static_cast<size_t>(f.width) * f.height;
  const char* p = f.bytes().data();
  constexpr uint32_t kValues = 1u << (8 * sizeof(Raw));
  int32_t smin = INT32_MAX, smax = INT32_MIN;
  // Which raw values occur: the table is built for those only. A large
  // frame whose window is known (the request's, the file's or its VOI LUT)
  // needs no range: building the table for every raw value then costs less
  // than a pass over the pixels to find them (a 2000x2500 radiograph: 5
  // million samples against 65,536 entries).
  bool range_needed = o.bits == 16 || (!o.window && f.windows.empty() && !f.voi_lut);
  std::vector<uint8_t> seen(kValues, range_needed || n < 16 * kValues ? 0 : 1);
  if (!seen[0])
    for (size_t i = 0; i < n; ++i) {
      Raw raw;
      std::memcpy(&raw, p + i * sizeof(Raw), sizeof(Raw));
      seen[raw] = 1;
    }
  for (uint32_t r = 0; r < kValues; ++r)
    if (seen[r]) {
      int32_t s = stored_of(r, f);
      smin = std::min(smin, s);
      smax = std::max(smax, s);
    }
  if (n == 0) smin = smax = 0;
  Image img{f.width, f.height, 1, static_cast<uint8_t>(o.bits == 16 ? 16 : 8), {}};
  if (o.bits == 16) {
    img.data.resize(n * 2);
    for (size_t i = 0; i < n; ++i) {
      Raw raw;
      std::memcpy(&raw, p + i * sizeof(Raw), sizeof(Raw));
      put16(img, i, modality(f, stored_of(raw, f)));
    }
    return img;
  }
  Voi voi = choose_voi(f, o, smin, smax);
  std::vector<uint8_t> table(kValues);
  for (uint32_t r = 0; r < kValues; ++r)
    if (seen[r]) table[r] = voi(modality(f, stored_of(r, f)));
  img.data.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Raw raw;
    std::memcpy(&raw, p + i * sizeof(Raw), sizeof(Raw));
    img.data[i] = table[raw];
  }
  return img;
}

Image grey(const Frame& f, const RenderOptions& o) {
  if (f.bits_allocated == 8) return grey_by_table<uint8_t>(f, o);
  if (f.bits_allocated == 16) return grey_by_table<uint16_t>(f, o);
  std::vector<int32_t> stored = stored_values(f);  // 1- and 32-bit samples
  auto [min_it, max_it] = std::minmax_element(stored.begin(), stored.end());
  int32_t smin = stored.empty() ? 0 : *min_it, smax = stored.empty() ? 0 : *max_it;
  Image img{f.width, f.height, 1, static_cast<uint8_t>(o.bits == 16 ? 16 : 8), {}};
  size_t n = stored.size();
  if (o.bits == 16) {
    img.data.resize(n * 2);
    for (size_t i = 0; i < n; ++i) put16(img, i, modality(f, stored[i]));
    return img;
  }
  Voi voi = choose_voi(f, o, smin, smax);
  img.data.resize(n);
  int64_t span = static_cast<int64_t>(smax) - smin + 1;
  if (span <= kMaxLutSpan) {  // one table over the stored range: ~10x cheaper than per-pixel math
    std::vector<uint8_t> table(static_cast<size_t>(span));
    for (int64_t s = 0; s < span; ++s) table[static_cast<size_t>(s)] = voi(modality(f, static_cast<int32_t>(smin + s)));
    for (size_t i = 0; i < n; ++i) img.data[i] = table[static_cast<size_t>(stored[i] - smin)];
  } else {
    for (size_t i = 0; i < n; ++i) img.data[i] = voi(modality(f, stored[i]));
  }
  return img;
}

// An 8-bit output of a LUT whose entries have `lut.bits` bits. The bit
// count comes from the file: entries are 16-bit, so it is clamped to 16
// (a shift of 32 or more would be undefined behaviour).
uint8_t lut8(const Lut& lut, int32_t index) {
  uint16_t v = lut.at(index);
  uint32_t bits = std::min<uint32_t>(lut.bits, 16);
  return bits > 8 ? static_cast<uint8_t>(v >> (bits - 8)) : static_cast<uint8_t>(v);
}

Image palette(const Frame& f) {
  if (!f.red || !f.green || !f.blue) throw NotRenderable("PALETTE COLOR image without its lookup tables");
  std::vector<int32_t> index = stored_values(f);
  Image img{f.width, f.height, 3, 8, {}};
  img.data.resize(index.size() * 3);
  for (size_t i = 0; i < index.size(); ++i) {
    img.data[3 * i] = lut8(*f.red, index[i]);
    img.data[3 * i + 1] = lut8(*f.green, index[i]);
    img.data[3 * i + 2] = lut8(*f.blue, index[i]);
  }
  return img;
}

// Sample k (0..2) of pixel i, scaled to 8 bits.
uint8_t sample8(const Frame& f, size_t i, int k, size_t n) {
  size_t index = f.planar ? k * n + i : 3 * i + k;
  if (f.bits_allocated == 8) return static_cast<uint8_t>(f.bytes()[index]);
  uint32_t v;
  if (f.bits_allocated == 16) {
    uint16_t v16;
    std::memcpy(&v16, f.bytes().data() + 2 * index, 2);
    v = v16;
  } else {
    std::memcpy(&v, f.bytes().data() + 4 * index, 4);
  }
  int shift = std::clamp(static_cast<int>(f.bits_stored) - 8, 0, 24);
  return static_cast<uint8_t>(std::min<uint32_t>(v >> shift, 255));
}

void ycbcr_to_rgb(double y, double cb, double cr, bool partial, uint8_t* out) {
  if (partial) {
    y = 1.1644 * (y - 16);
    out[0] = clamp8(y + 1.5960 * (cr - 128));
    out[1] = clamp8(y - 0.3917 * (cb - 128) - 0.8129 * (cr - 128));
    out[2] = clamp8(y + 2.0172 * (cb - 128));
    return;
  }
  out[0] = clamp8(y + 1.402 * (cr - 128));
  out[1] = clamp8(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  out[2] = clamp8(y + 1.772 * (cb - 128));
}

bool is_subsampled_ybr(const Frame& f) {
  size_t n = static_cast<size_t>(f.width) * f.height;
  return f.samples == 3 && f.bits_allocated == 8 &&
         (f.photometric == "YBR_FULL_422" || f.photometric == "YBR_PARTIAL_422") && f.bytes().size() < n * 3;
}

Image color(const Frame& f) {
  if (f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32)
    throw NotRenderable("unsupported colour bit depth");
  size_t n = static_cast<size_t>(f.width) * f.height;
  Image img{f.width, f.height, 3, 8, {}};
  img.data.resize(n * 3);
  const std::string& pi = f.photometric;
  bool subsampled = is_subsampled_ybr(f);
  if (subsampled) {  // uncompressed 4:2:2: Y0 Y1 Cb Cr for each pair of pixels
    const auto* p = reinterpret_cast<const uint8_t*>(f.bytes().data());
    for (uint32_t row = 0; row < f.height; ++row)
      for (uint32_t col = 0; col < f.width; ++col) {
        size_t pair = (static_cast<size_t>(row) * f.width + col) / 2;
        const uint8_t* q = p + 4 * pair;
        size_t i = static_cast<size_t>(row) * f.width + col;
        ycbcr_to_rgb(q[col % 2], q[2], q[3], pi == "YBR_PARTIAL_422", &img.data[3 * i]);
      }
    return img;
  }
  bool ybr = pi == "YBR_FULL" || pi == "YBR_FULL_422" || pi == "YBR_PARTIAL_422" || pi == "YBR_PARTIAL_420";
  bool partial = pi.rfind("YBR_PARTIAL", 0) == 0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t a = sample8(f, i, 0, n), b = sample8(f, i, 1, n), c = sample8(f, i, 2, n);
    if (ybr) {
      ycbcr_to_rgb(a, b, c, partial, &img.data[3 * i]);
    } else {  // RGB, and YBR_ICT/YBR_RCT, which the JPEG 2000 decoder already turned into RGB
      img.data[3 * i] = a;
      img.data[3 * i + 1] = b;
      img.data[3 * i + 2] = c;
    }
  }
  return img;
}

// Bytes the pipeline will read for this frame's shape.
size_t required_bytes(const Frame& f, bool subsampled_ybr) {
  size_t n = static_cast<size_t>(f.width) * f.height;
  if (f.bits_allocated == 1) return (n + 7) / 8;
  if (subsampled_ybr) return (n + 1) / 2 * 4;  // Y0 Y1 Cb Cr per pair of pixels
  return n * f.samples * (f.bits_allocated / 8);
}

}  // namespace

Image to_display(const Frame& f, const RenderOptions& o) {
  // Whatever the decoder produced, never read past it.
  if (f.bytes().size() < required_bytes(f, is_subsampled_ybr(f)))
    throw NotRenderable("the decoded pixel data is shorter than the image size");
  if (f.samples == 3 && f.bits_allocated == 1) throw NotRenderable("unsupported colour bit depth");
  Image img;
  if (f.photometric == "PALETTE COLOR" && f.samples == 1) {
    if (o.bits == 16) throw BadRequest("bits=16 applies to grey images only");
    img = palette(f);
  } else if (f.samples == 3) {
    if (o.bits == 16) throw BadRequest("bits=16 applies to grey images only");
    img = color(f);
  } else {
    img = grey(f, o);
  }
  return o.size ? fit_within(img, o.size) : img;
}

namespace {

// Each output pixel is the rounded mean of its source box: rows
// [y0, y1) and columns [x0, x1), the boxes tiling the image.
struct BoxTiling {
  std::vector<size_t> first, end;  // per output index: [first, end) in the source
  BoxTiling(size_t source, size_t out) : first(out), end(out) {
    for (size_t o = 0; o < out; ++o) {
      first[o] = o * source / out;
      end[o] = std::max(first[o] + 1, (o + 1) * source / out);
    }
  }
};

// 8-bit samples (the display's usual case): the rows of a box band are
// added into per-column sums first, a loop the compiler vectorises, then
// each box adds its columns — the same sums as box by box, at a fraction of
// the reads.
void fit_8bit(const Image& src, Image& out) {
  BoxTiling rows(src.height, out.height), columns(src.width, out.width);
  const size_t ch = src.channels, line = static_cast<size_t>(src.width) * ch;
  std::vector<uint32_t> sums(line);
  for (uint32_t oy = 0; oy < out.height; ++oy) {
    std::fill(sums.begin(), sums.end(), 0);
    for (size_t y = rows.first[oy]; y < rows.end[oy]; ++y) {
      const uint8_t* row = &src.data[y * line];
      for (size_t i = 0; i < line; ++i) sums[i] += row[i];
    }
    const uint64_t height = rows.end[oy] - rows.first[oy];
    uint8_t* d = &out.data[static_cast<size_t>(oy) * out.width * ch];
    for (uint32_t ox = 0; ox < out.width; ++ox) {
      const uint64_t count = height * (columns.end[ox] - columns.first[ox]);
      for (size_t k = 0; k < ch; ++k) {
        uint64_t sum = 0;
        for (size_t x = columns.first[ox]; x < columns.end[ox]; ++x) sum += sums[x * ch + k];
        *d++ = static_cast<uint8_t>((sum + count / 2) / count);
      }
    }
  }
}

void fit_16bit(const Image& src, Image& out) {
  BoxTiling rows(src.height, out.height), columns(src.width, out.width);
  const size_t px = src.channels * 2u;
  for (uint32_t oy = 0; oy < out.height; ++oy)
    for (uint32_t ox = 0; ox < out.width; ++ox)
      for (int k = 0; k < src.channels; ++k) {
        uint64_t sum = 0;
        for (size_t y = rows.first[oy]; y < rows.end[oy]; ++y)
          for (size_t x = columns.first[ox]; x < columns.end[ox]; ++x) {
            const uint8_t* p = &src.data[(y * src.width + x) * px + k * 2];
            sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
          }
        uint64_t count = (rows.end[oy] - rows.first[oy]) * (columns.end[ox] - columns.first[ox]);
        uint32_t avg = static_cast<uint32_t>((sum + count / 2) / count);
        uint8_t* d = &out.data[(static_cast<size_t>(oy) * out.width + ox) * px + k * 2];
        d[0] = static_cast<uint8_t>(avg >> 8);
        d[1] = static_cast<uint8_t>(avg);
      }
}

}  // namespace

Image fit_within(const Image& src, uint32_t size) {
  if (src.width <= size && src.height <= size) return src;
  double scale = std::min(static_cast<double>(size) / src.width, static_cast<double>(size) / src.height);
  uint32_t ow = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(src.width * scale)));
  uint32_t oh = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(src.height * scale)));
  Image out{ow, oh, src.channels, src.depth, {}};
  out.data.resize(static_cast<size_t>(ow) * oh * src.channels * (src.depth / 8));
  if (src.depth == 8)
    fit_8bit(src, out);
  else
    fit_16bit(src, out);
  return out;
}

}  // namespace dicomd::render
