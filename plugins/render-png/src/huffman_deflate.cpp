#include "huffman_deflate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <queue>

namespace dicomd::render {
namespace {

constexpr size_t kBlockBytes = 1 << 20;  // one Huffman code per MiB of input
constexpr int kLiteralBits = 15, kCodeLengthBits = 7;
constexpr uint32_t kEndOfBlock = 256;
constexpr size_t kLengthCodes = 286;          // literals, end of block, 29 length codes
constexpr size_t kMinRun = 3, kMaxRun = 258;  // DEFLATE's shortest and longest match

// Length code (257..285) of a match length, with its extra bits (RFC 1951 3.2.5).
struct LengthCode {
  uint16_t symbol;
  uint8_t extra_bits;
  uint16_t extra;
};
LengthCode compute_length_code(size_t length) {
  static constexpr uint16_t kBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                         31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static constexpr uint8_t kExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  size_t i = 28;
  while (kBase[i] > length) --i;
  return {static_cast<uint16_t>(257 + i), kExtra[i], static_cast<uint16_t>(length - kBase[i])};
}
const LengthCode& length_code(size_t length) {  // kMinRun <= length <= kMaxRun
  static const auto table = [] {
    std::array<LengthCode, kMaxRun + 1> t{};
    for (size_t n = kMinRun; n <= kMaxRun; ++n) t[n] = compute_length_code(n);
    return t;
  }();
  return table[length];
}

// Length of the run of `value` at `p` (its first kMinRun bytes known to
// match), at most `limit`: eight bytes compared at a time, the first that
// differs found by counting trailing zero bits.
size_t run_length(const unsigned char* p, size_t limit, unsigned char value) {
  size_t n = kMinRun;
  if constexpr (std::endian::native == std::endian::little) {
    const uint64_t pattern = 0x0101010101010101ull * value;
    while (n + 8 <= limit) {
      uint64_t word;
      std::memcpy(&word, p + n, 8);
      if (uint64_t differ = word ^ pattern) return n + static_cast<size_t>(std::countr_zero(differ)) / 8;
      n += 8;
    }
  }
  while (n < limit && p[n] == value) ++n;
  return n;
}

// Where, among the 6 positions from `p` on, a run could start: bit 8k+7
// is set when p[k], p[k+1] and p[k+2] each equal the byte before them (so
// all equal p[k-1]). Eight bytes are compared with the eight before them at
// once; `zero` has 0x80 in each byte of the difference that is zero.
uint64_t run_starts(const unsigned char* p) {
  uint64_t here, before;
  std::memcpy(&here, p, 8);
  std::memcpy(&before, p - 1, 8);
  const uint64_t x = here ^ before, low7 = 0x7f7f7f7f7f7f7f7full;
  const uint64_t zero = ~(((x & low7) + low7) | x | low7);
  return zero & (zero >> 8) & (zero >> 16);
}

// Splits data[begin, end) into literals and runs: where the next kMinRun
// bytes all equal the byte before them, a run of copies at distance 1.
// Noisy data has few runs: six positions at a time are cleared by one
// word comparison (run_starts), and only a position that may start a run
// is looked at byte by byte.
template <class Literal, class Run>
void for_each_token(std::string_view data, size_t begin, size_t end, Literal&& literal, Run&& run) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = begin;
  if (i == 0 && i < end) literal(p[i++]);  // no byte before the first: no run
  while (i < end) {
    if constexpr (std::endian::native == std::endian::little) {
      while (i + 8 <= end) {
        uint64_t starts = run_starts(p + i);
        size_t literals = starts ? static_cast<size_t>(std::countr_zero(starts)) / 8 : 6;
        for (size_t k = 0; k < literals; ++k) literal(p[i + k]);
        i += literals;
        if (starts) break;  // a run starts at i
      }
      if (i >= end) break;
    }
    if (i + kMinRun <= end) {
      const unsigned char previous = p[i - 1];
      if ((p[i] == previous) & (p[i + 1] == previous) & (p[i + 2] == previous)) {
        size_t n = run_length(p + i, std::min(kMaxRun, end - i), previous);
        run(i, n);
        i += n;
        continue;
      }
    }
    literal(p[i]);
    ++i;
  }
}

// The order in which a dynamic block gives the code-length code's lengths.
constexpr std::array<uint8_t, 19> kCodeLengthOrder = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// LSB-first bit packing, as DEFLATE wants. The accumulator is a local copy
// of `state` (written back by sync()), and whole words go to a small staging
// array before `out`: the per-symbol path is a shift, an or and, every 32
// bits, one store, with no string bookkeeping.
class BitWriter {
 public:
  BitWriter(std::string& out, DeflateRunsStream::Bits& state)
      : out_(out), state_(state), acc_(state.acc), used_(state.used) {}
  BitWriter(const BitWriter&) = delete;
  BitWriter& operator=(const BitWriter&) = delete;
  ~BitWriter() { sync(); }

