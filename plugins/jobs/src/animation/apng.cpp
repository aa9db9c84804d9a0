// APNG (the PNG spec, 3rd edition): the first frame's IHDR, an acTL naming
// the frame count, then per frame an fcTL and its image data — IDAT for the
// first frame, which plain PNG readers show, fdAT (a sequence number and the
// same bytes) for the others. A rendered frame's IDAT data is reused as it
// is: no frame is decoded or compressed again.
#include <libdeflate.h>

#include <cstring>
#include <vector>
#include <stdexcept>

#include "encoder.h"

namespace dicomd::jobs {
namespace {

constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void put32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

uint32_t get32(const std::string& in, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data() + at);
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void put_chunk(std::string& out, std::string_view type, std::string_view data) {
  put32(out, static_cast<uint32_t>(data.size()));
  size_t start = out.size();
  out += type;
  out += data;
  put32(out, libdeflate_crc32(0, out.data() + start, out.size() - start));
}

struct Chunk {
  std::string_view type, data;
};

// The chunks of a PNG, checked for length; throws on a truncated one.
std::vector<Chunk> chunks_of(const std::string& png) {
  if (png.size() < 8 || std::memcmp(png.data(), kSignature, 8) != 0)
    throw std::runtime_error("a rendered frame is not a PNG");
  std::vector<Chunk> out;
  for (size_t at = 8; at < png.size();) {
    if (png.size() - at < 12) throw std::runtime_error("a rendered frame is truncated");
    uint32_t length = get32(png, at);
    if (length > png.size() - at - 12) throw std::runtime_error("a rendered frame is truncated");
    std::string_view view(png);
    out.push_back({view.substr(at + 4, 4), view.substr(at + 8, length)});
    at += 12 + length;
  }
  return out;
}

class ApngEncoder : public AnimationEncoder {
 public:
  ApngEncoder(uint32_t frame_count, uint32_t fps) : frame_count_(frame_count), fps_(fps) {}

  void add(const Frame& frame) override {
    if (added_ == frame_count_) throw std::runtime_error("more frames than announced");
    auto chunks = chunks_of(frame.png);
    if (chunks.empty() || chunks[0].type != "IHDR" || chunks[0].data.size() != 13)
      throw std::runtime_error("a rendered frame has no IHDR");
    if (chunks[0].data[12] != 0) throw std::runtime_error("an interlaced frame cannot be animated");
    if (added_ == 0) {
      ihdr_ = chunks[0].data;
      out_.append(reinterpret_cast<const char*>(kSignature), 8);
      put_chunk(out_, "IHDR", ihdr_);
      std::string actl;
      put32(actl, frame_count_);
      put32(actl, 0);  // loop for ever
      put_chunk(out_, "acTL", actl);
    } else if (chunks[0].data != ihdr_) {
      throw std::runtime_error("the frames differ in size or colour type");
    }
    std::string fctl;
    put32(fctl, sequence_++);
    put32(fctl, get32(ihdr_, 0));  // the whole canvas
    put32(fctl, get32(ihdr_, 4));
    put32(fctl, 0);  // x offset
    put32(fctl, 0);  // y offset
    put16(fctl, 1);  // delay: 1 / fps seconds
    put16(fctl, static_cast<uint16_t>(fps_));
    fctl += '\0';  // dispose: none
    fctl += '\0';  // blend: source (each frame replaces the last)
    put_chunk(out_, "fcTL", fctl);
    for (const auto& c : chunks) {
      if (c.type != "IDAT") continue;
      if (added_ == 0) {
        put_chunk(out_, "IDAT", c.data);
      } else {
        std::string fdat;
        fdat.reserve(4 + c.data.size());
        put32(fdat, sequence_++);
        fdat += c.data;
        put_chunk(out_, "fdAT", fdat);
      }
    }
    ++added_;
  }

  std::string finish() override {
    if (added_ != frame_count_) throw std::runtime_error("fewer frames than announced");
    put_chunk(out_, "IEND", "");
    return std::move(out_);
  }

 private:
  uint32_t frame_count_, fps_;
  uint32_t added_ = 0, sequence_ = 0;
  std::string ihdr_;
  std::string out_;
};

}  // namespace

std::unique_ptr<AnimationEncoder> make_apng_encoder(uint32_t frame_count, uint32_t fps) {
  return std::make_unique<ApngEncoder>(frame_count, fps);
}

}  // namespace dicomd::jobs
