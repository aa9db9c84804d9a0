#include "search_query.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include <dicomd/cpp/http.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/names.hpp>

namespace dicomd::index {
namespace {

// A JSON number or a string of digits (URL parameters arrive as strings).
uint64_t unsigned_member(const rapidjson::Value& v, std::string_view name, uint64_t max) {
  std::string what = std::string(name) + " must be an integer from 0 to " + std::to_string(max);
  uint64_t n = 0;
  if (v.IsUint64()) {
    n = v.GetUint64();
  } else if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) throw QueryError(what);
  } else {
    throw QueryError(what);
  }
  if (n > max) throw QueryError(what);
  return n;
}

bool bool_member(const rapidjson::Value& v, std::string_view name) {
  if (v.IsBool()) return v.GetBool();
  if (v.IsString() && (std::string_view(v.GetString()) == "true" || std::string_view(v.GetString()) == "false"))
    return std::string_view(v.GetString()) == "true";
  throw QueryError(std::string(name) + " must be true or false");
}

std::string filter_value(const rapidjson::Value& v, std::string_view key) {
  std::string value;
  if (v.IsString())
    value.assign(v.GetString(), v.GetStringLength());
  else if (v.IsInt64())
    value = std::to_string(v.GetInt64());
  else
    throw QueryError("the value of " + std::string(key) + " must be a string");
  if (value.size() > kMaxValueBytes)
    throw QueryError("the value of " + std::string(key) + " is longer than " + std::to_string(kMaxValueBytes) +
                     " bytes");
  if (!is_valid_utf8(value)) throw QueryError("the value of " + std::string(key) + " is not valid UTF-8");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) throw QueryError("the value of " + std::string(key) + " has a control character");
  return value;
}

void parse_order(std::string_view list, SearchQuery& q) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    bool descending = !item.empty() && item.front() == '-';
    if (!item.empty() && (item.front() == '-' || item.front() == '+')) item.remove_prefix(1);
    const SearchKey* key = find_key(item);
    if (!key) throw QueryError("orderby: unknown key \"" + std::string(item) + "\"");
    if (key->level > q.level || key->match == Match::kModalities)
      throw QueryError("orderby: " + std::string(item) + " is not a key of the " + std::string(level_name(q.level)) +
                       " level");
    for (const auto& o : q.order)
      if (o.key == key) throw QueryError("orderby: " + std::string(item) + " is given twice");
    q.order.push_back({key, descending});
    if (q.order.size() > kMaxOrderKeys) throw QueryError("orderby: at most " + std::to_string(kMaxOrderKeys) + " keys");
  }
}

}  // namespace

SearchQuery parse_search_query(std::string_view query_json) {
  rapidjson::Document d;
  d.Parse(query_json.data(), query_json.size());
  if (d.HasParseError() || !d.IsObject()) throw QueryError("the query must be a JSON object");
  SearchQuery q;
  if (d.HasMember("level")) {  // first: orderby depends on it
    const auto& v = d["level"];
    auto level = v.IsString() ? parse_level(v.GetString()) : std::nullopt;
    if (!level) throw QueryError("level must be instance, series or study");
    q.level = *level;
  }
  std::vector<std::string_view> seen;
  for (const auto& m : std::as_const(d).GetObject()) {  // const: clang finds mutable iterators ambiguous
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      throw QueryError(std::string(name) + " is given twice");
    seen.push_back(name);
    if (name == "level") continue;
    if (name == "limit") {
      q.limit = static_cast<uint32_t>(unsigned_member(m.value, name, kMaxLimit));
    } else if (name == "offset") {
      q.offset = unsigned_member(m.value, name, kMaxOffset);
    } else if (name == "fuzzymatching") {
      q.fuzzy = bool_member(m.value, name);
    } else if (name == "orderby") {
      if (m.value.IsString()) {
        parse_order(m.value.GetString(), q);
      } else if (m.value.IsArray()) {
        for (const auto& item : m.value.GetArray()) {
          if (!item.IsString()) throw QueryError("orderby must list key names");
          parse_order(item.GetString(), q);
        }
      } else {
        throw QueryError("orderby must list key names");
      }
    } else if (name == "filters") {
      if (!m.value.IsObject()) throw QueryError("filters must be an object of search keys");
      for (const auto& f : m.value.GetObject()) {
        std::string_view keyword(f.name.GetString(), f.name.GetStringLength());
        const SearchKey* key = find_key(keyword);
        if (!key) throw QueryError("unknown search key \"" + std::string(keyword) + "\"");
        for (const auto& existing : q.filters)
          if (existing.key == key) throw QueryError(std::string(keyword) + " is given twice");
        q.filters.push_back({key, filter_value(f.value, keyword)});
      }
    } else {
      throw QueryError("unknown query member \"" + std::string(name) + "\"");
    }
  }
  return q;
}

std::string query_error_json(std::string_view message) {
  JsonWriter w;
  // The message may quote a key the client sent: its bytes that are not
  // UTF-8 become U+FFFD, so that the answer stays JSON.
  w.start_object().key("error").string(to_valid_utf8(message)).key("supported").start_array();
  for (const auto& k : search_keys()) w.string(k.keyword);
  for (const char* p : {"level", "limit", "offset", "orderby", "fuzzymatching"}) w.string(p);
  w.end_array().end_object();
  return std::string(w.text());
}

}  // namespace dicomd::index
