#include "metadata.h"

#include <algorithm>
#include <cstring>

#include <gdcmAttribute.h>
#include <gdcmReader.h>

#include "charset.h"
#include "dicom_reader.h"
#include "dictionary.h"
#include "meta_header.h"
#include "pixel_data_element.h"
#include "tag_json.h"

namespace dicomd::metadata {
namespace {

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
const gdcm::Tag kCharset(0x0008, 0x0005);

std::vector<std::string> charset_terms(const gdcm::DataSet& ds) {
  std::vector<std::string> terms;
  if (!ds.FindDataElement(kCharset)) return terms;
  const gdcm::ByteValue* bv = ds.GetDataElement(kCharset).GetByteValue();
  if (!bv) return terms;
  std::string_view all(bv->GetPointer(), bv->GetLength());
  size_t start = 0;
  while (true) {
    size_t bs = all.find('\\', start);
    terms.emplace_back(all.substr(start, bs == std::string_view::npos ? std::string_view::npos : bs - start));
    if (bs == std::string_view::npos) return terms;
    start = bs + 1;
  }
}

// Formats each element of a header read into its own JSON object.
class HeaderFormatter {
 public:
  // `bytes`: the file, or its start when the file has `file_size` bytes.
  HeaderFormatter(const gdcm::Reader& reader, std::string_view bytes, size_t stop, uint64_t file_size)
      : meta_(reader.GetFile().GetHeader()), ds_(reader.GetFile().GetDataSet()), charset_(charset_terms(ds_)) {
    gdcm::Attribute<0x0028, 0x0103> rep{};
    if (ds_.FindDataElement(rep.GetTag()) && !ds_.GetDataElement(rep.GetTag()).IsEmpty()) {
      rep.SetFromDataSet(ds_);
      ctx_.pixel_representation = rep.GetValue();
    }
    const gdcm::TransferSyntax ts = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
    if (!ts.IsEncoded()) {
      auto e = gdcm_support::locate_pixel_data(bytes, stop, ts == gdcm::TransferSyntax::ExplicitVRBigEndian,
                                               ts.IsExplicit(), file_size);
      if (e) pixel_ = PixelDataHeader{e->vr, e->length};
    }
  }

  std::shared_ptr<ParsedHeader> format() {
    auto header = std::make_shared<ParsedHeader>();
    for (const gdcm::DataSet* set : {&static_cast<const gdcm::DataSet&>(meta_), &ds_})
      for (const gdcm::DataElement& de : set->GetDES()) {
        // A header read stops before the pixel data; its own object follows.
        if (de.GetTag() == kPixelData && pixel_) continue;
        header->add(de.GetTag().GetElementTag(),
                    one([&](JsonWriter& w) { write_element(w, de, *set, charset_, ctx_); }));
      }
    if (pixel_)
      header->add(kPixelData.GetElementTag(),
                  one([&](JsonWriter& w) { write_pixel_data(w, kPixelData, pixel_->vr.c_str(), pixel_->length); }));
    header->finish();
    return header;
  }

