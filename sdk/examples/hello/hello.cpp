// An example dicomd plugin, built out of tree against the installed SDK: two
// routes, its own config, a request filter and an event subscriber.
//
// Config: {"greeting": "hello", "key": "…"}. With a key, /hello routes need
// the header "X-Hello-Key: <key>" (401 otherwise): the filter checks it and
// attaches an identity the handlers read. Every file the storage stores is
// counted from its "stored" event; GET /hello-stats shows the count.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <atomic>
#include <string>

class HelloPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "hello";
  static constexpr const char* kVersion = "1.1.0";
  static constexpr const char* kDescription = "example plugin built out of tree";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/hello", dicomd::route<&HelloPlugin::hello>},
        dicomd_route{"GET", "/hello/:name", dicomd::route<&HelloPlugin::hello_name>},
        dicomd_route{"GET", "/hello-stats", dicomd::route<&HelloPlugin::stats>},
    };
  }

  HelloPlugin(dicomd::Host host, std::string_view config_json) : Plugin(host) {
    dicomd::PluginConfig config(config_json);  // unknown keys stop the server, naming the key
    config.get("greeting", greeting_);
    config.get("key", key_);
    config.finish();
    subscribe("stored", [this](const dicomd::Event&) { ++stored_; });
    host.info("hello plugin ready, greeting \"" + greeting_ + "\"");
  }

  // The request filter: runs before every request's handler, whatever plugin owns it.
  dicomd::FilterResult filter(const dicomd::Request& req, dicomd::Response& res) {
    if (key_.empty() || !req.route().starts_with("/hello")) return dicomd::FilterResult::kContinue;
    if (req.header("x-hello-key") != key_) {
      res.header("WWW-Authenticate", "X-Hello-Key");
      res.error(401, "send X-Hello-Key");
      return dicomd::FilterResult::kAnswered;
    }
    res.set_identity("hello-client", "read-only");
    return dicomd::FilterResult::kContinue;
  }

  void hello(const dicomd::Request& req, dicomd::Response& res) {
    dicomd::JsonWriter w;
    w.start_object().key("message").string(greeting_ + " from an out-of-tree plugin");
    w.key("subject").string(req.identity().subject).key("success").boolean(true).end_object();
    res.json(200, w.text());
  }

  // Path parameters arrive percent-decoded; validate before use.
  void hello_name(const dicomd::Request& req, dicomd::Response& res) {
    std::string_view name = *req.param("name");
    if (name.size() > 64) throw dicomd::HttpError(400, "name is longer than 64 bytes");
    dicomd::JsonWriter w;
    w.start_object().key("message").string(greeting_ + ", " + std::string(name)).key("success").boolean(true);
    res.json(200, w.end_object().text());
  }

  void stats(const dicomd::Request&, dicomd::Response& res) {
    res.json(200, "{\"stored\":" + std::to_string(stored_.load()) + ",\"success\":true}");
  }

 private:
  std::string greeting_ = "hello";
  std::string key_;
  std::atomic<uint64_t> stored_{0};
};

DICOMD_PLUGIN(HelloPlugin)
