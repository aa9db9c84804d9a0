#include "metadata.h"

#include <gdcmAttribute.h>
#include <gdcmReader.h>

#include "charset.h"
#include "dicom_reader.h"
#include "dictionary.h"
#include "tag_json.h"

namespace dicomd::metadata {
namespace {

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
const gdcm::Tag kCharset(0x0008, 0x0005);

struct PixelDataHeader {
  std::string vr;
  std::optional<uint64_t> length;
};

uint32_t read_u32(std::string_view b, bool big_endian) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
  return big_endian ? (u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3)) : (u(3) << 24 | u(2) << 16 | u(1) << 8 | u(0));
}

// The pixel data element a header read stopped at: its VR and value length
// (for encapsulated data, the bytes up to the end of the file).
std::optional<PixelDataHeader> find_pixel_data(std::string_view bytes, size_t stop, bool big_endian, bool implicit) {
  std::string_view tag = big_endian ? std::string_view("\x7f\xe0\x00\x10", 4) : std::string_view("\xe0\x7f\x10\x00", 4);
  size_t pos = bytes.find(tag, stop > 16 ? stop - 16 : 0);
  if (pos == std::string_view::npos || pos > stop + 16) return std::nullopt;
  size_t header = implicit ? 8 : 12;
  if (pos + header > bytes.size()) return std::nullopt;
  PixelDataHeader out{implicit ? "OW" : std::string(bytes.substr(pos + 4, 2)), std::nullopt};
  uint32_t vl = read_u32(bytes.substr(pos + header - 4, 4), big_endian);
  out.length = vl == 0xffffffffu ? bytes.size() - pos - header : vl;
  return out;
}

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

class TagsWriter {
 public:
  TagsWriter(const gdcm::Reader& reader, std::string_view bytes, size_t stop)
      : meta_(reader.GetFile().GetHeader()), ds_(reader.GetFile().GetDataSet()), charset_(charset_terms(ds_)) {
    gdcm::Attribute<0x0028, 0x0103> rep{};
    if (ds_.FindDataElement(rep.GetTag()) && !ds_.GetDataElement(rep.GetTag()).IsEmpty()) {
      rep.SetFromDataSet(ds_);
      ctx_.pixel_representation = rep.GetValue();
    }
    const gdcm::TransferSyntax ts = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
    if (!ts.IsEncoded())
      pixel_ = find_pixel_data(bytes, stop, ts == gdcm::TransferSyntax::ExplicitVRBigEndian, ts.IsImplicit());
    w_.StartArray();
  }

  // False when the file does not have it (the caller decides if that is OK).
  bool write(const gdcm::Tag& tag) {
    const gdcm::DataSet& where = tag.GetGroup() == 0x0002 ? meta_ : ds_;
    if (tag == kPixelData && pixel_) {
      write_pixel_data(w_, tag, pixel_->vr.c_str(), pixel_->length);
      return true;
    }
    if (!where.FindDataElement(tag)) return false;
    write_element(w_, where.GetDataElement(tag), where, charset_, ctx_);
    return true;
  }
  void write_missing_tag(const gdcm::Tag& tag) { write_missing(w_, tag); }

  void write_all() {
    for (const gdcm::DataSet* set : {&static_cast<const gdcm::DataSet&>(meta_), &ds_})
      for (const gdcm::DataElement& de : set->GetDES()) write_element(w_, de, *set, charset_, ctx_);
    if (pixel_) write_pixel_data(w_, kPixelData, pixel_->vr.c_str(), pixel_->length);
  }

  bool has(const gdcm::Tag& tag) const {
    return (tag.GetGroup() == 0x0002 ? meta_ : ds_).FindDataElement(tag) || (tag == kPixelData && pixel_);
  }

  std::string finish() {
    w_.EndArray();
    return buffer_.GetString();
  }

 private:
  const gdcm::FileMetaInformation& meta_;
  const gdcm::DataSet& ds_;
  CharsetDecoder charset_;
  FormatContext ctx_;
  std::optional<PixelDataHeader> pixel_;
  rapidjson::StringBuffer buffer_;
  JsonWriter w_{buffer_};
};

}  // namespace

TagsResult describe_tags(std::string_view bytes, const std::vector<std::string>& specs) {
  TagsResult result;
  gdcm::Reader reader;
  size_t stop = 0;
  if (!gdcm_support::read_header(reader, bytes, &stop)) {
    result.status = TagsResult::Status::kUnreadable;
    return result;
  }
  TagsWriter writer(reader, bytes, stop);
  if (specs.empty()) {
    writer.write_all();
    result.json = writer.finish();
    return result;
  }
  std::vector<gdcm::Tag> tags;
  for (const std::string& spec : specs) {
    auto tag = parse_tag_spec(spec);
    // A private tag is valid when the file has it; a public one when the
    // dictionary defines it.
    bool known =
        tag && (is_public_dictionary_tag(*tag) || ((tag->IsPrivate() || tag->IsPrivateCreator()) && writer.has(*tag)));
    if (!known)
      result.invalid_specs.push_back(spec);
    else
      tags.push_back(*tag);
  }
  if (!result.invalid_specs.empty()) {
    result.status = TagsResult::Status::kInvalidTags;
    return result;
  }
  for (const gdcm::Tag& tag : tags)
    if (!writer.write(tag)) writer.write_missing_tag(tag);
  result.json = writer.finish();
  return result;
}

}  // namespace dicomd::metadata
