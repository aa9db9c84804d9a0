#include "app.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "http/url.h"
#include "log.h"
#include "server/builtin_routes.h"

namespace dicomd {
namespace {

dicomd_str str(const std::string& s) {
  return {s.data(), s.size()};
}

std::vector<dicomd_kv> to_kv(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<dicomd_kv> out;
  out.reserve(pairs.size());
  for (const auto& [name, value] : pairs) out.push_back({str(name), str(value)});
  return out;
}

http::Response error(int status, std::string_view message) {
  http::Response r;
  r.json(status, http::json_error(message));
  return r;
}

}  // namespace

std::string plugin_dir_default(const std::string& self_exe) {
  namespace fs = std::filesystem;
  return (fs::path(self_exe).parent_path().parent_path() / "lib" / "dicomd" / "plugins").string();
}

App::App(Config config, std::string self_exe) : config_(std::move(config)), self_exe_(std::move(self_exe)) {}

App::~App() {
  shutdown();
}

void App::start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) throw std::runtime_error("cannot create data folder " + config_.data_dir + ": " + ec.message());
  context_.data_dir = fs::canonical(config_.data_dir).string();
  context_.max_body_bytes = config_.max_body_mb << 20;
  context_.plugins = &plugins_;
  std::string plugin_dir = config_.plugin_dir.empty() ? plugin_dir_default(self_exe_) : config_.plugin_dir;

  plugins_.load(config_, plugin_dir);
  plugins_.resolve(config_.bind);
  mount_routes();  // before init: a route conflict must stop us before any plugin runs
  plugins_.init_all(context_);
  plugins_.start_workers(self_exe_, config_.isolation);
  plugins_.start_all();

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
  server_ =
      std::make_unique<HttpServer>(options, [this](const http::Request& req, const std::string& id, const Reply& reply,
                                                   bool may_block) { return handle(req, id, reply, may_block); });
  server_->start();
}

void App::mount_routes() {
  auto add = [this](const std::string& method, const std::string& pattern, const std::string& owner,
                    RouteTarget target) {
    if (auto other = router_.add(method, pattern, owner, std::move(target))) {
      std::string who = *other == owner ? "declares it twice" : "conflicts with plugin '" + *other + "'";
      throw PluginError(owner, "route " + method + " " + pattern + " " + who);
    }
  };
  add("GET", "/plugins", "dicomd", {nullptr, nullptr, [this] { return plugins_report(config_, plugins_); }});
  add("GET", "/health", "dicomd", {nullptr, nullptr, [this] { return health_report(plugins_); }});
  for (LoadedPlugin* p : plugins_.ordered()) {
    const auto* d = p->descriptor;
    for (size_t i = 0; i < d->route_count; ++i)
      add(d->routes[i].method, d->routes[i].pattern, p->name,
          {p, d->routes[i].handler, nullptr, (p->route_flags(i) & DICOMD_ROUTE_QUICK) != 0});
  }
}

// On the I/O thread (may_block false) only errors of routing and quick
// routes are answered; everything else returns false, to run again on a
// request thread.
bool App::handle(const http::Request& request, const std::string& request_id, const Reply& reply, bool may_block) {
  http::Response response;
  try {
    auto match = router_.match(request.method, request.path);
    if (!match.target && request.method == "HEAD") match = router_.match("GET", request.path);
    if (match.target && !may_block && !match.target->quick) return false;
    if (match.target && match.target->builtin) {
      response = match.target->builtin();
    } else if (match.target) {
      auto answer = call_plugin(*match.target, request, match.params, request_id, may_block);
      if (!answer) return false;
      response = std::move(*answer);
    } else if (!match.allowed.empty()) {
      std::set<std::string> unique(match.allowed.begin(), match.allowed.end());
      std::string allow;
      for (const auto& m : unique) allow += (allow.empty() ? "" : ", ") + m;
      response = error(405, "method not allowed");
      response.header("Allow", allow);
    } else {
      response = error(404, "not found");
    }
  } catch (const std::exception& e) {
    log::error("dicomd", "request " + request_id + ": " + e.what());
    response = error(500, "internal error (request id " + request_id + ")");
  }
  reply(std::move(response));
  return true;
}

std::optional<http::Response> App::call_plugin(const RouteTarget& target, const http::Request& request,
                                               const std::vector<std::pair<std::string, std::string>>& raw_params,
                                               const std::string& request_id, bool may_block) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, raw] : raw_params) {
    auto decoded = http::percent_decode(raw, false);
    if (!decoded) return error(400, "malformed percent-encoding in path");
    params.emplace_back(name, std::move(*decoded));
  }
  auto query = http::parse_query(request.raw_query);
  if (!query) return error(400, "malformed percent-encoding in query string");

  std::vector<dicomd_kv> param_kv = to_kv(params), query_kv = to_kv(*query), header_kv = to_kv(request.headers);
  dicomd_request req{sizeof(dicomd_request), str(request.method), str(request.path), param_kv.data(),
                     param_kv.size(),        query_kv.data(),     query_kv.size(),   header_kv.data(),
                     header_kv.size(),       str(request.body),   str(request_id),   may_block ? 1 : 0};
  dicomd_response response;
  dicomd_status status = target.handler(target.plugin->self, &req, &response);
  if (status == DICOMD_E_WOULD_BLOCK && !may_block) return std::nullopt;
  if (status != DICOMD_OK) {
    log::error(target.plugin->name, "request " + request_id + " " + request.method + " " + request.path +
                                        " failed with status " + std::to_string(status));
    return error(500, "internal error (request id " + request_id + ")");
  }
  return std::move(response.response);
}

void App::shutdown() {
  if (server_) {
    server_->begin_drain();
    if (!server_->wait_idle(std::chrono::milliseconds(config_.drain_timeout_ms)))
      log::warn("dicomd", "drain timeout: some requests were still running");
    server_->stop();
    server_.reset();
  }
  plugins_.stop_all();
}

}  // namespace dicomd
