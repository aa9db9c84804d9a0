// The plugin kit of ABI 1.2 on the in-process host: events, request filters,
// after-answer hooks, handlers on member objects, the one mapping of service
// errors to HTTP statuses, config parsing and ETag handling.
#include <gtest/gtest.h>

#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>

#include <mutex>
#include <set>
#include <thread>

#include "core_server.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

std::string pydicom(const std::string& name) {
  return read_file(pydicom_data_dir() / "test_files" / name);
}

// The dicomd.storage vtable of a plugin built for an older ABI: read and
// stat only, the struct ending where `size` says (an offsetof).
template <auto Read, auto Stat, class Self>
dicomd_storage_v1 read_stat_vtable(size_t size, Self* self) {
  dicomd_storage_v1 v{};
  v.struct_size = static_cast<uint32_t>(size);
  v.self = self;
  v.read = dicomd::service<Read>;
  v.stat = dicomd::service<Stat>;
  return v;
}

// Records the events it receives; fails the first delivery of a key named
// "flaky/…" to show redelivery.
class Recorder : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "recorder";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "records events";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  Recorder(dicomd::Host host, std::string_view) : Plugin(host) {
    for (const char* topic : {"stored", "removed"})
      subscribe(topic, [this](const dicomd::Event& e) {
        if (e.key.starts_with("flaky/") && e.attempt == 1) throw std::runtime_error("not yet");
        std::lock_guard lock(mutex);
        seen.push_back(std::string(e.topic) + " " + std::string(e.key) + " " + std::to_string(e.attempt));
        payloads.emplace_back(e.payload);
      });
  }
  static Recorder* last;
  std::mutex mutex;
  std::vector<std::string> seen, payloads;
};
Recorder* Recorder::last = nullptr;

struct RecorderWithSelf : Recorder {
  RecorderWithSelf(dicomd::Host host, std::string_view c) : Recorder(host, c) { last = this; }
};

TEST(Events, StorageAnnouncesStoredAndRemovedInOrder) {
  TempDir dir;
  TestHost host(dir / "data");
  host.load("storage-fs").load("files").load("validator-gdcm").add(dicomd::testing::descriptor<RecorderWithSelf>());
  host.start();
  std::string ct = pydicom("CT_small.dcm");
  ASSERT_EQ(host.upload("s", {{"files", "a.dcm", ct}, {"files", "b.dcm", ct}}).status, 201);
  ASSERT_EQ(host.del("/files/s/a.dcm").status, 200);
  ASSERT_EQ(host.del("/files/s").status, 200);
  ASSERT_TRUE(host.flush_events());
  auto* r = Recorder::last;
  std::lock_guard lock(r->mutex);
  // In publish order per key (different keys may be handled in parallel).
  auto of_key = [&](const std::string& key) {
    std::vector<std::string> out;
    for (const auto& s : r->seen)
      if (s.find(" " + key + " ") != std::string::npos) out.push_back(s);
    return out;
  };
  EXPECT_EQ(r->seen.size(), 4u);
  EXPECT_EQ(of_key("s/a.dcm"), (std::vector<std::string>{"stored s/a.dcm 1", "removed s/a.dcm 1"}));
  EXPECT_EQ(of_key("s/b.dcm"), (std::vector<std::string>{"stored s/b.dcm 1", "removed s/b.dcm 1"}));
  size_t a = r->seen[0].find("a.dcm") != std::string::npos ? 0 : 1;
  auto stored = parse_json(r->payloads[a]);
  EXPECT_EQ(std::string(stored["study"].GetString()), "s");
  EXPECT_EQ(std::string(stored["file"].GetString()), "a.dcm");
  EXPECT_EQ(stored["size"].GetUint64(), ct.size());
  EXPECT_EQ(std::string(stored["etag"].GetString()).front(), '"');
}

TEST(Events, AFailedDeliveryIsRetried) {
  TempDir dir;
  TestHost host(dir / "data");
  host.load("storage-fs").load("files").load("validator-gdcm").add(dicomd::testing::descriptor<RecorderWithSelf>());
  host.start();
  ASSERT_EQ(host.upload("flaky", {{"files", "x.dcm", pydicom("CT_small.dcm")}}).status, 201);
  ASSERT_TRUE(host.flush_events());
  std::lock_guard lock(Recorder::last->mutex);
  EXPECT_EQ(Recorder::last->seen, (std::vector<std::string>{"stored flaky/x.dcm 2"}));
}

