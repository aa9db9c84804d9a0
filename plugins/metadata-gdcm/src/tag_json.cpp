#include "tag_json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gdcmSequenceOfFragments.h>
#include <gdcmSequenceOfItems.h>

#include "dictionary.h"

namespace dicomd::metadata {
namespace {

constexpr size_t kInlineBinaryBytes = 64;
constexpr int kMaxDepth = 32;  // nested sequences deeper than this are cut off

enum class Kind { kBinaryNumber, kStringNumber, kText, kPersonName, kTag, kSequence, kBinary };

Kind kind_of(gdcm::VR::VRType vr) {
  switch (vr) {
    case gdcm::VR::US:
    case gdcm::VR::SS:
    case gdcm::VR::UL:
    case gdcm::VR::SL:
    case gdcm::VR::UV:
    case gdcm::VR::SV:
    case gdcm::VR::FL:
    case gdcm::VR::FD:
      return Kind::kBinaryNumber;
    case gdcm::VR::IS:
    case gdcm::VR::DS:
      return Kind::kStringNumber;
    case gdcm::VR::PN:
      return Kind::kPersonName;
    case gdcm::VR::AT:
      return Kind::kTag;
    case gdcm::VR::SQ:
      return Kind::kSequence;
    case gdcm::VR::AE:
    case gdcm::VR::AS:
    case gdcm::VR::CS:
    case gdcm::VR::DA:
    case gdcm::VR::DT:
    case gdcm::VR::LO:
    case gdcm::VR::LT:
    case gdcm::VR::SH:
    case gdcm::VR::ST:
    case gdcm::VR::TM:
    case gdcm::VR::UC:
    case gdcm::VR::UI:
    case gdcm::VR::UR:
    case gdcm::VR::UT:
      return Kind::kText;
    default:
      return Kind::kBinary;
  }
}

// The VR to report: the file's explicit one, else the dictionary's, with the
// dictionary's "either" VRs resolved the way readers do.
gdcm::VR::VRType effective_vr(const gdcm::DataElement& de, const TagInfo& info, const FormatContext& ctx) {
  gdcm::VR::VRType vr = de.GetVR();
  if (!de.IsEmpty() && dynamic_cast<const gdcm::SequenceOfItems*>(&de.GetValue())) return gdcm::VR::SQ;
  if (vr == gdcm::VR::INVALID || vr == gdcm::VR::VR_END) vr = info.vr;
  // UN for a tag the dictionary knows (written by a converter that lost the
  // VR): read it as the dictionary says, as pydicom and the original service do.
  if (vr == gdcm::VR::UN && info.vr != gdcm::VR::UN && info.vr != gdcm::VR::INVALID && info.vr != gdcm::VR::SQ &&
      gdcm::VR::GetVRString(info.vr) != nullptr)
    vr = info.vr;
  if (vr == gdcm::VR::US_SS || vr == gdcm::VR::US_SS_OW) return ctx.pixel_representation ? gdcm::VR::SS : gdcm::VR::US;
  if (vr == gdcm::VR::OB_OW) return gdcm::VR::OW;
  if (vr == gdcm::VR::US_OW) return gdcm::VR::US;
  if (vr == gdcm::VR::INVALID || vr == gdcm::VR::VR_END || gdcm::VR::GetVRString(vr) == nullptr) return gdcm::VR::UN;
  return vr;
}

std::string_view raw_bytes(const gdcm::DataElement& de) {
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv || !bv->GetPointer()) return {};
  return std::string_view(bv->GetPointer(), bv->GetLength());
}

bool is_padding(char c) {
  return c == ' ' || c == '\0';
}

std::string_view trim(std::string_view s, bool leading) {
  while (!s.empty() && is_padding(s.back())) s.remove_suffix(1);
  while (leading && !s.empty() && is_padding(s.front())) s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_values(std::string_view s, bool multi) {
  std::vector<std::string_view> out;
  if (!multi) {
    out.push_back(s);
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t bs = s.find('\\', start);
    out.push_back(s.substr(start, bs == std::string_view::npos ? std::string_view::npos : bs - start));
    if (bs == std::string_view::npos) return out;
    start = bs + 1;
  }
}

// JSON has no NaN or infinity: those are written as the strings "NaN",
// "Infinity" and "-Infinity" (as JavaScript spells them), never dropped.
void write_non_finite(JsonWriter& w, double v) {
  w.String(std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}

void write_number(JsonWriter& w, double v) {
  if (!std::isfinite(v)) {
    write_non_finite(w, v);
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    w.Int64(static_cast<int64_t>(v));
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  w.RawValue(buf, static_cast<size_t>(r.ptr - buf), rapidjson::kNumberType);
}

void write_float(JsonWriter& w, float v) {
  if (!std::isfinite(v)) {
    write_non_finite(w, v);
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 16777216.0f) {
    w.Int64(static_cast<int64_t>(v));
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form of the float itself
  w.RawValue(buf, static_cast<size_t>(r.ptr - buf), rapidjson::kNumberType);
}

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // GDCM keeps binary values in host (little-endian) order
  return v;
}

// Writes VM and value of a binary number VR.
void write_binary_numbers(JsonWriter& w, gdcm::VR::VRType vr, std::string_view bytes, size_t& vm, bool value_only) {
  size_t size = vr == gdcm::VR::US || vr == gdcm::VR::SS                         ? 2
                : vr == gdcm::VR::FD || vr == gdcm::VR::UV || vr == gdcm::VR::SV ? 8
                                                                                 : 4;
  if (bytes.size() % size != 0) {  // not a whole number of values: show the bytes, drop none
    vm = 1;
    if (value_only) w.String(base64(bytes).c_str());
    return;
  }
  vm = bytes.size() / size;
  if (!value_only) return;
  auto one = [&](const char* p) {
    switch (vr) {
      case gdcm::VR::US:
        w.Uint(load<uint16_t>(p));
        break;
      case gdcm::VR::SS:
        w.Int(load<int16_t>(p));
        break;
      case gdcm::VR::UL:
        w.Uint(load<uint32_t>(p));
        break;
      case gdcm::VR::SL:
        w.Int(load<int32_t>(p));
        break;
      case gdcm::VR::UV:
        w.Uint64(load<uint64_t>(p));
        break;
      case gdcm::VR::SV:
        w.Int64(load<int64_t>(p));
        break;
      case gdcm::VR::FL:
        write_float(w, load<float>(p));
        break;
      default:
        write_number(w, load<double>(p));
        break;
    }
  };
  if (vm == 0) {
    w.Null();
  } else if (vm == 1) {
    one(bytes.data());
  } else {
    w.StartArray();
    for (size_t i = 0; i < vm; ++i) one(bytes.data() + i * size);
    w.EndArray();
  }
}

// A value that is not what its VR says, as text: printable ASCII kept,
// any other byte as U+FFFD (IS and DS are ASCII by definition).
void write_as_text(JsonWriter& w, std::string_view raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += "\xef\xbf\xbd";
  }
  w.String(out.data(), static_cast<rapidjson::SizeType>(out.size()));
}

void write_string_number(JsonWriter& w, gdcm::VR::VRType vr, std::string_view text) {
  std::string s(trim(text, true));
  if (s.empty()) {
    w.Null();
    return;
  }
  if (vr == gdcm::VR::IS) {
    int64_t v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    auto r = std::from_chars(begin, s.data() + s.size(), v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
      w.Int64(v);
      return;
    }
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) {
    write_as_text(w, s);  // "1A", "NaN": the file is wrong, and whoever debugs it needs to see the value
    return;
  }
  write_number(w, d);
}

void write_string(JsonWriter& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// VM and the list of values of a string VR.
std::vector<std::string_view> string_values(gdcm::VR::VRType vr, std::string_view bytes) {
  bool multi = !(vr == gdcm::VR::LT || vr == gdcm::VR::ST || vr == gdcm::VR::UT || vr == gdcm::VR::UR);
  bool keep_leading = !multi;  // LT, ST, UT: leading spaces are significant
  std::string_view whole = trim(bytes, false);
  if (whole.empty()) return {};
  std::vector<std::string_view> values = split_values(whole, multi);
  for (auto& v : values) v = trim(v, !keep_leading);
  return values;
}

std::string at_string(const char* p) {
  return tag_string(gdcm::Tag(load<uint16_t>(p), load<uint16_t>(p + 2)));
}

void write_header(JsonWriter& w, size_t vm, gdcm::VR::VRType vr, const TagInfo& info) {
  w.Key("VM");
  w.Uint(static_cast<unsigned>(vm));
  w.Key("VR");
  w.String(gdcm::VR::GetVRString(vr));
  w.Key("keyword");
  write_string(w, info.keyword);
}

void write_name_tag(JsonWriter& w, const TagInfo& info, const gdcm::Tag& tag) {
  w.Key("name");
  write_string(w, info.name);
  w.Key("tag");
  write_string(w, tag_string(tag));
}

void write_item(JsonWriter& w, const gdcm::DataSet& item, const CharsetDecoder& parent_charset,
                const FormatContext& ctx, int depth);

}  // namespace

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

void write_missing(JsonWriter& w, const gdcm::Tag& tag) {
  TagInfo info = lookup(tag);
  gdcm::VR::VRType vr = info.vr;
  if (vr == gdcm::VR::US_SS || vr == gdcm::VR::US_SS_OW || vr == gdcm::VR::US_OW) vr = gdcm::VR::US;
  if (vr == gdcm::VR::OB_OW) vr = gdcm::VR::OW;
  if (gdcm::VR::GetVRString(vr) == nullptr || vr == gdcm::VR::INVALID) vr = gdcm::VR::UN;
  w.StartObject();
  write_header(w, 0, vr, info);
  write_name_tag(w, info, tag);
  w.Key("value");
  w.Null();
  w.EndObject();
}

void write_pixel_data(JsonWriter& w, const gdcm::Tag& tag, const char* vr, std::optional<uint64_t> length) {
  TagInfo info = lookup(tag);
  w.StartObject();
  w.Key("VM");
  w.Uint(1);
  w.Key("VR");
  w.String(vr);
  w.Key("keyword");
  write_string(w, info.keyword);
  w.Key("length");
  if (length)
    w.Uint64(*length);
  else
    w.Null();
  write_name_tag(w, info, tag);
  w.Key("value");
  w.Null();
  w.EndObject();
}

void write_element(JsonWriter& w, const gdcm::DataElement& de, const gdcm::DataSet& ds, const CharsetDecoder& charset,
                   const FormatContext& ctx, int depth) {
  const gdcm::Tag& tag = de.GetTag();
  TagInfo info = lookup(tag, tag.IsPrivate() && !tag.IsPrivateCreator() ? ds.GetPrivateCreator(tag) : "");
  gdcm::VR::VRType vr = effective_vr(de, info, ctx);
  std::string_view bytes = raw_bytes(de);
  w.StartObject();
  switch (kind_of(vr)) {
    case Kind::kBinaryNumber: {
      size_t vm = 0;
      write_binary_numbers(w, vr, bytes, vm, false);
      write_header(w, vm, vr, info);
      write_name_tag(w, info, tag);
      w.Key("value");
      write_binary_numbers(w, vr, bytes, vm, true);
      break;
    }
    case Kind::kStringNumber:
    case Kind::kText:
    case Kind::kPersonName: {
      std::vector<std::string_view> values = string_values(vr, bytes);
      write_header(w, values.size(), vr, info);
      write_name_tag(w, info, tag);
      w.Key("value");
      auto one = [&](std::string_view v) {
        if (kind_of(vr) == Kind::kStringNumber)
          write_string_number(w, vr, v);
        else
          write_string(w, charset.decode(v, vr == gdcm::VR::PN));
      };
      if (values.empty())
        kind_of(vr) == Kind::kStringNumber ? (void)w.Null() : (void)w.String("");
      else if (values.size() == 1)
        one(values[0]);
      else {
        w.StartArray();
        for (auto v : values) one(v);
        w.EndArray();
      }
      break;
    }
    case Kind::kTag: {
      bool whole = bytes.size() % 4 == 0;  // else shown as base64, like a partial binary number
      size_t vm = whole ? bytes.size() / 4 : 1;
      write_header(w, vm, vr, info);
      write_name_tag(w, info, tag);
      w.Key("value");
      if (!whole) {
        write_string(w, base64(bytes));
      } else if (vm == 0) {
        w.Null();
      } else if (vm == 1) {
        write_string(w, at_string(bytes.data()));
      } else {
        w.StartArray();
        for (size_t i = 0; i < vm; ++i) write_string(w, at_string(bytes.data() + 4 * i));
        w.EndArray();
      }
      break;
    }
    case Kind::kSequence: {
      gdcm::SmartPointer<gdcm::SequenceOfItems> items = de.IsEmpty() ? nullptr : de.GetValueAsSQ();
      write_header(w, 1, gdcm::VR::SQ, info);
      write_name_tag(w, info, tag);
      w.Key("value");
      w.StartArray();
      if (items && depth < kMaxDepth)
        for (gdcm::SequenceOfItems::SizeType i = 1; i <= items->GetNumberOfItems(); ++i)
          write_item(w, items->GetItem(i).GetNestedDataSet(), charset, ctx, depth + 1);
      w.EndArray();
      break;
    }
    case Kind::kBinary: {
      uint64_t length = bytes.size();
      if (const gdcm::SequenceOfFragments* f = de.GetSequenceOfFragments()) length = f->ComputeByteLength();
      write_header(w, length ? 1 : 0, vr, info);
      if (length > kInlineBinaryBytes || de.GetSequenceOfFragments()) {
        w.Key("length");
        w.Uint64(length);
      }
      write_name_tag(w, info, tag);
      w.Key("value");
      if (length > kInlineBinaryBytes || de.GetSequenceOfFragments())
        w.Null();
      else
        write_string(w, base64(bytes));
      break;
    }
  }
  w.EndObject();
}

namespace {

void write_item(JsonWriter& w, const gdcm::DataSet& item, const CharsetDecoder& parent_charset,
                const FormatContext& ctx, int depth) {
  // An item may declare its own character set (PS3.5 7.5.3).
  std::optional<CharsetDecoder> own;
  const gdcm::Tag charset_tag(0x0008, 0x0005);
  if (item.FindDataElement(charset_tag)) {
    std::vector<std::string> terms;
    for (auto v : split_values(raw_bytes(item.GetDataElement(charset_tag)), true)) terms.emplace_back(v);
    own.emplace(terms);
  }
  const CharsetDecoder& charset = own ? *own : parent_charset;
  w.StartObject();
  for (const gdcm::DataElement& de : item.GetDES()) {
    write_string(w, tag_string(de.GetTag()));
    write_element(w, de, item, charset, ctx, depth);
  }
  w.EndObject();
}

}  // namespace
}  // namespace dicomd::metadata
