// errors-sentry and traces-otlp on the real server, sending to a receiver
// of the test's own (tests/support/http_receiver.h): the Sentry envelopes
// and the OTLP/HTTP JSON batches checked field by field, exactly one event
// per failure, scrubbing, spans that nest and time correctly, traceparent
// honoured and carried into worker jobs, and requests that answer at
// normal speed while the receiver is down or answers only after 30 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "core_server.h"
#include "dicom_files.h"
#include "http_client.h"
#include "http_receiver.h"
#include "observed_server.h"
#include "server_process.h"

namespace dicomd::test {
namespace {

// "2026-12-08T03:48:17.123456Z". (No std::regex: GCC 12 warns falsely
// inside it under the sanitizers.)
bool is_rfc3339_micros(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) return false;
  return true;
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";
// A JWT-shaped token and a password: neither may reach the tracker.
constexpr const char* kToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ";

using Server = ObservedServer;

std::string sentry_plugin(const HttpReceiver& r, const std::string& extra = "") {
  return R"({"name":"errors-sentry","config":{"dsn":"http://publickey@127.0.0.1:)" + std::to_string(r.port()) +
         R"(/42","environment":"test")" + extra + "}}";
}

std::string otlp_plugin_for_port(uint16_t port, const std::string& ratio = "1.0", const std::string& extra = "") {
  return R"({"name":"traces-otlp","config":{"endpoint":"http://127.0.0.1:)" + std::to_string(port) +
         R"(","sample_ratio":)" + ratio + R"(,"flush_interval_ms":100)" + extra + "}}";
}

std::string otlp_plugin(const HttpReceiver& r, const std::string& ratio, const std::string& extra = "") {
  return otlp_plugin_for_port(r.port(), ratio, extra);
}

// "[a,b,…]" of plugin entries.
std::string plugin_list(std::initializer_list<std::string> entries) {
  std::string out = "[";
  for (const auto& e : entries) {
    if (out.size() > 1) out += ',';
    out += e;
  }
  return out + "]";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool hex_of_length(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) && !std::isupper(c); });
}

// The event of a Sentry envelope, its headers checked on the way.
rapidjson::Document event_of(const ReceivedRequest& r) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/42/envelope/");
  EXPECT_EQ(r.header("content-type"), "application/x-sentry-envelope");
  std::string auth = r.header("x-sentry-auth");
  EXPECT_EQ(auth.rfind("Sentry ", 0), 0u) << auth;
  EXPECT_NE(auth.find("sentry_version=7"), std::string::npos) << auth;
  EXPECT_NE(auth.find("sentry_key=publickey"), std::string::npos) << auth;
  EXPECT_NE(auth.find("sentry_client=dicomd-errors-sentry/"), std::string::npos) << auth;
  auto lines = lines_of(r.body);
  EXPECT_EQ(lines.size(), 3u) << r.body;  // envelope header, item header, event
  if (lines.size() != 3) return rapidjson::Document();
  rapidjson::Document header = parse_json(lines[0]), item = parse_json(lines[1]);
  rapidjson::Document event = parse_json(lines[2]);
  EXPECT_TRUE(hex_of_length(header["event_id"].GetString(), 32));
  EXPECT_STREQ(header["dsn"].GetString(),
               ("http://publickey@127.0.0.1:" + r.header("host").substr(10) + "/42").c_str());
  EXPECT_TRUE(is_rfc3339_micros(header["sent_at"].GetString())) << header["sent_at"].GetString();
  EXPECT_STREQ(item["type"].GetString(), "event");
  EXPECT_EQ(item["length"].GetUint64(), lines[2].size());
  EXPECT_STREQ(event["event_id"].GetString(), header["event_id"].GetString());
  EXPECT_TRUE(event["timestamp"].IsNumber());
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(event["timestamp"].GetDouble(), now, 60.0);
  EXPECT_STREQ(event["platform"].GetString(), "native");
  EXPECT_STREQ(event["release"].GetString(), "dicomd@0.1.0");
  EXPECT_STREQ(event["environment"].GetString(), "test");
  EXPECT_TRUE(event["tags"].IsObject());
  EXPECT_FALSE(event.HasMember("user"));
  if (event.HasMember("request")) {  // the method only: never URL, headers, cookies or body
    EXPECT_EQ(event["request"].MemberCount(), 1u);
    EXPECT_TRUE(event["request"].HasMember("method"));
  }
  return event;
}

