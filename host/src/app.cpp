#include "app.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "log.h"
#include "ops/metrics_page.h"
#include "ops/openapi.h"
#include "server/builtin_routes.h"
#include "trace/request_trace.h"

namespace dicomd {
std::string plugin_dir_default(const std::string& self_exe) {
  namespace fs = std::filesystem;
  return (fs::path(self_exe).parent_path().parent_path() / "lib" / "dicomd" / "plugins").string();
}

App::App(Config config, std::string self_exe) : config_(std::move(config)), self_exe_(std::move(self_exe)) {}

App::~App() {
  trace::set_failure_sink(nullptr, nullptr);
  shutdown();
}

void App::start_plugins() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) throw std::runtime_error("cannot create data folder " + config_.data_dir + ": " + ec.message());
  context_.data_dir = fs::canonical(config_.data_dir).string();
  lock_ = std::make_unique<DataFolderLock>(context_.data_dir,
                                           config_.shared_data_folder);  // before any plugin touches the folder
  context_.max_body_bytes = config_.max_body_mb << 20;
  context_.plugins = &plugins_;
  context_.events = &events_;
  context_.metrics = &metrics_;
  std::string plugin_dir = config_.plugin_dir.empty() ? plugin_dir_default(self_exe_) : config_.plugin_dir;

  plugins_.load(config_, plugin_dir);
  plugins_.resolve(config_.bind);
  mount_routes();  // before init: a route conflict must stop us before any plugin runs
  trace::set_failure_sink(&App::publish_failure, this);
  try {
    plugins_.init_all(context_);
    plugins_.start_workers(self_exe_, config_.isolation);
    plugins_.start_all();
  } catch (const PluginError& e) {
    // Plugins that started before (an error tracker listed first) hear of
    // it before the server exits.
    publish_failure(this, e.plugin, DICOMD_E_INTERNAL, "start-up", e.what());
    events_.start();
    events_.flush(std::chrono::seconds(2));
    throw;
  }
  events_.start();  // subscribers get events once every plugin has started
}

// A "host.error" event (docs/plugin-sdk.md): a failure no request saw.
void App::publish_failure(void* self, std::string_view source, int32_t status, std::string_view what,
                          std::string_view detail) {
  std::string payload = "{\"source\":";
  log::append_json_string(payload, source);
  payload += ",\"status\":" + std::to_string(status) + ",\"what\":";
  log::append_json_string(payload, what);
  payload += ",\"detail\":";
  log::append_json_string(payload, detail);
  payload += '}';
  static_cast<App*>(self)->events_.publish("host.error", source, payload);
}

bool App::check(std::FILE* out) {
  std::string plugin_dir = config_.plugin_dir.empty() ? plugin_dir_default(self_exe_) : config_.plugin_dir;
  std::fprintf(out, "listen: %s:%u\ndata folder: %s\n", config_.host.c_str(), config_.port, config_.data_dir.c_str());
  try {
    plugins_.load(config_, plugin_dir);
    plugins_.resolve(config_.bind);
    mount_routes();
  } catch (const std::exception& e) {
    std::fprintf(out, "error: %s\n", e.what());
    return false;
  }
  bool good = true;
  std::fprintf(out, "plugins:\n");
  for (const PluginEntry& entry : config_.plugins) {
    const LoadedPlugin* loaded = nullptr;
    for (const LoadedPlugin* p : plugins_.ordered())
      if (p->name == entry.name) loaded = p;
    if (!loaded) {
      std::fprintf(out, "  %s: disabled\n", entry.name.c_str());
      continue;
    }
    std::string verdict = "config not checked (plugin built before ABI 1.4)";
    if (auto check_config = loaded->check_config()) {
      std::string problem;
      const std::string& cfg = entry.config_json;
      if (check_config({cfg.data(), cfg.size()}, append_sink(problem)) == DICOMD_OK) {
        verdict = "config ok";
      } else {
        verdict = "config error: " + problem;
        good = false;
      }
    }
    std::fprintf(out, "  %s %s: %s\n", loaded->name.c_str(), loaded->descriptor->version, verdict.c_str());
    for (const auto& [service, provider] : loaded->bound)
      std::fprintf(out, "    uses %s from %s\n", service.c_str(), provider->name.c_str());
  }
  std::fprintf(out, "routes:\n");
  for (const auto& r : dispatcher_.routes())
    std::fprintf(out, "  %-6s %-28s %s\n", r.method.c_str(), r.pattern.c_str(), r.owner.c_str());
  std::fprintf(out, good ? "configuration ok\n" : "configuration has errors\n");
  return good;
}

