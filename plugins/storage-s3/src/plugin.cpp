// storage-s3: DICOM files grouped in studies in an S3 bucket, provided as
// dicomd.storage like storage-fs (storage-common), so one replaces the
// other in the config alone (the files plugin serves the routes on both). A thin adapter: the SDK on one
// side, S3Client and S3BlobStore (plain C++ classes) on the other.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <fstream>
#include <sstream>

#include "publishing_store.h"
#include "s3_blob_store.h"
#include "s3_client.h"
#include "storage_service.h"

namespace {

using dicomd::s3::CreateGuard;
using dicomd::storage::PublishingStore;

struct Settings {
  dicomd::s3::ClientOptions client;
  dicomd::s3::StoreOptions store;
  std::string access_key_file, secret_key_file;
  bool shared = true;
};

// A credential file's first line, without surrounding blanks.
std::string read_credential(const std::string& path, const char* key) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw dicomd::ConfigError(std::string("storage-s3: cannot read ") + key);
  size_t first = line.find_first_not_of(" \t\r");
  size_t last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) throw dicomd::ConfigError(std::string("storage-s3: ") + key + " is empty");
  return line.substr(first, last - first + 1);
}

// {"endpoint":"http://127.0.0.1:9000","bucket":"dicom","region":"us-east-1","prefix":"",
//  "access_key_file":…,"secret_key_file":…,"addressing":"path|virtual",
//  "create_guard":"claim|if-none-match","shared":true,"multipart_threshold_mb":64,
//  "part_size_mb":16,"connect_timeout_ms":2000,"stall_timeout_ms":10000,"max_retries":3,"claim_ttl_s":600}
Settings parse_settings(std::string_view json) {
  dicomd::PluginConfig c(json);
  Settings s;
  auto& client = s.client;
  if (!c.get("endpoint", client.endpoint) ||
      !(client.endpoint.starts_with("http://") || client.endpoint.starts_with("https://")))
    throw dicomd::ConfigError("storage-s3 needs \"endpoint\": the object store's http:// or https:// URL");
  while (client.endpoint.ends_with('/')) client.endpoint.pop_back();
  if (client.endpoint.find('/', client.endpoint.find("://") + 3) != std::string::npos)
    throw dicomd::ConfigError("storage-s3: \"endpoint\" is scheme://host[:port], without a path");
  if (!c.get("bucket", client.bucket) || client.bucket.empty())
    throw dicomd::ConfigError("storage-s3 needs \"bucket\"");
  c.get("region", client.region);
  c.get("prefix", s.store.prefix);
  if (!s.store.prefix.empty() && !s.store.prefix.ends_with('/')) s.store.prefix += '/';
  if (!c.get("access_key_file", s.access_key_file) || !c.get("secret_key_file", s.secret_key_file))
    throw dicomd::ConfigError("storage-s3 needs \"access_key_file\" and \"secret_key_file\"");
  std::string addressing = "path", guard = "claim";
  c.get("addressing", addressing);
  if (addressing != "path" && addressing != "virtual")
    throw dicomd::ConfigError("storage-s3: \"addressing\" must be \"path\" or \"virtual\"");
  client.virtual_host = addressing == "virtual";
  c.get("create_guard", guard);
  if (guard != "claim" && guard != "if-none-match")
    throw dicomd::ConfigError("storage-s3: \"create_guard\" must be \"claim\" or \"if-none-match\"");
  s.store.guard = guard == "claim" ? CreateGuard::kClaim : CreateGuard::kIfNoneMatch;
  c.get("shared", s.shared);
  uint64_t n = 0;
  if (c.get_uint("multipart_threshold_mb", n, 5, 5 << 10)) s.store.multipart_threshold = n << 20;
  if (c.get_uint("part_size_mb", n, 5, 5 << 10)) s.store.part_size = n << 20;
  if (c.get_uint("connect_timeout_ms", n, 100, 60000)) client.connect_timeout = std::chrono::milliseconds(n);
  if (c.get_uint("stall_timeout_ms", n, 1000, 600000)) client.stall_timeout = std::chrono::milliseconds(n);
  if (c.get_uint("max_retries", n, 0, 10)) client.max_retries = static_cast<unsigned>(n);
  if (c.get_uint("claim_ttl_s", n, 10, 86400)) s.store.claim_ttl = std::chrono::seconds(n);
  c.finish();
  return s;
}

Settings with_credentials(Settings s) {
  s.client.access_key = read_credential(s.access_key_file, "access_key_file");
  s.client.secret_key = read_credential(s.secret_key_file, "secret_key_file");
  return s;
}

class StorageS3Plugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "storage-s3";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOM files grouped in studies in an S3-compatible bucket";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() { return std::array<dicomd_route, 0>{}; }

  StorageS3Plugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(with_credentials(parse_settings(config))),
        client_(settings_.client),
        objects_(client_, settings_.store, [host](const std::string& line) { host.warn(line); }),
        store_(objects_, [host](std::string_view topic, std::string_view key, std::string_view payload) {
          host.publish(topic, key, payload);
        }) {
    // Refuse to start on a store that cannot be used: a clear start-up
    // error beats a server that answers 503 to everything.
    if (std::string why = objects_.check_bucket(); !why.empty()) throw std::runtime_error("storage-s3: " + why);
    host.provide(DICOMD_STORAGE_SERVICE, 1, service_.vtable());
    collect_metrics(dicomd::storage::storage_metrics(host, store_));
  }

  // The keys and ranges init checks, without reading the credentials.
  static void check_config(std::string_view json) { parse_settings(json); }

 private:
  Settings settings_;
  dicomd::s3::S3Client client_;
  dicomd::s3::S3BlobStore objects_;
  PublishingStore store_;
  // Shared (the default): another host's removals are not counted here.
  dicomd::storage::StorageService service_{host(), store_, settings_.shared};
};

}  // namespace

DICOMD_PLUGIN(StorageS3Plugin)
