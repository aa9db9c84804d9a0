// QIDO-RS (PS3.18 10.6): searches at the three levels, answered from the index.
#include <charconv>

#include <rapidjson/document.h>

#include "echo.h"
#include "dicom_json.h"
#include "dicomweb.h"
#include "dictionary.h"
#include "negotiation.h"

namespace dicomd::dicomweb {
namespace {

constexpr uint64_t kMaxLimit = 1000;  // the index's own bound

uint64_t parse_count(std::string_view name, std::string_view value) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n > (uint64_t{1} << 31))
    throw HttpError(400,
                    std::string(name) + " must be a whole number from 0 to 2147483648, not \"" + echo(value) + "\"");
  return n;
}

// includefield: keywords or tags, comma-separated, or "all". Each must be
// a DICOM attribute; the answer holds the ones the index keeps.
void check_includefield(std::string_view value) {
  if (value.empty()) throw HttpError(400, "includefield is empty: name attributes, or \"all\"");
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view field = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (field == "all") continue;
    if (field.empty() || !metadata::parse_tag_spec(field))
      throw HttpError(400, "includefield: \"" + echo(field) + "\" is not a DICOM keyword or tag (or \"all\")");
  }
}

[[noreturn]] void refuse_key(std::string_view name) {
  std::string supported;
  for (const auto& k : search_keys())
    if (!k.keyword.starts_with("NumberOf")) supported += (supported.empty() ? "" : ", ") + std::string(k.keyword);
  bool known = metadata::parse_tag_spec(name).has_value();
  throw HttpError(400, "\"" + echo(name) + "\" " +
                           (known ? "is not a search key of this server" : "is not a DICOM keyword or tag") +
                           "; search keys: " + supported);
}

}  // namespace

bool is_uid(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  return s.front() != '.' && s.back() != '.';
}

std::string DicomWeb::base_url(const Request& req) const {
  if (!settings_.base_url.empty()) return settings_.base_url;
  std::string_view host = req.header("host").value_or("localhost");
  // Only what a host[:port] may hold: a forged Host never reaches a URL we write.
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return "/dicom-web";
  return "http://" + std::string(host) + "/dicom-web";
}

void DicomWeb::search_studies(const Request& req, Response& res) {
  search(req, res, "study");
}
void DicomWeb::search_series(const Request& req, Response& res) {
  search(req, res, "series");
}
void DicomWeb::search_instances(const Request& req, Response& res) {
  search(req, res, "instance");
}

void DicomWeb::search(const Request& req, Response& res, std::string_view level) {
  settings_.cors.add_headers(req, res);
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  auto type = choose_single(*accept, {"application/dicom+json", "application/json"});
  if (!type) throw HttpError(406, "QIDO-RS answers application/dicom+json only");

  JsonWriter filters;
  filters.start_object();
  std::string study_uid, series_uid;
  if (auto p = req.param("study")) {
    if (!is_uid(*p)) throw HttpError(400, "the study in the path is not a UID");
    study_uid = *p;
    filters.key("StudyInstanceUID").string(*p);
  }
  if (auto p = req.param("series")) {
    if (!is_uid(*p)) throw HttpError(400, "the series in the path is not a UID");
    series_uid = *p;
    filters.key("SeriesInstanceUID").string(*p);
  }
  uint64_t limit = kMaxLimit, offset = 0;
  bool limit_cut = false, client_limited = false, fuzzy = false;
  for (auto [name, value] : req.query_params()) {
    if (name == "limit") {
      limit = parse_count(name, value);
      if (limit == 0 || limit > kMaxLimit) {
        limit_cut = limit > kMaxLimit;
        limit = kMaxLimit;
      } else {
        client_limited = true;
      }
    } else if (name == "offset") {
      offset = parse_count(name, value);
    } else if (name == "fuzzymatching") {
      if (value != "true" && value != "false") throw HttpError(400, "fuzzymatching must be true or false");
      fuzzy = value == "true";
    } else if (name == "includefield") {
      check_includefield(value);
    } else {
      const SearchKey* key = find_search_key(name);
      if (!key || key->keyword.starts_with("NumberOf")) refuse_key(name);
      if ((key->keyword == "StudyInstanceUID" && !study_uid.empty()) ||
          (key->keyword == "SeriesInstanceUID" && !series_uid.empty()))
        continue;  // the path's UID decides
      filters.key(key->keyword).string(value);
    }
  }
  filters.end_object();
  JsonWriter query;
  query.start_object().key("level").string(level).key("filters").raw(filters.text());
  query.key("limit").uint(limit).key("offset").uint(offset).key("fuzzymatching").boolean(fuzzy);
  query.key("orderby").start_array();
  if (level == "series") query.string("SeriesNumber");
  if (level == "instance") query.string("SeriesNumber").string("InstanceNumber");
  query.end_array().end_object();

  std::string answer;
  try {
    answer = s_.index.search(query.text());
  } catch (const ServiceError& e) {
    if (e.code != DICOMD_E_INVALID) throw;
    rapidjson::Document refusal;
    refusal.Parse(e.what());
    throw HttpError(400, refusal.IsObject() && refusal.HasMember("error") && refusal["error"].IsString()
                             ? refusal["error"].GetString()
                             : "the search was refused");
  }
  rapidjson::Document d;
  d.Parse(answer.data(), answer.size());
  if (!d.IsObject() || !d.HasMember("results") || !d["results"].IsArray()) throw HttpError(500, "the index failed");

  std::string base = base_url(req);
  JsonWriter out;
  out.start_array();
  for (const auto& r : d["results"].GetArray()) {
    auto text = [&](const char* k) {
      return r.HasMember(k) && r[k].IsString() ? std::string(r[k].GetString()) : std::string();
    };
    std::string url = base + "/studies/" + text("StudyInstanceUID");
    if (level != "study") url += "/series/" + text("SeriesInstanceUID");
    if (level == "instance") url += "/instances/" + text("SOPInstanceUID");
    write_search_result(out, r, url);
  }
  out.end_array();
  uint64_t total = d.HasMember("total") && d["total"].IsUint64() ? d["total"].GetUint64() : 0;
  if (limit_cut || (!client_limited && offset + d["results"].Size() < total))
    res.header("Warning", "299 dicomd: \"There are additional results that can be requested\"");
  res.send(200, *type, out.text());
}

}  // namespace dicomd::dicomweb