std::string tag(const rapidjson::Document& event, const char* name) {
  return event["tags"].HasMember(name) ? event["tags"][name].GetString() : "";
}

// Sends `n` requests and returns the slowest answer's time.
std::chrono::milliseconds slowest_of(uint16_t port, int n, const std::string& target) {
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    HttpReply reply = request(port, "GET", target);
    EXPECT_EQ(reply.status, 500);
    slowest = std::max(slowest,
                       std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
  }
  return slowest;
}

double metric_value(uint16_t port, const std::string& series) {
  std::string page = request(port, "GET", "/metrics").body;
  for (const auto& line : lines_of(page))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(ErrorsSentry, AServerErrorIsOneScrubbedEventWithItsBreadcrumbs) {
  HttpReceiver receiver;
  Server server(plugin_list({sentry_plugin(receiver), R"({"name":"testkit"})"}));
  std::string say = url_encode(std::string("Authorization: Bearer ") + kToken + " password=hunter2 cookie=" + kToken +
                               " reading /var/lib/dicomd/studies/a/b.dcm");
  HttpReply reply = request(server.port(), "GET", "/test/throw?say=" + say, "",
                            {{"Authorization", std::string("Bearer ") + kToken},
                             {"Cookie", std::string("dicomd_token=") + kToken},
                             {"X-Request-Id", "req-sentry-1"},
                             {"traceparent", std::string("00-") + kTraceId + "-" + kParentId + "-01"}});
  ASSERT_EQ(reply.status, 500);
  ASSERT_TRUE(receiver.wait_for(1, 10s));
  std::this_thread::sleep_for(1s);
  auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u) << "one 5xx, one event";
  rapidjson::Document event = event_of(received[0]);
  EXPECT_STREQ(event["level"].GetString(), "error");
  EXPECT_STREQ(event["transaction"].GetString(), "GET /test/throw");
  EXPECT_EQ(tag(event, "route"), "/test/throw");
  EXPECT_EQ(tag(event, "status"), "500");
  EXPECT_EQ(tag(event, "plugin"), "testkit");
  EXPECT_EQ(tag(event, "request_id"), "req-sentry-1");
  EXPECT_STREQ(event["contexts"]["trace"]["trace_id"].GetString(), kTraceId);
  EXPECT_TRUE(hex_of_length(event["contexts"]["trace"]["span_id"].GetString(), 16));
  // Breadcrumbs: the request's log lines, in order, scrubbed.
  const auto& crumbs = event["breadcrumbs"]["values"];
  ASSERT_GE(crumbs.Size(), 2u);
  std::string first = crumbs[0]["message"].GetString();
  EXPECT_EQ(first.rfind("about to fail: Authorization: [scrubbed] password=[scrubbed] cookie=[scrubbed] reading "
                        "[path]",
                        0),
            0u)
      << first;
  EXPECT_STREQ(crumbs[0]["level"].GetString(), "warning");
  EXPECT_STREQ(crumbs[0]["category"].GetString(), "testkit");
  EXPECT_NE(std::string(crumbs[1]["message"].GetString()).find("secret [path]"), std::string::npos);
  for (const std::string& secret : {std::string(kToken), std::string("hunter2"), std::string("/internal/path"),
                                    std::string("/var/lib"), server.dir().path().string()})
    EXPECT_EQ(received[0].body.find(secret), std::string::npos) << secret << " leaked: " << received[0].body;
  EXPECT_EQ(metric_value(server.port(), "dicomd_sentry_events_sent_total"), 1);
}

