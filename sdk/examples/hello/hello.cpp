// The smallest useful dicomd plugin: two routes, no services.
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <string>

class HelloPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "hello";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "example plugin built out of tree";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/hello", dicomd::route<&HelloPlugin::hello>},
        dicomd_route{"GET", "/hello/:name", dicomd::route<&HelloPlugin::hello_name>},
    };
  }

  HelloPlugin(dicomd::Host host, std::string_view config_json) : Plugin(host), config_(config_json) {
    host.info("hello plugin ready, config " + config_);
  }

  void hello(const dicomd::Request&, dicomd::Response& res) {
    res.json(200, R"({"message":"hello from an out-of-tree plugin","success":true})");
  }

  // Path parameters arrive percent-decoded; validate before use.
  void hello_name(const dicomd::Request& req, dicomd::Response& res) {
    std::string_view name = *req.param("name");
    if (name.size() > 64) throw dicomd::HttpError(400, "name is longer than 64 bytes");
    res.json(200, "{\"message\":\"hello, " + dicomd::json_escape(name) + "\",\"success\":true}");
  }

 private:
  std::string config_;
};

DICOMD_PLUGIN(HelloPlugin)