 private:
  template <class Fn>
  static std::string one(Fn&& write) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    write(w);
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  const gdcm::FileMetaInformation& meta_;
  const gdcm::DataSet& ds_;
  CharsetDecoder charset_;
  FormatContext ctx_;
  struct PixelDataHeader {
    std::string vr;
    uint64_t length;
  };
  std::optional<PixelDataHeader> pixel_;
};

std::string missing_json(const gdcm::Tag& tag) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_missing(w, tag);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

void ParsedHeader::add(uint32_t tag, std::string json) {
  bytes_ += sizeof(elements_[0]) + sizeof(by_tag_[0]) + json.capacity();
  elements_.emplace_back(tag, std::move(json));
}

void ParsedHeader::finish() {
  by_tag_.reserve(elements_.size());
  for (size_t i = 0; i < elements_.size(); ++i) by_tag_.emplace_back(elements_[i].first, static_cast<uint32_t>(i));
  std::stable_sort(by_tag_.begin(), by_tag_.end(), [](auto& a, auto& b) { return a.first < b.first; });
}

std::string ParsedHeader::serialize() const {
  std::string out;
  out.reserve(bytes_);
  for (const auto& [tag, json] : elements_) {
    uint32_t head[2] = {tag, static_cast<uint32_t>(json.size())};
    out.append(reinterpret_cast<const char*>(head), sizeof head);
    out += json;
  }
  return out;
}

std::shared_ptr<ParsedHeader> ParsedHeader::deserialize(std::string_view bytes) {
  auto header = std::make_shared<ParsedHeader>();
  while (!bytes.empty()) {
    uint32_t head[2];
    if (bytes.size() < sizeof head) return nullptr;
    std::memcpy(head, bytes.data(), sizeof head);
    bytes.remove_prefix(sizeof head);
    if (head[1] > bytes.size()) return nullptr;
    header->add(head[0], std::string(bytes.substr(0, head[1])));
    bytes.remove_prefix(head[1]);
  }
  header->finish();
  return header;
}

const std::string* ParsedHeader::find(uint32_t tag) const {
  auto it = std::lower_bound(by_tag_.begin(), by_tag_.end(), tag, [](auto& e, uint32_t t) { return e.first < t; });
  return it != by_tag_.end() && it->first == tag ? &elements_[it->second].second : nullptr;
}

std::string ParsedHeader::all_json() const {
  size_t size = 2;
  for (const auto& e : elements_) size += e.second.size() + 1;
  std::string out;
  out.reserve(size);
  out += '[';
  for (const auto& e : elements_) {
    if (out.size() > 1) out += ',';
    out += e.second;
  }
  out += ']';
  return out;
}

std::shared_ptr<const ParsedHeader> parse_header(std::string_view bytes) {
  gdcm::Reader reader;
  size_t stop = 0;
  if (!gdcm_support::read_header(reader, bytes, &stop)) return nullptr;
  return HeaderFormatter(reader, bytes, stop, bytes.size()).format();
}

std::shared_ptr<const ParsedHeader> parse_header_start(std::string_view start, uint64_t file_size) {
  if (start.size() >= file_size) return parse_header(start.substr(0, file_size));
  // A deflated data set is read whole (GDCM cannot stop part-way in it).
  auto meta = gdcm_support::read_meta_header(start);
  if (!meta || gdcm_support::is_deflated_syntax(meta->transfer_syntax)) return nullptr;
  // GDCM stops at the pixel data's element (ReadUpToTag): with all of its
  // tag, VR and length (12 bytes) in the start it never reads to the cut,
  // where Debian's GDCM asserts (a test cuts every pydicom file there).
  constexpr size_t kElementHeader = 12;
  if (start.size() < kElementHeader) return nullptr;
  std::string_view before_last_header = start.substr(0, start.size() - kElementHeader + 4);
  if (before_last_header.find(std::string_view("\xe0\x7f\x10\x00", 4)) == std::string_view::npos &&
      before_last_header.find(std::string_view("\x7f\xe0\x00\x10", 4)) == std::string_view::npos)
    return nullptr;
  gdcm::Reader reader;
  size_t stop = 0;
  if (!gdcm_support::read_header(reader, start, &stop)) return nullptr;
  // Those bytes may have been part of another value: then the read ran on
  // to the cut and stopped there, not at the pixel data.
  const gdcm::TransferSyntax ts = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
  auto e = gdcm_support::locate_pixel_data(start, stop, ts == gdcm::TransferSyntax::ExplicitVRBigEndian,
                                           ts.IsExplicit(), file_size);
  if (!e || e->value_offset > start.size() || stop + 16 > start.size()) return nullptr;
  return HeaderFormatter(reader, start, stop, file_size).format();
}

TagsResult describe_tags(const ParsedHeader& header, const std::vector<std::string>& specs) {
  TagsResult result;
  if (specs.empty()) {
    result.json = header.all_json();
    return result;
  }
  std::vector<gdcm::Tag> tags;
  for (const std::string& spec : specs) {
    auto tag = parse_tag_spec(spec);
    // A private tag is valid when the file has it; a public one when the
    // dictionary defines it.
    bool known = tag && (is_public_dictionary_tag(*tag) ||
                         ((tag->IsPrivate() || tag->IsPrivateCreator()) && header.find(tag->GetElementTag())));
    if (!known)
      result.invalid_specs.push_back(spec);
    else
      tags.push_back(*tag);
  }
  if (!result.invalid_specs.empty()) {
    result.status = TagsResult::Status::kInvalidTags;
    return result;
  }
  result.json.push_back('[');
  // Each tag once, however often or in whatever spelling it was asked for:
  // a scan of the ones before, not a set, so no allocation on the cached
  // lookup path (at most 512 tags reach here).
  for (size_t i = 0; i < tags.size(); ++i) {
    const gdcm::Tag& tag = tags[i];
    auto before = tags.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find(tags.begin(), before, tag) != before) continue;
    if (result.json.size() > 1) result.json += ',';
    if (const std::string* element = header.find(tag.GetElementTag()))
      result.json += *element;
    else
      result.json += missing_json(tag);
  }
  result.json += ']';
  return result;
}

TagsResult describe_tags(std::string_view bytes, const std::vector<std::string>& specs) {
  auto header = parse_header(bytes);
  if (!header) {
    TagsResult unreadable;
    unreadable.status = TagsResult::Status::kUnreadable;
    return unreadable;
  }
  return describe_tags(*header, specs);
}

}  // namespace dicomd::metadata