// Keeps the set of stored files from events alone, as an index would; slow
// on "stored" to give a reordering every chance to show.
class Mirror : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "mirror";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "mirrors the store from events";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }
  Mirror(dicomd::Host host, std::string_view) : Plugin(host) {
    last = this;
    subscribe("stored", [this](const dicomd::Event& e) {
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      std::lock_guard lock(mutex);
      files.insert(std::string(e.key));
    });
    subscribe("removed", [this](const dicomd::Event& e) {
      std::lock_guard lock(mutex);
      files.erase(std::string(e.key));
    });
  }
  static Mirror* last;
  std::mutex mutex;
  std::set<std::string> files;
};
Mirror* Mirror::last = nullptr;

TEST(Events, AMirrorBuiltFromEventsMatchesTheStoreAfterRacingUploadsAndDeletes) {
  TempDir dir;
  TestHost host(dir / "data");
  host.load("storage-fs").load("files").load("validator-gdcm").add(dicomd::testing::descriptor<Mirror>());
  host.start();
  std::string ct = pydicom("CT_small.dcm");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        std::string name = std::to_string((t * 15 + i) % 10) + ".dcm";  // threads collide on 10 names
        host.upload("r", {{"files", name, ct}});
        if (i % 3 != 2) host.del("/files/r/" + name);
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(host.flush_events());
  std::set<std::string> stored;
  for (const auto& p : std::filesystem::directory_iterator(dir / "data" / "studies" / "r")) {
    stored.insert("r/" + p.path().filename().string());
  }
  std::lock_guard lock(Mirror::last->mutex);
  EXPECT_EQ(Mirror::last->files, stored);
}

// A filter: "x-deny" → 401; "x-user: NAME/ROLE" → identity. Records what
// its after-answer hook sees.
class Gate : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "gate";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "a test filter";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() { return std::array{dicomd_route{"GET", "/who/:x", dicomd::route<&Gate::who>}}; }
  static constexpr auto route_flags() { return std::array<uint32_t, 1>{DICOMD_ROUTE_QUICK}; }

  Gate(dicomd::Host host, std::string_view) : Plugin(host) { last = this; }

  dicomd::FilterResult filter(const dicomd::Request& req, dicomd::Response& res) {
    filtered_routes.emplace_back(req.route());
    if (req.header("x-deny")) {
      res.header("WWW-Authenticate", "Bearer realm=\"dicomd\"");
      res.error(401, "denied");
      return dicomd::FilterResult::kAnswered;
    }
    if (auto user = req.header("x-user")) {
      size_t slash = user->find('/');
      res.set_identity(user->substr(0, slash), user->substr(slash + 1));
    }
    return dicomd::FilterResult::kContinue;
  }
  void after_answer(const dicomd::RequestSummary& s) {
    summaries.push_back(std::string(s.method) + " " + std::string(s.route) + " " + std::to_string(s.status) + " " +
                        std::string(s.subject) + " in=" + std::to_string(s.bytes_in) +
                        " out=" + std::to_string(s.bytes_out));
  }
  // Answers with the identity and the matched pattern.
  void who(const dicomd::Request& req, dicomd::Response& res) {
    dicomd::JsonWriter w;
    w.start_object().key("role").string(req.identity().role).key("route").string(req.route());
    w.key("subject").string(req.identity().subject).end_object();
    res.json(200, w.text());
  }
  static Gate* last;
  std::vector<std::string> filtered_routes, summaries;
};
Gate* Gate::last = nullptr;

