#include "ops/openapi.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "http/text.h"
#include "log.h"
#include "server/dispatcher.h"
#include "version.h"

namespace dicomd {
namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

Value text(const std::string& s, Allocator& a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// The names of ":param" segments, in order.
std::vector<std::string> path_params(const std::string& pattern) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = pattern.find("/:", pos)) != std::string::npos) {
    size_t end = pattern.find('/', pos + 1);
    out.push_back(pattern.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2));
    pos += 2;
  }
  return out;
}

Value operation(const Dispatcher::MountedRoute& route, Allocator& a) {
  const std::string& doc = route.target->doc;
  Value op(rapidjson::kObjectType);
  if (!doc.empty()) {
    rapidjson::Document parsed;
    parsed.Parse(doc.c_str(), doc.size());
    if (!parsed.HasParseError() && parsed.IsObject())
      op.CopyFrom(parsed, a);
    else
      log::warn(route.owner, "the OpenAPI description of " + route.method + " " + route.pattern +
                                 " is not a JSON object: the route is listed without it");
  }
  if (!op.HasMember("summary") && !op.HasMember("description"))
    op.AddMember("summary", text(route.method + " " + route.pattern + " (" + route.owner + ")", a), a);
  if (!op.HasMember("tags")) {
    Value tags(rapidjson::kArrayType);
    tags.PushBack(text(route.owner, a), a);
    op.AddMember("tags", tags, a);
  }
  if (!op.HasMember("responses")) {
    Value responses(rapidjson::kObjectType), answer(rapidjson::kObjectType);
    answer.AddMember("description", "the answer, or a JSON error {\"success\":false,\"error\":…}", a);
    responses.AddMember("default", answer, a);
    op.AddMember("responses", responses, a);
  }
  if (!op.HasMember("parameters")) op.AddMember("parameters", Value(rapidjson::kArrayType), a);
  Value& params = op["parameters"];
  if (!params.IsArray()) return op;
  std::set<std::string> declared;
  for (const auto& p : params.GetArray())
    if (p.IsObject() && p.HasMember("in") && p["in"] == "path" && p.HasMember("name") && p["name"].IsString())
      declared.insert(p["name"].GetString());
  for (const std::string& name : path_params(route.pattern)) {
    if (declared.count(name)) continue;
    Value p(rapidjson::kObjectType), schema(rapidjson::kObjectType);
    p.AddMember("name", text(name, a), a);
    p.AddMember("in", "path", a);
    p.AddMember("required", true, a);
    schema.AddMember("type", "string", a);
    p.AddMember("schema", schema, a);
    params.PushBack(p, a);
  }
  return op;
}

}  // namespace

std::string openapi_path(const std::string& pattern) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t end = pattern.find('/', pos + 1);
    std::string segment = pattern.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    out += segment.starts_with("/:") ? "/{" + segment.substr(2) + "}" : segment;
    if (end == std::string::npos) break;
    pos = end;
  }
  return out.empty() ? "/" : out;
}

std::string openapi_document(const Dispatcher& dispatcher) {
  rapidjson::Document doc(rapidjson::kObjectType);
  Allocator& a = doc.GetAllocator();
  doc.AddMember("openapi", "3.1.0", a);
  Value info(rapidjson::kObjectType), license(rapidjson::kObjectType);
  info.AddMember("title", "dicomd", a);
  info.AddMember("version", DICOMD_VERSION, a);
  info.AddMember("description",
                 "The routes this dicomd serves, as its configuration mounts them: every plugin describes its own.", a);
  license.AddMember("name", "Apache-2.0", a);
  license.AddMember("identifier", "Apache-2.0", a);
  info.AddMember("license", license, a);
  doc.AddMember("info", info, a);
  Value paths(rapidjson::kObjectType);
  for (const auto& route : dispatcher.routes()) {
    std::string path = openapi_path(route.pattern);
    if (!paths.HasMember(path.c_str())) paths.AddMember(text(path, a), Value(rapidjson::kObjectType), a);
    paths[path.c_str()].AddMember(text(http::lower(route.method), a), operation(route, a), a);
  }
  doc.AddMember("paths", paths, a);
  // The error every route answers with (docs/api.md); plugins' operations
  // refer to it as "#/components/schemas/Error".
  rapidjson::Document components;
  components.Parse(R"({"schemas": {"Error": {"type": "object", "required": ["success", "error"],
      "properties": {"success": {"const": false}, "error": {"type": "string"}}}}})");
  doc.AddMember("components", Value(components, a), a);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return buffer.GetString();
}

}  // namespace dicomd
