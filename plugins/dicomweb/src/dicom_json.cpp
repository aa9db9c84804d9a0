#include "dicom_json.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dicomd::dicomweb {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Value = rapidjson::Value;

constexpr std::string_view kUtf8 = "ISO_IR 192";

void key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// "tag": {"vr": vr, "Value": [value]}: an attribute of one text value.
void write_text_element(Writer& w, std::string_view tag, std::string_view vr, std::string_view value) {
  key(w, tag);
  w.StartObject();
  key(w, "vr");
  string(w, vr);
  key(w, "Value");
  w.StartArray();
  string(w, value);
  w.EndArray();
  w.EndObject();
}

bool is_binary_vr(std::string_view vr) {
  for (std::string_view v : {"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
    if (vr == v) return true;
  return false;
}

// "(0028,0010)" -> "00280010"; empty when it is not that shape.
std::string compact_tag(std::string_view t) {
  if (t.size() != 11 || t[0] != '(' || t[5] != ',' || t[10] != ')') return {};
  std::string out;
  out.reserve(8);
  for (char c : std::string(t.substr(1, 4)) + std::string(t.substr(6, 4))) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// A person name "Alphabetic=Ideographic=Phonetic" as its JSON object.
void write_person_name(Writer& w, std::string_view name) {
  w.StartObject();
  constexpr std::string_view kGroups[] = {"Alphabetic", "Ideographic", "Phonetic"};
  for (size_t g = 0; g < 3; ++g) {
    size_t eq = name.find('=');
    std::string_view part = name.substr(0, eq);
    if (!part.empty()) {
      key(w, kGroups[g]);
      string(w, part);
    }
    if (eq == std::string_view::npos) break;
    name.remove_prefix(eq + 1);
  }
  w.EndObject();
}

// One value of a tag object as a DICOM JSON value of `vr`.
void write_value(Writer& w, const Value& v, std::string_view vr) {
  if (v.IsNull() || (v.IsString() && v.GetStringLength() == 0)) {
    w.Null();
  } else if (vr == "PN" && v.IsString()) {
    write_person_name(w, std::string_view(v.GetString(), v.GetStringLength()));
  } else if (vr == "AT" && v.IsString()) {
    std::string compact = compact_tag(std::string_view(v.GetString(), v.GetStringLength()));
    compact.empty() ? string(w, std::string_view(v.GetString(), v.GetStringLength())) : string(w, compact);
  } else {
    v.Accept(w);  // numbers stay numbers; a value that was not a number stays its text
  }
}

void write_element(Writer& w, const Value& element, std::string_view tag, std::string_view bulk_base, int depth);

// A sequence item: an object of "(gggg,eeee)" -> tag object.
void write_item(Writer& w, const Value& item, int depth) {
  w.StartObject();
  if (item.IsObject())
    for (auto m = item.MemberBegin(); m < item.MemberEnd(); ++m) {
      std::string tag = compact_tag(std::string_view(m->name.GetString(), m->name.GetStringLength()));
      if (tag.empty() || !m->value.IsObject()) continue;
      key(w, tag);
      write_element(w, m->value, tag, {}, depth + 1);
    }
  w.EndObject();
}

void write_element(Writer& w, const Value& element, std::string_view tag, std::string_view bulk_base, int depth) {
  std::string_view vr = element.HasMember("VR") && element["VR"].IsString() ? element["VR"].GetString() : "UN";
  const Value* value = element.HasMember("value") ? &element["value"] : nullptr;
  w.StartObject();
  key(w, "vr");
  string(w, vr);
  if (vr == "SQ") {
    key(w, "Value");
    w.StartArray();
    if (value && value->IsArray())
      for (const auto& item : value->GetArray()) write_item(w, item, depth);
    w.EndArray();
  } else if (is_binary_vr(vr) || tag == "7FE00010") {
    if (value && value->IsString() && value->GetStringLength() > 0) {
      key(w, "InlineBinary");
      value->Accept(w);
    } else if (element.HasMember("length") && !bulk_base.empty()) {
      key(w, "BulkDataURI");
      string(w, std::string(bulk_base) + "/" + std::string(tag));
    }
  } else if (value && !value->IsNull() && !(value->IsString() && value->GetStringLength() == 0)) {
    key(w, "Value");
    w.StartArray();
    if (value->IsArray())
      for (const auto& v : value->GetArray()) write_value(w, v, vr);
    else
      write_value(w, *value, vr);
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

const std::vector<SearchKey>& search_keys() {
  static const std::vector<SearchKey> kKeys = {
      {"PatientID", "00100020", "LO"},
      {"PatientName", "00100010", "PN"},
      {"PatientBirthDate", "00100030", "DA"},
      {"PatientSex", "00100040", "CS"},
      {"StudyInstanceUID", "0020000D", "UI"},
      {"StudyDate", "00080020", "DA"},
      {"StudyTime", "00080030", "TM"},
      {"AccessionNumber", "00080050", "SH"},
      {"StudyDescription", "00081030", "LO"},
      {"ReferringPhysicianName", "00080090", "PN"},
      {"InstitutionName", "00080080", "LO"},
      {"ModalitiesInStudy", "00080061", "CS"},
      {"SeriesInstanceUID", "0020000E", "UI"},
      {"Modality", "00080060", "CS"},
      {"SeriesNumber", "00200011", "IS"},
      {"SeriesDescription", "0008103E", "LO"},
      {"BodyPartExamined", "00180015", "CS"},
      {"SOPInstanceUID", "00080018", "UI"},
      {"SOPClassUID", "00080016", "UI"},
      {"InstanceNumber", "00200013", "IS"},
      {"NumberOfStudyRelatedSeries", "00201206", "IS"},
      {"NumberOfStudyRelatedInstances", "00201208", "IS"},
      {"NumberOfSeriesRelatedInstances", "00201209", "IS"},
  };
  return kKeys;
}

const SearchKey* find_search_key(std::string_view name) {
  std::string upper;
  if (name.size() == 8)
    for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& k : search_keys())
    if (k.keyword == name || k.tag == upper) return &k;
  return nullptr;
}

void write_search_result(JsonWriter& out, std::string_view result_json, std::string_view retrieve_url) {
  rapidjson::Document d;
  d.Parse(result_json.data(), result_json.size());
  write_search_result(out, d, retrieve_url);
}

void write_search_result(JsonWriter& out, const rapidjson::Value& d, std::string_view retrieve_url) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_text_element(w, "00080005", "CS", kUtf8);
  // In tag order, as PS3.18 F.2 asks of a data set.
  static const std::vector<const SearchKey*> keys = [] {
    std::vector<const SearchKey*> sorted;
    for (const auto& k : search_keys()) sorted.push_back(&k);
    std::sort(sorted.begin(), sorted.end(), [](const SearchKey* a, const SearchKey* b) { return a->tag < b->tag; });
    return sorted;
  }();
  bool retrieve_written = retrieve_url.empty();
  for (const SearchKey* k : keys) {
    if (!retrieve_written && k->tag > std::string_view("00081190")) {
      write_text_element(w, "00081190", "UR", retrieve_url);
      retrieve_written = true;
    }
    if (!d.IsObject() || !d.HasMember(k->keyword.data())) continue;
    const Value& v = d[k->keyword.data()];
    key(w, k->tag);
    w.StartObject();
    key(w, "vr");
    string(w, k->vr);
    bool empty = v.IsNull() || (v.IsString() && v.GetStringLength() == 0) || (v.IsArray() && v.Empty());
    if (!empty) {
      key(w, "Value");
      w.StartArray();
      if (v.IsArray())
        for (const auto& item : v.GetArray()) write_value(w, item, k->vr);
      else
        write_value(w, v, k->vr);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  out.raw(std::string_view(buffer.GetString(), buffer.GetSize()));
}

std::optional<std::string> metadata_to_dicom_json(std::string_view tags_json, std::string_view bulk_base) {
  rapidjson::Document d;
  // Full precision: a double read back 1 ulp off would be written with other digits.
  d.Parse<rapidjson::kParseFullPrecisionFlag>(tags_json.data(), tags_json.size());
  if (!d.IsArray()) return std::nullopt;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  std::string transfer_syntax;
  bool available_written = false;
  for (const auto& element : d.GetArray()) {
    if (!element.IsObject() || !element.HasMember("tag") || !element["tag"].IsString()) continue;
    std::string tag = compact_tag(element["tag"].GetString());
    if (tag.empty()) continue;
    if (tag.starts_with("0002")) {  // file meta information: not part of the data set
      if (tag == "00020010" && element.HasMember("value") && element["value"].IsString())
        transfer_syntax = element["value"].GetString();
      continue;
    }
    if (tag.ends_with("0000")) continue;  // group lengths
    if (tag == "00080005") {
      // The metadata service decodes every value to UTF-8, whatever the
      // file's character set: the JSON says so.
      write_text_element(w, tag, "CS", kUtf8);
      continue;
    }
    if (!available_written && tag > "00083002" && !transfer_syntax.empty()) {
      // The syntax the instance is stored in: what /frames hands out.
      write_text_element(w, "00083002", "UI", transfer_syntax);
      available_written = true;
    }
    key(w, tag);
    write_element(w, element, tag, bulk_base, 0);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace dicomd::dicomweb