TEST(Filters, AttachIdentityAnswerThemselvesAndSeeEveryAnswer) {
  TempDir dir;
  TestHost host(dir / "data");
  host.add(dicomd::testing::descriptor<Gate>());
  host.start();
  auto who = host.get("/who/1", {{"X-User", "ann/admin"}});
  EXPECT_EQ(who.status, 200);
  EXPECT_TRUE(who.answered_inline);  // a quick route and its filter ran on the I/O thread
  EXPECT_EQ(who.body, R"({"role":"admin","route":"/who/:x","subject":"ann"})");
  auto denied = host.get("/who/2", {{"X-Deny", "1"}});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.header("www-authenticate"), "Bearer realm=\"dicomd\"");
  EXPECT_EQ(host.get("/nowhere").status, 404);  // filters see unrouted requests too
  EXPECT_EQ(host.request("POST", "/who/3", "abc").status, 405);
  EXPECT_EQ(Gate::last->filtered_routes, (std::vector<std::string>{"/who/:x", "/who/:x", "", ""}));
  EXPECT_EQ(Gate::last->summaries,
            (std::vector<std::string>{"GET /who/:x 200 ann in=0 out=50", "GET /who/:x 401  in=0 out=34",
                                      "GET  404  in=0 out=37", "POST  405  in=3 out=46"}));
}

// dicomd.storage answering every call with one status (from its config), to
// check what the routes of the other plugins make of it.
class BrokenStorage : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "broken-storage";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "fails every call";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  BrokenStorage(dicomd::Host host, std::string_view config) : Plugin(host) {
    dicomd::PluginConfig c(config);
    uint64_t s = 0;
    c.get_uint("status", s, 1, 11);
    c.finish();
    status_ = static_cast<dicomd_status>(s);
    host.provide(DICOMD_STORAGE_SERVICE, 1, &vtable_);
  }

 private:
  dicomd_status stat(dicomd_str, dicomd_str, dicomd_object_info*) { return status_; }
  dicomd_status read(dicomd_str, dicomd_str, dicomd_bytes_fn, void*) { return status_; }
  dicomd_status status_ = DICOMD_OK;
  // A 1.0 vtable: no removal_count, so every lookup stats.
  dicomd_storage_v1 vtable_ =
      read_stat_vtable<&BrokenStorage::read, &BrokenStorage::stat>(offsetof(dicomd_storage_v1, removal_count), this);
};

TEST(ServiceErrors, MapToOneHttpStatusInEveryPlugin) {
  const std::vector<std::pair<dicomd_status, int>> cases = {
      {DICOMD_E_NOT_FOUND, 404}, {DICOMD_E_IO, 500},      {DICOMD_E_INTERNAL, 500},  {DICOMD_E_UNAVAILABLE, 503},
      {DICOMD_E_TIMEOUT, 503},   {DICOMD_E_INVALID, 400}, {DICOMD_E_TOO_LARGE, 413}, {DICOMD_E_WORKER_DIED, 500}};
  for (auto [status, http] : cases) {
    EXPECT_EQ(dicomd::http_status_of(status), http);
    TempDir dir;
    TestHost host(dir / "data");
    host.add(dicomd::testing::descriptor<BrokenStorage>(), "{\"status\":" + std::to_string(status) + "}");
    host.load("metadata-gdcm").load("render-png");
    host.start();
    for (const char* target : {"/files/s/f.dcm/tags", "/files/s/f.dcm/tag?tag=PatientName", "/files/s/f.dcm/png"}) {
      auto r = host.get(target);
      EXPECT_EQ(r.status, http) << target << " status " << status << ": " << r.body;
      if (http == 500) {
        EXPECT_NE(r.body.find("internal error (request id test-"), std::string::npos) << r.body;
      }
      if (http == 503) {
        EXPECT_EQ(r.header("retry-after"), "1") << target;  // busy: come back
      }
    }
  }
}