  void put(uint32_t bits, int count) {  // count <= 32
    acc_ |= static_cast<uint64_t>(bits) << used_;
    used_ += count;
    if (used_ >= 32) {
      for (int b = 0; b < 4; ++b) staged_[staged_count_ + b] = static_cast<char>(acc_ >> (8 * b));
      staged_count_ += 4;
      acc_ >>= 32;
      used_ -= 32;
      if (staged_count_ == sizeof staged_) drain();
    }
  }
  // Codes p[from, to) as literals, `table` holding code | length << 16 of
  // each byte: the hot loop of the encoder, on locals the compiler keeps in
  // registers (the staging stores are char stores, which may alias members).
  void put_literals(const unsigned char* p, size_t from, size_t to, const std::array<uint32_t, 256>& table) {
    uint64_t acc = acc_;
    int used = used_;
    size_t staged = staged_count_;
    auto add = [&](uint32_t entry) {
      acc |= static_cast<uint64_t>(entry & 0xffff) << used;
      used += static_cast<int>(entry >> 16);
    };
    auto spill_if_full = [&] {  // a whole 32-bit word to the staging array
      if (used < 32) return;
      for (int b = 0; b < 4; ++b) staged_[staged + b] = static_cast<char>(acc >> (8 * b));
      staged += 4;
      acc >>= 32;
      used -= 32;
      if (staged == sizeof staged_) {
        out_.append(staged_, staged);
        staged = 0;
      }
    };
    // Two codes of at most 15 bits fit beside the fewer than 32 bits held.
    size_t i = from;
    for (; i + 2 <= to; i += 2) {
      add(table[p[i]]);
      add(table[p[i + 1]]);
      spill_if_full();
    }
    if (i < to) {
      add(table[p[i]]);
      spill_if_full();
    }
    acc_ = acc;
    used_ = used;
    staged_count_ = staged;
  }
  // Writes the whole bytes held; the rest (< 8 bits) stays.
  void write_whole_bytes() {
    drain();
    while (used_ >= 8) {
      out_.push_back(static_cast<char>(acc_));
      acc_ >>= 8;
      used_ -= 8;
    }
  }
  // Pads the last byte with zeros and writes it.
  void flush() {
    write_whole_bytes();
    if (used_ > 0) out_.push_back(static_cast<char>(acc_));
    used_ = 0;
    acc_ = 0;
  }
  // Staged words to `out`, the accumulator back to the stream's state.
  void sync() {
    drain();
    state_.acc = acc_;
    state_.used = used_;
  }