const void* App::find_service(const std::string& service, uint32_t major) const {
  for (const LoadedPlugin* p : plugins_.ordered()) {
    auto it = p->provided.find(service_key(service, major));
    if (it != p->provided.end()) return it->second;
  }
  return nullptr;
}

void App::start() {
  start_plugins();

  HttpServerOptions options;
  options.host = config_.host;
  options.port = config_.port;
  // Half the cores by default: the I/O threads answer cached lookups
  // themselves; the other half runs handlers and isolated workers (on 2
  // cores, 1 I/O thread served 68k cached lookups/s, 2 served 58k).
  options.reactor_threads =
      config_.reactor_threads ? config_.reactor_threads : std::max<size_t>(1, std::thread::hardware_concurrency() / 2);
  options.handler_threads = config_.threads;
  options.limits.max_body_bytes = context_.max_body_bytes;
  options.keepalive_timeout = std::chrono::milliseconds(config_.keepalive_timeout_ms);
  options.header_timeout = std::chrono::milliseconds(config_.header_timeout_ms);
  options.max_uploads = config_.max_concurrent_uploads;
  options.max_body_memory = config_.max_body_memory_mb << 20;
  options.max_body_memory_per_client = config_.max_body_memory_per_client_mb << 20;
  options.max_connections = config_.max_connections;
  options.max_connections_per_client = config_.max_connections_per_client;
  options.max_pipelined_bytes = config_.max_pipelined_kb << 10;
  options.write_timeout = std::chrono::milliseconds(config_.write_timeout_ms);
  options.min_send_bytes_per_s = config_.min_send_rate_kbps << 10;
  options.min_body_bytes_per_s = config_.min_body_rate_kbps << 10;
  server_ = std::make_unique<HttpServer>(
      options,
      [this](http::Request& req, const std::string& id, const Reply& reply) {
        return dispatcher_.accept(req, id, reply);
      },
      [this](const http::Request& head) { return dispatcher_.precheck(head); });
  server_->start();
}

void App::mount_routes() {
  RouteTarget plugins_route, health_route, metrics_route, openapi_route;
  plugins_route.builtin = [this] { return plugins_report(config_, plugins_); };
  plugins_route.doc = kPluginsDoc;
  health_route.builtin = [this] { return health_report(plugins_); };
  health_route.doc = kHealthDoc;
  metrics_route.builtin = [this] { return metrics_report(dispatcher_, plugins_, metrics_); };
  metrics_route.doc = kMetricsDoc;
  openapi_route.builtin = [this] {
    http::Response r;
    r.json(200, openapi_);
    return r;
  };
  openapi_route.doc = kOpenApiDoc;
  dispatcher_.add_route("GET", "/plugins", "dicomd", std::move(plugins_route));
  dispatcher_.add_route("GET", "/health", "dicomd", std::move(health_route));
  dispatcher_.add_route("GET", "/metrics", "dicomd", std::move(metrics_route));
  dispatcher_.add_route("GET", "/openapi.json", "dicomd", std::move(openapi_route));
  dispatcher_.mount(plugins_.ordered(), plugins_.in_config_order());
  openapi_ = openapi_document(dispatcher_);
}

void App::shutdown() {
  if (server_) {
    uint64_t in_flight = dispatcher_.in_flight(), answered = dispatcher_.answered();
    log::info("dicomd", "draining: " + std::to_string(in_flight) + " requests in flight, " + std::to_string(answered) +
                            " answered since start");
    server_->begin_drain();
    bool idle = server_->wait_idle(std::chrono::milliseconds(config_.drain_timeout_ms));
    uint64_t finished = dispatcher_.answered() - answered, left = dispatcher_.in_flight();
    if (idle)
      log::info("dicomd", "drained: " + std::to_string(finished) + " requests finished during the drain");
    else
      log::warn("dicomd", "drain timeout after " + std::to_string(config_.drain_timeout_ms) +
                              " ms: " + std::to_string(finished) + " requests finished, " + std::to_string(left) +
                              " still running are abandoned");
    server_->stop();
    server_.reset();
  }
  // Events the last requests published are delivered before plugins stop.
  events_.stop(std::chrono::milliseconds(config_.drain_timeout_ms));
  plugins_.stop_all();
}

}  // namespace dicomd