// Uses every core service through the typed consumers, handlers living on
// a member object.
class Consumers : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "consumers";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "uses the typed consumers";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array kRequires{
      dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 0},
      dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_RENDER_SERVICE, 1, 0}};
  struct Routes {
    dicomd::Storage storage;
    dicomd::Validator validator;
    dicomd::Metadata metadata;
    dicomd::Render render;
    // GET /kit/:study/:file: what each service says of a stored file.
    void summary(const dicomd::Request& req, dicomd::Response& res) {
      std::string_view study = req.name_param("study"), file = req.name_param("file");
      std::string bytes;
      storage.read(study, file, [&](std::string_view b) { bytes = b; });
      dicomd_render_options options{sizeof(dicomd_render_options), 0, 16, 8, 0, 0, 0};
      dicomd::JsonWriter w;
      w.start_object().key("files").uint(storage.list_files(study).size());
      w.key("png").uint(render.png(study, file, options).size() > 8);
      w.key("tags").raw(metadata.describe(study, file, {"PatientName"}));
      w.key("valid").boolean(validator.validate(bytes).valid).end_object();
      res.json(200, w.text());
    }
  };
  static constexpr auto routes() {
    return std::array{dicomd_route{"GET", "/kit/:study/:file", dicomd::route<&Consumers::routes_, &Routes::summary>}};
  }
  Consumers(dicomd::Host host, std::string_view) : Plugin(host) {
    routes_.storage = dicomd::Storage(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1));
    routes_.validator = dicomd::Validator(host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1));
    routes_.metadata = dicomd::Metadata(host.acquire<dicomd_metadata_v1>(DICOMD_METADATA_SERVICE, 1));
    routes_.render = dicomd::Render(host.acquire<dicomd_render_v1>(DICOMD_RENDER_SERVICE, 1));
  }

 private:
  Routes routes_;
};

TEST(Consumers, EveryCoreServiceThroughItsTypedConsumer) {
  TempDir dir;
  TestHost host(dir / "data");
  host.load("storage-fs").load("files").load("validator-gdcm").load("metadata-gdcm").load("render-png");
  host.add(dicomd::testing::descriptor<Consumers>());
  host.start();
  ASSERT_EQ(host.upload("s", {{"files", "ct.dcm", pydicom("CT_small.dcm")}}).status, 201);
  auto r = host.get("/kit/s/ct.dcm");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse_json(r.body);
  EXPECT_EQ(d["files"].GetUint(), 1u);
  EXPECT_EQ(d["png"].GetUint(), 1u);
  EXPECT_STREQ(d["tags"][0]["keyword"].GetString(), "PatientName");
  EXPECT_TRUE(d["valid"].GetBool());
  auto missing = host.get("/kit/s/none.dcm");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"file not found","success":false})");
  EXPECT_EQ(host.get("/kit/s/.hidden").body, R"({"error":"invalid file name","success":false})");
}

TEST(PluginConfig, RejectsUnknownKeysAndWrongTypesByName) {
  dicomd::PluginConfig good(R"({"root":"x","max_mb":5,"on":true})");
  std::string root;
  uint64_t mb = 0;
  bool on = false;
  EXPECT_TRUE(good.get("root", root));
  EXPECT_TRUE(good.get_uint("max_mb", mb, 1, 10));
  EXPECT_TRUE(good.get("on", on));
  EXPECT_FALSE(good.get("absent", root));
  EXPECT_NO_THROW(good.finish());
  EXPECT_EQ(root, "x");
  EXPECT_EQ(mb, 5u);

  dicomd::PluginConfig typo(R"({"rot":"x"})");
  typo.get("root", root);
  try {
    typo.finish();
    FAIL();
  } catch (const dicomd::ConfigError& e) {
    EXPECT_STREQ(e.what(), R"(config: unknown key "rot" (known: root))");
  }
  dicomd::PluginConfig range(R"({"max_mb":11})");
  EXPECT_THROW(range.get_uint("max_mb", mb, 1, 10), dicomd::ConfigError);
  EXPECT_THROW(dicomd::PluginConfig("[1]"), dicomd::ConfigError);
  EXPECT_THROW(dicomd::PluginConfig("{"), dicomd::ConfigError);
}

TEST(PluginConfig, AMisspeltKeyStopsTheStartNamingIt) {
  for (const char* plugin : {"storage-fs", "files", "metadata-gdcm", "render-png", "validator-gdcm"}) {
    TempDir dir;
    TestHost host(dir / "data");
    if (std::string(plugin) != "storage-fs") host.load("storage-fs");
    if (std::string(plugin) != "validator-gdcm") host.load("validator-gdcm");
    host.load(plugin, R"({"colour":"blue"})");
    try {
      host.start();
      ADD_FAILURE() << plugin << " accepted an unknown key";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(plugin), std::string::npos) << e.what();
    }
  }
}

