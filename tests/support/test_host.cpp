#include "test_host.h"

#include <unistd.h>

#include <atomic>

#include "config.h"
#include "events/event_bus.h"
#include "host_api.h"
#include "http/request.h"
#include "ops/metrics.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_manager.h"
#include "server/dispatcher.h"
#include "server_process.h"

namespace dicomd::test {

struct TestHost::State {
  HostContext context;
  metrics::Registry metrics;  // outlives the plugins, which keep its families
  PluginManager plugins;
  EventBus events;
  Dispatcher dispatcher;
  std::vector<PluginEntry> entries;
  bool started = false;
  std::atomic<uint64_t> next_id{0};
};

TestHost::TestHost(const std::filesystem::path& data_dir) : state_(std::make_unique<State>()) {
  std::filesystem::create_directories(data_dir);
  state_->context.data_dir = std::filesystem::canonical(data_dir).string();
  state_->context.max_body_bytes = 1024ull << 20;
  state_->context.plugins = &state_->plugins;
  state_->context.events = &state_->events;
  state_->context.metrics = &state_->metrics;
}

TestHost::~TestHost() {
  state_->events.stop(std::chrono::seconds(5));
  state_->plugins.stop_all();
}

TestHost& TestHost::load(const std::string& name, const std::string& config_json) {
  PluginEntry entry;
  entry.name = name;
  entry.config_json = config_json;
  std::string path = plugin_library_path(core_plugin_dir(), name);
  if (!std::filesystem::exists(path)) path = plugin_library_path(test_plugin_dir(), name);
  state_->plugins.add_library(path, entry);
  return *this;
}

TestHost& TestHost::add(const dicomd_plugin_descriptor* descriptor, const std::string& config_json) {
  PluginEntry entry;
  entry.name = descriptor->name;
  entry.config_json = config_json;
  state_->plugins.add_linked(descriptor, entry);
  return *this;
}

void TestHost::start() {
  auto& s = *state_;
  s.plugins.resolve({});
  s.dispatcher.mount(s.plugins.ordered(), s.plugins.in_config_order());
  s.plugins.init_all(s.context);
  IsolationConfig isolation;
  isolation.workers = 1;
  s.plugins.start_workers(dicomd_binary(), isolation);
  s.plugins.start_all();
  s.events.start();
  s.started = true;
}

TestHost::Reply TestHost::request(const std::string& method, const std::string& target, const std::string& body,
                                  const std::map<std::string, std::string>& headers) {
  http::Request req;
  req.method = method;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(lower, value);
  }
  req.body = body;

  Reply reply;
  auto write = [&](http::Response&& r) {
    reply.status = r.status;
    for (const auto& [name, value] : r.headers) {
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[lower] = value;
    }
    if (!r.content_type.empty()) reply.headers["content-type"] = r.content_type;
    reply.body = std::move(r.body);
    if (r.file) {  // what the server would stream: read it whole here
      reply.body.resize(r.file->length);
      ssize_t n = ::pread(r.file->fd, reply.body.data(), reply.body.size(), static_cast<off_t>(r.file->offset));
      if (n != static_cast<ssize_t>(reply.body.size())) throw std::runtime_error("cannot read a file body");
    }
  };
  std::string id = "test-" + std::to_string(++state_->next_id);
  Deferred later = state_->dispatcher.accept(req, id, write);
  reply.answered_inline = !later;
  if (later) later(write);
  return reply;
}

TestHost::Reply TestHost::upload(const std::string& study, const std::vector<FormFile>& files) {
  auto [type, body] = multipart_body({{"study", study}}, files);
  return request("POST", "/upload", body, {{"Content-Type", type}});
}

TestHost::Reply TestHost::upload_paths(const std::string& study, const std::vector<std::filesystem::path>& paths) {
  std::vector<FormFile> files;
  for (const auto& p : paths) files.push_back({"files", p.filename().string(), read_file(p)});
  return upload(study, files);
}

bool TestHost::flush_events(int timeout_ms) {
  return state_->events.flush(std::chrono::milliseconds(timeout_ms));
}

std::vector<std::string> TestHost::routes() const {
  std::vector<std::string> out;
  for (const auto& r : state_->dispatcher.routes()) out.push_back(r.method + " " + r.pattern + " " + r.owner);
  return out;
}

CoreHost::CoreHost() : TempDir(), TestHost(TempDir::path() / "data") {
  load("storage-fs").load("files").load("validator-gdcm").load("metadata-gdcm").load("render-png");
  start();
}

}  // namespace dicomd::test
