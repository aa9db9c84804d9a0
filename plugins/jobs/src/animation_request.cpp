#include "animation_request.h"

#include <rapidjson/document.h>

#include <cmath>
#include <cstdio>

#include <dicomd/cpp/http.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/names.hpp>

namespace dicomd::jobs {
namespace {

const rapidjson::Value* member(const rapidjson::Value& o, const char* name) {
  auto it = o.FindMember(name);
  return it == o.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string text_member(const rapidjson::Value& o, const char* name) {
  const auto* v = member(o, name);
  if (!v) return {};
  if (!v->IsString()) throw HttpError(400, std::string(name) + " must be a string");
  return {v->GetString(), v->GetStringLength()};
}

uint32_t number_member(const rapidjson::Value& o, const char* name, uint32_t fallback, uint32_t min, uint32_t max) {
  const auto* v = member(o, name);
  if (!v) return fallback;
  std::string range =
      std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v->IsNumber()) throw HttpError(400, range);
  double d = v->GetDouble();
  if (d != std::floor(d) || d < min || d > max) throw HttpError(400, range);
  return static_cast<uint32_t>(d);
}

// "C,W" as render-png's window parameter takes it.
std::pair<double, double> parse_window(const std::string& text) {
  const char* kHow = "window must be \"CENTER,WIDTH\" with a width greater than 0";
  size_t comma = text.find(',');
  if (comma == std::string::npos) throw HttpError(400, kHow);
  auto number = [&](const std::string& part) {
    char* end = nullptr;
    double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(v)) throw HttpError(400, kHow);
    return v;
  };
  double center = number(text.substr(0, comma)), width = number(text.substr(comma + 1));
  if (width <= 0) throw HttpError(400, kHow);
  return {center, width};
}

std::string window_text(const std::pair<double, double>& w) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%.17g,%.17g", w.first, w.second);
  return buf;
}

AnimationRequest from_object(const rapidjson::Value& d) {
  AnimationRequest r;
  r.study = text_member(d, "study");
  r.series = text_member(d, "series");
  r.file = text_member(d, "file");
  if (r.study.empty()) throw HttpError(400, "study is required");
  if (!is_valid_name(r.study)) throw HttpError(400, "invalid study name");
  if (r.series.empty() == r.file.empty()) throw HttpError(400, "give either series (a SeriesInstanceUID) or file");
  if (!r.file.empty() && !is_valid_name(r.file)) throw HttpError(400, "invalid file name");
  if (!r.series.empty() && (r.series.size() > 64 || r.series.find_first_not_of("0123456789.") != std::string::npos))
    throw HttpError(400, "series must be a SeriesInstanceUID (digits and dots, at most 64)");
  std::string format = text_member(d, "format");
  if (!format.empty()) {
    auto f = format_named(format);
    if (!f) throw HttpError(400, "format must be apng, gif or webp");
    r.format = *f;
  }
  r.fps = number_member(d, "fps", r.fps, kMinFps, kMaxFps);
  r.size = number_member(d, "size", r.size, kMinSize, kMaxSize);
  if (std::string w = text_member(d, "window"); !w.empty()) r.window = parse_window(w);
  return r;
}

}  // namespace

AnimationRequest parse_animation_request(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) throw HttpError(400, "the body must be a JSON object");
  static constexpr const char* kKnown[] = {"type", "study", "series", "file", "format", "fps", "size", "window"};
  // (<, not the range-for's !=, which clang finds ambiguous on rapidjson's iterators in C++20)
  for (auto m = d.MemberBegin(); m < d.MemberEnd(); ++m) {
    std::string_view name(m->name.GetString(), m->name.GetStringLength());
    bool known = false;
    for (const char* k : kKnown) known = known || name == k;
    if (!known) throw HttpError(400, "unknown member \"" + std::string(name) + "\"");
  }
  if (text_member(d, "type") != "animate") throw HttpError(400, "type must be \"animate\"");
  return from_object(d);
}

AnimationRequest animation_from_params(std::string_view params_json) {
  rapidjson::Document d;
  d.Parse(params_json.data(), params_json.size());
  if (d.HasParseError() || !d.IsObject()) throw HttpError(400, "the job's params are not a JSON object");
  return from_object(d);
}

std::string AnimationRequest::params_json() const {
  JsonWriter w;
  w.start_object().key("study").string(study);
  if (!series.empty()) w.key("series").string(series);
  if (!file.empty()) w.key("file").string(file);
  w.key("format").string(name_of(format)).key("fps").uint(fps).key("size").uint(size);
  if (window) w.key("window").string(window_text(*window));
  w.end_object();
  return std::string(w.text());
}

std::string AnimationRequest::dedup_key() const {
  return "animate " + params_json();
}

}  // namespace dicomd::jobs
