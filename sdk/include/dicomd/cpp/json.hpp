// dicomd plugin SDK, C++ layer — writing JSON answers with RapidJSON
// (header-only; Debian rapidjson-dev): escaping and UTF-8 are its job, not
// string splicing's.
//
//   dicomd::JsonWriter w;
//   w.start_object().key("study").string(study).key("success").boolean(true).end_object();
//   res.json(200, w.text());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dicomd {

class JsonWriter {
 public:
  JsonWriter() : writer_(buffer_) {}
  JsonWriter& start_object() { return done(writer_.StartObject()); }
  JsonWriter& end_object() { return done(writer_.EndObject()); }
  JsonWriter& start_array() { return done(writer_.StartArray()); }
  JsonWriter& end_array() { return done(writer_.EndArray()); }
  JsonWriter& key(std::string_view k) { return done(writer_.Key(k.data(), size(k))); }
  JsonWriter& string(std::string_view s) { return done(writer_.String(s.data(), size(s))); }
  JsonWriter& uint(uint64_t v) { return done(writer_.Uint64(v)); }
  JsonWriter& integer(int64_t v) { return done(writer_.Int64(v)); }
  JsonWriter& boolean(bool v) { return done(writer_.Bool(v)); }
  // Already-serialised JSON (a value another component produced).
  JsonWriter& raw(std::string_view json) {
    return done(writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType));
  }
  JsonWriter& strings(const std::vector<std::string>& items) {
    start_array();
    for (const auto& s : items) string(s);
    return end_array();
  }
  std::string_view text() const { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  static rapidjson::SizeType size(std::string_view s) { return static_cast<rapidjson::SizeType>(s.size()); }
  JsonWriter& done(bool) { return *this; }
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace dicomd