TEST(ErrorsSentry, AWorkerCrashIsOneEventWithItsSignal) {
  HttpReceiver receiver;
  Server server(plugin_list({sentry_plugin(receiver), R"({"name":"testkit"})"}));
  HttpReply reply = request(server.port(), "POST", "/test/isolate/crash", "x");
  ASSERT_EQ(reply.status, 200);  // the route reports the job's status itself
  EXPECT_NE(reply.body.find(R"("status":7)"), std::string::npos) << reply.body;
  ASSERT_TRUE(receiver.wait_for(1, 10s));
  std::this_thread::sleep_for(1s);
  auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u);
  rapidjson::Document event = event_of(received[0]);
  const auto& exception = event["exception"]["values"][0];
  EXPECT_STREQ(exception["type"].GetString(), "WorkerCrash");
  EXPECT_STREQ(exception["module"].GetString(), "testkit");
  std::string value = exception["value"].GetString();
  EXPECT_NE(value.find("worker.run"), std::string::npos) << value;
  EXPECT_NE(value.find("Aborted"), std::string::npos) << value;  // the signal
  EXPECT_EQ(tag(event, "status"), "200");
  EXPECT_EQ(tag(event, "plugin"), "testkit");
}

TEST(ErrorsSentry, APluginThatFailsToStartIsReportedBeforeTheServerExits) {
  HttpReceiver receiver;
  TempDir dir;
  fs::create_directories(dir.path() / "plugins");
  fs::create_symlink(fs::path(core_plugin_dir()) / "errors-sentry.so", dir / "plugins" / "errors-sentry.so");
  fs::create_symlink(fs::path(test_plugin_dir()) / "init-fails.so", dir / "plugins" / "init-fails.so");
  write_file(dir / "config.json", R"({"listen":"127.0.0.1:0","plugin_dir":")" + (dir / "plugins").string() +
                                      R"(","plugins":[)" + sentry_plugin(receiver) + R"(,{"name":"init-fails"}]})");
  RunResult run = run_dicomd({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  EXPECT_NE(run.exit_code, 0) << run.output;
  ASSERT_EQ(receiver.received().size(), 1u) << run.output;
  rapidjson::Document event = event_of(receiver.received()[0]);
  EXPECT_STREQ(event["level"].GetString(), "fatal");
  EXPECT_STREQ(event["exception"]["values"][0]["type"].GetString(), "PluginStartFailure");
  EXPECT_NE(std::string(event["exception"]["values"][0]["value"].GetString()).find("init failed"), std::string::npos);
  EXPECT_EQ(tag(event, "plugin"), "init-fails");
  EXPECT_EQ(tag(event, "what"), "start-up");
}

TEST(ErrorsSentry, AStorageErrorIsReported) {
  HttpReceiver receiver;
  Server server(plugin_list({sentry_plugin(receiver), R"({"name":"storage-fs"})", R"({"name":"files"})",
                             R"({"name":"validator-gdcm"})", R"({"name":"metadata-gdcm"})"}));
  // The study's folder is a file: storing into it fails with ENOTDIR,
  // whoever runs the test (root ignores permissions).
  fs::create_directories(server.dir() / "data" / "studies");
  write_file(server.dir() / "data" / "studies" / "blocked", "not a folder");
  auto [type, body] = multipart_body(
      {{"study", "blocked"}}, {{"files", "ct.dcm", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm")}});
  HttpReply reply = request(server.port(), "POST", "/upload", body, {{"Content-Type", type}});
  EXPECT_NE(reply.body.find("storage_error"), std::string::npos) << reply.status << " " << reply.body;
  ASSERT_TRUE(receiver.wait_for(1, 10s)) << reply.body;
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(receiver.received().size(), 1u);
  rapidjson::Document event = event_of(receiver.received()[0]);
  const auto& exception = event["exception"]["values"][0];
  EXPECT_STREQ(exception["type"].GetString(), "StorageError");
  EXPECT_STREQ(exception["module"].GetString(), "storage-fs");
  EXPECT_EQ(tag(event, "route"), "/upload");
}

// Down, then answering only after 35 s: requests answer as fast as
// without the plugin, events beyond the queue and the rate are dropped and
// counted, and the server still stops promptly.
TEST(ErrorsSentry, ADownOrSlowTrackerNeverSlowsARequest) {
  uint16_t closed_port = 0;
  {
    HttpReceiver gone;  // its port, closed again: connections are refused
    closed_port = gone.port();
  }
  {
    Server down(R"([{"name":"errors-sentry","config":{"dsn":"http://k@127.0.0.1:)" + std::to_string(closed_port) +
                R"(/1"}},)" + otlp_plugin_for_port(closed_port) + R"(,{"name":"testkit"}])");
    EXPECT_LT(slowest_of(down.port(), 50, "/test/throw"), 1000ms);
    EXPECT_GT(metric_value(down.port(), R"(dicomd_sentry_events_dropped_total{reason="send_failed"})") +
                  metric_value(down.port(), R"(dicomd_sentry_events_dropped_total{reason="rate_limited"})"),
              0);
  }
  HttpReceiver slow;
  slow.answer_with(200, 35s);
  Server server(plugin_list(
      {sentry_plugin(slow, R"(,"max_queue":5,"burst":20)"), otlp_plugin(slow, "1.0"), R"({"name":"testkit"})"}));
  auto slowest = slowest_of(server.port(), 100, "/test/throw");
  EXPECT_LT(slowest, 1000ms);
  EXPECT_GT(metric_value(server.port(), R"(dicomd_sentry_events_dropped_total{reason="queue_full"})"), 0);
  EXPECT_GT(metric_value(server.port(), R"(dicomd_sentry_events_dropped_total{reason="rate_limited"})"), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.process().stop(SIGTERM), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "a slow tracker held up the exit";
}

// Bad configs of both plugins stop the server before it starts, naming
// what is wrong (dicomd --check-config runs the same checks as init).
TEST(ObservabilityConfig, BadSettingsAreRefusedByName) {
  TempDir dir;
  struct Case {
    std::string plugin, expected;
  };
  std::vector<Case> cases = {
      {R"({"name":"errors-sentry","config":{}})", "needs \"dsn\""},
      {R"({"name":"errors-sentry","config":{"dsn":"https://sentry.io/42"}})", "no public key"},
      {R"({"name":"errors-sentry","config":{"dsn":"https://k@h/abc"}})", "project id must be digits"},
      {R"({"name":"errors-sentry","config":{"dsn":"https://k@h/1","burst":0}})", "burst"},
      {R"({"name":"errors-sentry","config":{"dsn":"https://k@h/1","dns":"x"}})", "unknown key \"dns\""},
      {R"({"name":"traces-otlp","config":{}})", "needs \"endpoint\""},
      {R"({"name":"traces-otlp","config":{"endpoint":"ftp://h"}})", "needs \"endpoint\""},
      {R"({"name":"traces-otlp","config":{"endpoint":"http://h","sample_ratio":1.5}})", "from 0 to 1"},
      {R"({"name":"traces-otlp","config":{"endpoint":"http://h","compression":"zstd"}})", "\"gzip\" or \"none\""},
      {R"({"name":"traces-otlp","config":{"endpoint":"http://h","headers":{"X-A":"a\r\nB: c"}}})", "one-line"},
  };
  for (const Case& c : cases) {
    write_file(dir / "bad.json", R"({"plugins":[)" + c.plugin + "]}");
    RunResult r = run_dicomd({"--check-config", (dir / "bad.json").string(), "--plugin-dir", core_plugin_dir()});
    EXPECT_EQ(r.exit_code, 1) << c.plugin << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.plugin << "\n" << r.output;
  }
  write_file(dir / "good.json", R"({"plugins":[{"name":"errors-sentry","config":{"dsn":"https://k@h/1"}},)"
                                R"({"name":"traces-otlp","config":{"endpoint":"http://h:4318"}}]})");
  RunResult good = run_dicomd({"--check-config", (dir / "good.json").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(good.exit_code, 0) << good.output;
}

}  // namespace
}  // namespace dicomd::test
