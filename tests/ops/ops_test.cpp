// Operations on the real server: GET /metrics checked by Prometheus's own
// promtool, JSON logs where every line of a request carries its id,
// GET /openapi.json validated by an OpenAPI schema validator (npm) and equal
// to the mounted routes, --check-config, SIGHUP and the drain's counts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "core_server.h"
#include "ops/openapi.h"
#include "jwt_signing.h"

using namespace dicomd::test;

namespace {

const std::string kCt = (pydicom_data_dir() / "test_files" / "CT_small.dcm").string();

// Waits until the server's log holds `needle` (info lines leave in batches).
bool log_holds(ServerProcess& server, const std::string& needle,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (server.log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server.log().find(needle) != std::string::npos;
}

// The value of the one series `name{labels}` in a scrape; -1 when absent.
double sample(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string promtool_check(const std::string& scrape) {
  TempDir dir;
  write_file(dir.path() / "scrape.txt", scrape);
  int status = -1;
  std::string out =
      run_command("promtool check metrics < " + shell_quote((dir.path() / "scrape.txt").string()) + " 2>&1", &status);
  return status == 0 ? "" : "promtool exit " + std::to_string(status) + ": " + out;
}

}  // namespace

TEST(Metrics, AScrapePassesPromtoolAndItsCountersMoveWithRequests) {
  ASSERT_EQ(run_command("command -v promtool").empty(), false) << "install Debian's prometheus (scripts/install-deps)";
  CoreServer server;
  const std::string files = R"(dicomd_http_requests_total{route="/files",method="GET",status="2xx"})";
  ASSERT_EQ(server.get("/files").status, 200);
  HttpReply first = server.get("/metrics");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_EQ(promtool_check(first.body), "");
  EXPECT_EQ(sample(first.body, files), 1) << first.body;

  // Every kind of series moves: requests, a 404 without a route, uploads
  // and the header cache (plugins' metrics, through the SDK), worker jobs.
  ASSERT_EQ(server.get("/files").status, 200);
  ASSERT_EQ(server.get("/no/such/route").status, 404);
  ASSERT_EQ(server.upload_paths("ops", {kCt}).status, 201);
  ASSERT_EQ(server.get("/files/ops/CT_small.dcm/tag?tag=Rows").status, 200);
  ASSERT_EQ(server.get("/files/ops/CT_small.dcm/tag?tag=Rows").status, 200);
  HttpReply second = server.get("/metrics");
  EXPECT_EQ(promtool_check(second.body), "");
  EXPECT_EQ(sample(second.body, files), 2);
  EXPECT_EQ(sample(second.body, R"(dicomd_http_requests_total{route="",method="GET",status="4xx"})"), 1);
  EXPECT_EQ(
      sample(second.body, R"(dicomd_http_request_duration_seconds_count{route="/files",method="GET",status="2xx"})"),
      2);
  EXPECT_EQ(sample(second.body, R"(dicomd_http_requests_total{route="/metrics",method="GET",status="2xx"})"), 1);
  EXPECT_EQ(sample(second.body, "dicomd_storage_files_stored_total"), 1);
  EXPECT_EQ(sample(second.body, "dicomd_storage_bytes_stored_total"),
            static_cast<double>(std::filesystem::file_size(kCt)));
  // One parse (for the first lookup, or for the index, whichever came
  // first); the other lookups come from the cache.
  EXPECT_EQ(sample(second.body, R"(dicomd_metadata_header_cache_total{result="miss"})"), 1);
  EXPECT_GE(sample(second.body, R"(dicomd_metadata_header_cache_total{result="hit"})"), 1);
  EXPECT_GE(sample(second.body, R"(dicomd_worker_jobs_total{plugin="validator-gdcm"})"), 1);
  EXPECT_GT(sample(second.body, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(sample(second.body, R"(dicomd_http_request_body_bytes_total{route="/upload",method="POST",status="2xx"})"),
            static_cast<double>(std::filesystem::file_size(kCt)));
  // The index counts its instances at each scrape (the upload's event may
  // still be on its way: wait for it).
  double indexed = -1;
  for (int i = 0; i < 100 && indexed != 1; ++i) {
    indexed = sample(server.get("/metrics").body, "dicomd_index_instances");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(indexed, 1);
  // Never a raw URL as a label: the file's name appears in no series.
  EXPECT_EQ(second.body.find("CT_small"), std::string::npos);
  EXPECT_EQ(second.body.find("/no/such"), std::string::npos);
}

TEST(Logs, EveryJsonLineOfARequestCarriesItsIdAndNoTokenOrPath) {
  TempDir keys;
  const std::string secret = "ops-test-secret-0123456789abcdefghijklmn";
  write_file(keys.path() / "secret", secret);
  std::filesystem::permissions(keys.path() / "secret", std::filesystem::perms::owner_read);
  CoreServer server(
      {"--log-format", "json"},
      R"({"listen":"127.0.0.1:0","plugins":[{"name":"auth-jwt","config":{"algorithm":"HS256",)"
      R"("key_file":")" +
          (keys.path() / "secret").string() +
          R"("}},{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"}]})");
  std::string claims = R"({"sub":"ops-user","role":"standard","exp":)" + std::to_string(unix_now() + 600) + "}";
  std::string token = sign_hs256(unsigned_token(R"({"alg":"HS256","typ":"JWT"})", claims), secret);

  auto [type, body] = multipart_body({{"study", "logs"}}, {{"files", "CT_small.dcm", read_file(kCt)}});
  HttpReply up = request(server.port(), "POST", "/upload", body,
                         {{"Content-Type", type}, {"Authorization", "Bearer " + token}, {"X-Request-Id", "ops-42.a"}});
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(up.header("x-request-id"), "ops-42.a");
  // An id that is not a plain token is replaced by one of the server's.
  HttpReply odd = request(server.port(), "GET", "/health", "", {{"X-Request-Id", "a\"b c"}});
  EXPECT_NE(odd.header("x-request-id"), "");
  EXPECT_EQ(odd.header("x-request-id").find('"'), std::string::npos);
  HttpReply denied = request(server.port(), "GET", "/files", "", {{"X-Request-Id", "ops-43"}});
  EXPECT_EQ(denied.status, 401);
  ASSERT_TRUE(log_holds(server.process(), R"("request_id":"ops-43")"));
  ASSERT_TRUE(log_holds(server.process(), "audit: POST /upload"));

  std::string log = server.process().log();
  std::set<std::string> sources_of_upload;
  for (const std::string& line : lines_of(log)) {
    rapidjson::Document d = parse_json(line);
    ASSERT_TRUE(d.IsObject()) << "not one JSON object: " << line;
    for (const char* key : {"ts", "level", "source", "msg"}) EXPECT_TRUE(d.HasMember(key)) << line;
    // No token, and no path of the server, at info level.
    EXPECT_EQ(line.find(token.substr(token.rfind('.'))), std::string::npos) << line;
    EXPECT_EQ(line.find(server.data_dir().string()), std::string::npos) << line;
    EXPECT_EQ(line.find(keys.path().string()), std::string::npos) << line;
    if (d.HasMember("request_id") && std::string(d["request_id"].GetString()) == "ops-42.a")
      sources_of_upload.insert(d["source"].GetString());
    // A line about the upload names its request.
    if (line.find("POST /upload") != std::string::npos || line.find("\"/upload\"") != std::string::npos) {
      ASSERT_TRUE(d.HasMember("request_id")) << line;
      EXPECT_EQ(std::string(d["request_id"].GetString()), "ops-42.a") << line;
    }
  }
  EXPECT_EQ(sources_of_upload, (std::set<std::string>{"access", "auth-jwt"}));
  // The access line has what an operator filters on.
  std::string access_line;
  for (const std::string& l : lines_of(log))
    if (l.find(R"("source":"access")") != std::string::npos &&
        l.find(R"("request_id":"ops-42.a")") != std::string::npos)
      access_line = l;
  rapidjson::Document line = parse_json(access_line);
  ASSERT_TRUE(line.IsObject()) << log;
  EXPECT_STREQ(line["method"].GetString(), "POST");
  EXPECT_STREQ(line["route"].GetString(), "/upload");
  EXPECT_EQ(line["status"].GetInt(), 201);
  EXPECT_STREQ(line["sub"].GetString(), "ops-user");
  EXPECT_EQ(line["bytes_in"].GetUint64(), body.size());
  EXPECT_GT(line["bytes_out"].GetUint64(), 0u);
  EXPECT_TRUE(line["duration_ms"].IsNumber());
}

namespace {

// dicomd logging to a file: its port comes from the file, not from stderr.
class FileLoggedServer {
 public:
  FileLoggedServer(const std::filesystem::path& data, const std::filesystem::path& log) {
    std::vector<std::string> args = {dicomd_binary(), "--listen",   "127.0.0.1:0",  "--data",         data.string(),
                                     "--log-file",    log.string(), "--plugin-dir", core_plugin_dir()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!port_ && std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(log)) port_ = listening_port(read_file(log)).value_or(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~FileLoggedServer() {
    if (pid_ > 0) stop(SIGKILL);
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  int stop(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace

TEST(Logs, SighupReopensTheLogFileAndTheDrainIsCounted) {
  TempDir dir;
  const auto file = dir.path() / "dicomd.log";
  FileLoggedServer server(dir.path() / "data", file);
  ASSERT_NE(server.port(), 0) << (std::filesystem::exists(file) ? read_file(file) : "no log file");
  ASSERT_EQ(request(server.port(), "GET", "/health").status, 200);
  std::filesystem::rename(file, dir.path() / "dicomd.log.1");  // what logrotate does
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!std::filesystem::exists(file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(std::filesystem::exists(file)) << "SIGHUP did not reopen the log file";
  ASSERT_EQ(request(server.port(), "GET", "/files").status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::string after = read_file(file), before = read_file(dir.path() / "dicomd.log.1");
  EXPECT_NE(before.find("listening on"), std::string::npos) << before;
  EXPECT_NE(after.find("SIGHUP: log file reopened"), std::string::npos) << after;
  EXPECT_NE(after.find("[access] GET /files 200"), std::string::npos) << after;
  EXPECT_NE(after.find("draining: 0 requests in flight, 2 answered since start"), std::string::npos) << after;
  EXPECT_NE(after.find("drained: 0 requests finished during the drain"), std::string::npos) << after;
}

namespace {

// "GET /files/{study}" for every route the server says it mounts: the
// host's own and each enabled plugin's, from GET /plugins.
std::set<std::string> mounted_routes(CoreServer& server) {
  std::set<std::string> out{"GET /plugins", "GET /health", "GET /metrics", "GET /openapi.json"};
  rapidjson::Document plugins = parse_json(server.get("/plugins").body);
  for (const auto& p : plugins["plugins"].GetArray()) {
    if (!p["enabled"].GetBool()) continue;
    for (const auto& r : p["routes"].GetArray()) {
      out.insert(std::string(r["method"].GetString()) + " " + dicomd::openapi_path(r["path"].GetString()));
    }
  }
  return out;
}

void expect_valid_and_equal_to_routes(CoreServer& server) {
  HttpReply reply = server.get("/openapi.json");
  ASSERT_EQ(reply.status, 200);
  TempDir dir;
  write_file(dir.path() / "openapi.json", reply.body);
  const std::string tools = (std::filesystem::path(source_dir()) / "tests" / "browser").string();
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(tools) / "node_modules" / "@seriousme"))
      << "run `npm ci` in tests/browser (scripts/test does)";
  int status = -1;
  std::string out = run_command("cd " + shell_quote(tools) + " && node validate_openapi.mjs " +
                                    shell_quote((dir.path() / "openapi.json").string()) + " 2>&1",
                                &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("valid 3.1"), std::string::npos) << out;

  const rapidjson::Document doc = parse_json(reply.body);
  std::set<std::string> described;
  for (const auto& path : doc["paths"].GetObject())
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.insert(method + " " + path.name.GetString());
      EXPECT_TRUE(op.value.HasMember("summary")) << method << " " << path.name.GetString();
    }
  EXPECT_EQ(described, mounted_routes(server));
}

}  // namespace

TEST(OpenApi, TheDocumentIsValidAndDescribesExactlyTheMountedRoutes) {
  CoreServer server;
  expect_valid_and_equal_to_routes(server);
  rapidjson::Document doc = parse_json(server.get("/openapi.json").body);
  // The plugin's own words, and the path parameter the host added.
  const auto& png = doc["paths"]["/files/{study}/{file}/png"]["get"];
  EXPECT_NE(std::string(png["summary"].GetString()).find("PNG"), std::string::npos);
  std::set<std::string> in_path;
  for (const auto& p : png["parameters"].GetArray())
    if (std::string(p["in"].GetString()) == "path") in_path.insert(p["name"].GetString());
  EXPECT_EQ(in_path, (std::set<std::string>{"study", "file"}));
}

TEST(OpenApi, PluginsDisabledTakeTheirRoutesOutOfTheDocument) {
  CoreServer server({"--disable", "render-png", "--disable", "search", "--disable", "index-sqlite", "--disable", "jobs",
                     "--disable", "dicomweb"});
  expect_valid_and_equal_to_routes(server);
  std::string body = server.get("/openapi.json").body;
  EXPECT_EQ(body.find("/png"), std::string::npos);
  EXPECT_EQ(body.find("/search"), std::string::npos);
}

TEST(CheckConfig, AGoodConfigPrintsWhatWouldBeServedAndExitsZero) {
  TempDir dir;
  write_file(dir.path() / "good.json",
             R"({"listen":"127.0.0.1:9999","data":")" + (dir.path() / "data").string() +
                 R"(","plugins":[{"name":"storage-fs"},{"name":"files","config":{"max_file_mb":10}},)"
                 R"({"name":"validator-gdcm"},{"name":"metadata-gdcm"}]})");
  RunResult r = run_dicomd({"--check-config", (dir.path() / "good.json").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("storage-fs 0.4.0: config ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("files 0.1.0: config ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("uses dicomd.validator@1 from validator-gdcm"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("POST   /upload"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("listen: 127.0.0.1:9999"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("configuration ok"), std::string::npos) << r.output;
  // Nothing was touched: no data folder, no storage root.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "data"));
}

TEST(CheckConfig, BadConfigsExitOneNamingTheProblem) {
  TempDir dir;
  struct Case {
    std::string config, expected;
  };
  std::vector<Case> cases = {
      {R"({"plugins":[{"name":"storage-fs","config":{"max_fiel_mb":10}}]})", "unknown key \"max_fiel_mb\""},
      {R"({"plugins":[{"name":"no-such-plugin"}]})", "plugin file not found"},
      {R"({"plugins":[{"name":"search"}]})", "dicomd.index"},
      {R"({"plugins":[{"name":"auth-jwt","config":{"algorithm":"HS256","key_file":"/nonexistent/key"}}]})",
       "key_file /nonexistent/key"},
      {R"({"plugins":[}")", "invalid JSON"},
  };
  for (const Case& c : cases) {
    write_file(dir.path() / "bad.json", c.config);
    RunResult r = run_dicomd({"--check-config", (dir.path() / "bad.json").string(), "--plugin-dir", core_plugin_dir()});
    EXPECT_EQ(r.exit_code, 1) << c.config << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.config << "\n" << r.output;
  }
}

TEST(Logs, BadLogSettingsStopTheServerNamingThem) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  write_file(dir.path() / "typed.json", R"({"log_format":5})");
  std::vector<Case> cases = {
      {{"--log-format", "xml"}, "log_format must be text or json"},
      {{"--log-file", (dir.path() / "no" / "such" / "folder" / "x.log").string()}, "cannot open log file"},
      {{"--config", (dir.path() / "typed.json").string()}, "log_format must be a string"},
      {{"--log-level", "loud"}, "log_level must be error, warn, info or debug"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--data", (dir.path() / "data").string(), "--listen", "127.0.0.1:0"});
    RunResult r = run_dicomd(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
  }
}