 private:
  void drain() {
    out_.append(staged_, staged_count_);
    staged_count_ = 0;
  }
  std::string& out_;
  DeflateRunsStream::Bits& state_;
  uint64_t acc_;
  int used_;
  size_t staged_count_ = 0;
  char staged_[4096];
};

// Depths of the leaves of a Huffman tree over the non-zero counts.
std::vector<uint8_t> tree_depths(const std::vector<uint32_t>& counts) {
  struct Node {
    uint64_t weight;
    int left, right;  // -1 for a leaf
  };
  std::vector<Node> nodes;
  using Item = std::pair<uint64_t, int>;  // weight, node index
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  std::vector<int> leaf_of(counts.size(), -1);
  for (size_t s = 0; s < counts.size(); ++s)
    if (counts[s]) {
      leaf_of[s] = static_cast<int>(nodes.size());
      heap.push({counts[s], leaf_of[s]});
      nodes.push_back({counts[s], -1, -1});
    }
  while (heap.size() > 1) {
    auto [wa, a] = heap.top();
    heap.pop();
    auto [wb, b] = heap.top();
    heap.pop();
    nodes.push_back({wa + wb, a, b});
    heap.push({wa + wb, static_cast<int>(nodes.size() - 1)});
  }
  std::vector<uint8_t> node_depth(nodes.size(), 0);
  for (size_t i = nodes.size(); i-- > 0;)  // parents come after their children
    if (nodes[i].left >= 0) {
      node_depth[static_cast<size_t>(nodes[i].left)] = static_cast<uint8_t>(node_depth[i] + 1);
      node_depth[static_cast<size_t>(nodes[i].right)] = static_cast<uint8_t>(node_depth[i] + 1);
    }
  std::vector<uint8_t> depths(counts.size(), 0);
  for (size_t s = 0; s < counts.size(); ++s)
    if (leaf_of[s] >= 0) depths[s] = node_depth[static_cast<size_t>(leaf_of[s])];
  return depths;
}

// Canonical codes (RFC 1951 3.2.2), bit-reversed for LSB-first output.
std::vector<uint16_t> canonical_codes(const std::vector<uint8_t>& lengths) {
  std::array<uint16_t, 16> count{}, next{};
  for (uint8_t l : lengths)
    if (l) ++count[l];
  uint16_t code = 0;
  for (int bits = 1; bits < 16; ++bits) {
    code = static_cast<uint16_t>((code + count[bits - 1]) << 1);
    next[bits] = code;
  }
  std::vector<uint16_t> codes(lengths.size(), 0);
  for (size_t s = 0; s < lengths.size(); ++s) {
    int len = lengths[s];
    if (!len) continue;
    uint16_t c = next[len]++, reversed = 0;
    for (int i = 0; i < len; ++i) reversed = static_cast<uint16_t>(reversed | (((c >> i) & 1) << (len - 1 - i)));
    codes[s] = reversed;
  }
  return codes;
}

// A run found by the counting pass: `length` copies at distance 1 from `at`.
struct Run {
  size_t at;
  size_t length;
};

// One dynamic block of data[begin, end); earlier bytes are its history.
// One pass finds the runs and counts the symbols; the coding pass then
// writes the literals between runs without looking for runs again.
void write_block(std::string_view data, size_t begin, size_t end, bool last, BitWriter& bits, std::vector<Run>& runs) {
  std::vector<uint32_t> counts(kLengthCodes, 0);
  runs.clear();
  for_each_token(
      data, begin, end, [&](unsigned char c) { ++counts[c]; },
      [&](size_t at, size_t n) {
        runs.push_back({at, n});
        ++counts[length_code(n).symbol];
      });
  counts[kEndOfBlock] = 1;
  std::vector<uint8_t> lit_lengths = huffman_lengths(counts, kLiteralBits);
  std::vector<uint16_t> lit_codes = canonical_codes(lit_lengths);

  // Code lengths of 286 literal/length codes and 2 distance codes of length
  // 1: code 0 (distance 1) for runs, code 1 unused (as zlib does, so that the
  // distance code is complete).
  std::vector<uint8_t> all_lengths = lit_lengths;
  all_lengths.push_back(1);
  all_lengths.push_back(1);
  std::vector<uint32_t> cl_counts(19, 0);
  for (uint8_t l : all_lengths) ++cl_counts[l];
  std::vector<uint8_t> cl_lengths = huffman_lengths(cl_counts, kCodeLengthBits);
  std::vector<uint16_t> cl_codes = canonical_codes(cl_lengths);

  bits.put(last ? 1 : 0, 1);
  bits.put(2, 2);                   // dynamic Huffman codes
  bits.put(kLengthCodes - 257, 5);  // HLIT
  bits.put(2 - 1, 5);               // HDIST
  bits.put(19 - 4, 4);              // HCLEN: all 19 code-length code lengths follow
  for (uint8_t sym : kCodeLengthOrder) bits.put(cl_lengths[sym], 3);
  for (uint8_t l : all_lengths) bits.put(cl_codes[l], cl_lengths[l]);

  std::array<uint32_t, 256> literal{};  // code | length << 16
  for (size_t c = 0; c < literal.size(); ++c) literal[c] = lit_codes[c] | static_cast<uint32_t>(lit_lengths[c]) << 16;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = begin;
  for (const Run& run : runs) {
    bits.put_literals(p, i, run.at, literal);
    const LengthCode& code = length_code(run.length);
    bits.put(lit_codes[code.symbol], lit_lengths[code.symbol]);
    bits.put(code.extra, code.extra_bits);
    bits.put(0, 1);  // distance code 0: distance 1
    i = run.at + run.length;
  }
  bits.put_literals(p, i, end, literal);
  bits.put(lit_codes[kEndOfBlock], lit_lengths[kEndOfBlock]);
}

}  // namespace

std::vector<uint8_t> huffman_lengths(const std::vector<uint32_t>& counts, int max_bits) {
  std::vector<uint32_t> c = counts;
  size_t used = static_cast<size_t>(std::count_if(c.begin(), c.end(), [](uint32_t x) { return x != 0; }));
  // A one-symbol code is not complete: add a second symbol, as zlib does.
  for (size_t s = 0; used < 2 && s < c.size(); ++s)
    if (!c[s]) {
      c[s] = 1;
      ++used;
    }
  while (true) {
    std::vector<uint8_t> depths = tree_depths(c);
    if (*std::max_element(depths.begin(), depths.end()) <= max_bits) return depths;
    // Too deep: flatten the distribution and build again (each round halves
    // the ratio between the largest and smallest count, so this ends).
    for (auto& x : c)
      if (x) x = (x >> 1) | 1;
  }
}

void DeflateRunsStream::add(std::string_view data, size_t begin, bool last, std::string& out) {
  BitWriter bits(out, bits_);
  std::vector<Run> runs;
  if (begin == data.size()) {
    if (last) write_block(data, begin, begin, true, bits, runs);
  } else {
    for (size_t at = begin; at < data.size(); at += kBlockBytes) {
      size_t end = std::min(data.size(), at + kBlockBytes);
      write_block(data, at, end, last && end == data.size(), bits, runs);
    }
  }
  if (last)
    bits.flush();
  else
    bits.write_whole_bytes();
}

void deflate_runs(std::string_view data, std::string& out) {
  out.reserve(out.size() + data.size() + data.size() / 8 + 1024);
  DeflateRunsStream().add(data, 0, true, out);
}

}  // namespace dicomd::render
