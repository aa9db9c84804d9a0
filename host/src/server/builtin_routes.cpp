#include "server/builtin_routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "isolation/worker_pool.h"

namespace dicomd {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_services(Writer& w, const char* key, const dicomd_service_ref* refs, size_t n, const LoadedPlugin* p) {
  w.Key(key);
  w.StartArray();
  for (size_t i = 0; i < n; ++i) {
    w.StartObject();
    w.Key("name");
    w.String(refs[i].name);
    w.Key("major");
    w.Uint(refs[i].major);
    if (std::string(key) == "requires") {
      w.Key("optional");
      w.Bool(refs[i].optional != 0);
      w.Key("boundTo");
      auto it = p->bound.find(service_key(refs[i].name, refs[i].major));
      if (it == p->bound.end())
        w.Null();
      else
        w.String(it->second->name.c_str());
    }
    w.EndObject();
  }
  w.EndArray();
}

void write_plugin(Writer& w, const LoadedPlugin* p) {
  const auto* d = p->descriptor;
  w.StartObject();
  w.Key("name");
  w.String(p->name.c_str());
  w.Key("version");
  w.String(d->version);
  w.Key("description");
  w.String(d->description ? d->description : "");
  w.Key("abiVersion");
  w.String((std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor)).c_str());
  w.Key("enabled");
  w.Bool(true);
  write_services(w, "provides", d->provides, d->provides_count, p);
  write_services(w, "requires", d->requires_, d->requires_count, p);
  w.Key("routes");
  w.StartArray();
  for (size_t i = 0; i < d->route_count; ++i) {
    w.StartObject();
    w.Key("method");
    w.String(d->routes[i].method);
    w.Key("path");
    w.String(d->routes[i].pattern);
    w.EndObject();
  }
  w.EndArray();
  w.Key("isolatedWorkers");
  w.Uint(p->workers ? static_cast<unsigned>(p->workers->size()) : 0);
  w.EndObject();
}

}  // namespace

http::Response plugins_report(const Config& config, const PluginManager& plugins) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("success");
  w.Bool(true);
  w.Key("abiVersion");
  w.String((std::to_string(DICOMD_ABI_MAJOR) + "." + std::to_string(DICOMD_ABI_MINOR)).c_str());
  w.Key("plugins");
  w.StartArray();
  for (const PluginEntry& entry : config.plugins) {
    const LoadedPlugin* loaded = nullptr;
    for (const LoadedPlugin* p : plugins.ordered())
      if (p->name == entry.name) loaded = p;
    if (loaded) {
      write_plugin(w, loaded);
    } else {
      w.StartObject();
      w.Key("name");
      w.String(entry.name.c_str());
      w.Key("enabled");
      w.Bool(false);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  http::Response r;
  r.json(200, buffer.GetString());
  return r;
}

http::Response health_report(const PluginManager& plugins) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  bool all_ready = true;
  w.StartObject();
  w.Key("plugins");
  w.StartArray();
  for (const LoadedPlugin* p : plugins.ordered()) {
    std::string detail;
    bool ready = p->descriptor->ready ? p->descriptor->ready(p->self, append_sink(detail)) != 0 : true;
    w.StartObject();
    w.Key("name");
    w.String(p->name.c_str());
    w.Key("ready");
    w.Bool(ready);
    if (!detail.empty()) {
      w.Key("detail");
      w.String(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()));
    }
    if (p->workers) {
      size_t alive = p->workers->alive();
      w.Key("workers");
      w.StartObject();
      w.Key("alive");
      w.Uint(static_cast<unsigned>(alive));
      w.Key("size");
      w.Uint(static_cast<unsigned>(p->workers->size()));
      w.Key("replaced");
      w.Uint(static_cast<unsigned>(p->workers->replaced()));
      w.EndObject();
    }
    w.EndObject();
    all_ready = all_ready && ready;
  }
  w.EndArray();
  w.Key("status");
  w.String(all_ready ? "ok" : "degraded");
  w.Key("success");
  w.Bool(all_ready);
  w.EndObject();
  http::Response r;
  r.json(all_ready ? 200 : 503, buffer.GetString());
  return r;
}

}  // namespace dicomd
