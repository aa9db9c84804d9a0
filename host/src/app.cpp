#include "app.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "log.h"
#include "server/builtin_routes.h"

namespace dicomd {
std::string plugin_dir_default(const std::string& self_exe) {
  namespace fs = std::filesystem;
  return (fs::path(self_exe).parent_path().parent_path() / "lib" / "dicomd" / "plugins").string();
}

App::App(Config config, std::string self_exe) : config_(std::move(config)), self_exe_(std::move(self_exe)) {}

App::~App() {
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
  std::string plugin_dir = config_.plugin_dir.empty() ? plugin_dir_default(self_exe_) : config_.plugin_dir;

  plugins_.load(config_, plugin_dir);
  plugins_.resolve(config_.bind);
  mount_routes();  // before init: a route conflict must stop us before any plugin runs
  plugins_.init_all(context_);
  plugins_.start_workers(self_exe_, config_.isolation);
  plugins_.start_all();
  events_.start();  // subscribers get events once every plugin has started
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
  RouteTarget plugins_route, health_route;
  plugins_route.builtin = [this] { return plugins_report(config_, plugins_); };
  health_route.builtin = [this] { return health_report(plugins_); };
  dispatcher_.add_route("GET", "/plugins", "dicomd", std::move(plugins_route));
  dispatcher_.add_route("GET", "/health", "dicomd", std::move(health_route));
  dispatcher_.mount(plugins_.ordered(), plugins_.in_config_order());
}

void App::shutdown() {
  if (server_) {
    server_->begin_drain();
    if (!server_->wait_idle(std::chrono::milliseconds(config_.drain_timeout_ms)))
      log::warn("dicomd", "drain timeout: some requests were still running");
    server_->stop();
    server_.reset();
  }
  // Events the last requests published are delivered before plugins stop.
  events_.stop(std::chrono::milliseconds(config_.drain_timeout_ms));
  plugins_.stop_all();
}

}  // namespace dicomd