TEST(Etag, IfNoneMatchListsWeakFormsAndStar) {
  CoreHost host;
  ASSERT_EQ(host.upload("s", {{"files", "f", pydicom("CT_small.dcm")}}).status, 201);
  std::string etag = host.get("/files/s/f").header("etag");
  for (std::string header : {etag, "\"x\", " + etag, "W/" + etag, std::string("*")})
    EXPECT_EQ(host.get("/files/s/f", {{"If-None-Match", header}}).status, 304) << header;
  EXPECT_EQ(host.get("/files/s/f", {{"If-None-Match", "\"other\""}}).status, 200);
  std::string png = host.get("/files/s/f/png").header("etag");
  EXPECT_EQ(host.get("/files/s/f/png", {{"If-None-Match", "W/" + png}}).status, 304);
}

TEST(Routes, TheCorePluginsMountTheOriginalApi) {
  CoreHost host;
  auto routes = host.routes();
  for (const char* r :
       {"GET / files", "POST /upload files", "DELETE /files/:study files", "GET /files/:study/:file/tags metadata-gdcm",
        "GET /files/:study/:file/png render-png", "POST /validate validator-gdcm"})
    EXPECT_NE(std::find(routes.begin(), routes.end(), r), routes.end()) << r;
}

}  // namespace

// dicomd.storage as a plugin built before ABI 1.4 provides it: files in a
// folder (config "root"), read and stat only, no open. Consumers must fall
// back to reading the bytes.
class FolderStorage : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "folder-storage";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "read-only files, no descriptors";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  FolderStorage(dicomd::Host host, std::string_view config) : Plugin(host) {
    dicomd::PluginConfig c(config);
    c.get("root", root_);
    c.finish();
    host.provide(DICOMD_STORAGE_SERVICE, 1, &vtable_);
  }

 private:
  std::filesystem::path path_of(dicomd_str study, dicomd_str name) const {
    return std::filesystem::path(root_) / std::string(dicomd::view(study)) / std::string(dicomd::view(name));
  }
  dicomd_status stat(dicomd_str study, dicomd_str name, dicomd_object_info* info) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path_of(study, name), ec);
    if (ec) return DICOMD_E_NOT_FOUND;
    *info = {size, 1};
    return DICOMD_OK;
  }
  dicomd_status read(dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx) {
    if (!std::filesystem::exists(path_of(study, name))) return DICOMD_E_NOT_FOUND;
    std::string bytes = read_file(path_of(study, name));
    consume(ctx, dicomd::str(bytes));
    return DICOMD_OK;
  }
  std::string root_;
  // A 1.3 vtable: the struct ends before open (content_hash left NULL).
  dicomd_storage_v1 vtable_ =
      read_stat_vtable<&FolderStorage::read, &FolderStorage::stat>(offsetof(dicomd_storage_v1, open), this);
};

// render-png hands a worker the stored file's descriptor when the storage
// gives one (ABI 1.4), else its bytes: the same PNG either way.
TEST(FileJobs, AStorageWithoutDescriptorsRendersTheSamePng) {
  const auto source = pydicom_data_dir() / "test_files" / "CT_small.dcm";
  CoreHost with_open;
  ASSERT_EQ(with_open.upload_paths("s", {source}).status, 201);
  auto mapped = with_open.get("/files/s/CT_small.dcm/png?size=32");
  ASSERT_EQ(mapped.status, 200);

  TempDir dir;
  std::filesystem::create_directories(dir / "files" / "s");
  std::filesystem::copy_file(source, dir / "files" / "s" / "CT_small.dcm");
  TestHost host(dir / "data");
  host.add(dicomd::testing::descriptor<FolderStorage>(), R"({"root":")" + (dir / "files").string() + "\"}");
  host.load("render-png");
  host.start();
  auto copied = host.get("/files/s/CT_small.dcm/png?size=32");
  ASSERT_EQ(copied.status, 200) << copied.body;
  EXPECT_EQ(copied.header("content-type"), "image/png");
  EXPECT_EQ(copied.body, mapped.body);
  EXPECT_EQ(host.get("/files/s/missing.dcm/png").status, 404);
}
