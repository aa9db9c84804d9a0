// The host's HTTP layer and isolation service, through the testkit plugin.
#include <gtest/gtest.h>

#include <signal.h>

#include <rapidjson/document.h>
#include <mutex>
#include <set>
#include <thread>

#include "http_client.h"
#include "server_process.h"

using namespace dicomd::test;
using namespace std::chrono_literals;

namespace {

class HostHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    write_file(*dir_ / "config.json", R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() +
                                          R"(","keepalive_timeout_ms":1500,"header_timeout_ms":1500,)"
                                          R"("isolation":{"workers":2,"timeout_ms":2000},)"
                                          R"("plugins":[{"name":"testkit"}]})");
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (*dir_ / "config.json").string(), "--data", (*dir_ / "data").string()});
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(SIGTERM), 0);
    server_.reset();
    dir_.reset();
  }
  uint16_t port() { return server_->port(); }
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
};
std::unique_ptr<TempDir> HostHttp::dir_;
std::unique_ptr<ServerProcess> HostHttp::server_;

int json_int(const std::string& body, const char* key) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d[key].GetInt();
}

}  // namespace

TEST_F(HostHttp, RepeatedQueryParametersKeepEveryValueInOrder) {
  auto r = request(port(), "GET", "/test/echo/a%20b/%C3%A9?tag=%280028%2C0011%29&tag=Rows&x=1&tag=00280010");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"j({"a":"a b","b":"é","tag":["(0028,0011)","Rows","00280010"],"success":true})j");
}

TEST_F(HostHttp, MalformedPercentEncodingIs400) {
  EXPECT_EQ(request(port(), "GET", "/test/echo/a%zz/b").status, 400);
  EXPECT_EQ(request(port(), "GET", "/test/echo/a/b?tag=%").status, 400);
}

TEST_F(HostHttp, ThrowingHandlerGives500WithoutDetails) {
  auto r = request(port(), "GET", "/test/throw");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("/internal/path"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("request id"), std::string::npos);
  EXPECT_NE(server_->log().find("secret /internal/path"), std::string::npos);  // logged instead
}

TEST_F(HostHttp, QuickRouteAnswersOnTheIoThreadOrFallsBackToARequestThread) {
  auto inline_answer = request(port(), "GET", "/test/quick");
  ASSERT_EQ(inline_answer.status, 200);
  EXPECT_EQ(inline_answer.body, R"({"mayBlock":false,"success":true})");
  auto fallback = request(port(), "GET", "/test/quick?block=1");
  ASSERT_EQ(fallback.status, 200);
  EXPECT_EQ(fallback.body, R"({"mayBlock":true,"success":true})");
  // A route without the flag never runs on the I/O thread; errors of routing
  // are answered there.
  EXPECT_EQ(request(port(), "GET", "/test/echo/a/b").status, 200);
  EXPECT_EQ(request(port(), "GET", "/test/nothing-here").status, 404);
}

TEST_F(HostHttp, PipelinedQuickAndSlowRequestsKeepTheirOrder) {
  Connection c(port());
  c.send_raw(
      "GET /test/slow?ms=40 HTTP/1.1\r\nHost: x\r\n\r\nGET /test/quick HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /test/quick?block=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /test/quick HTTP/1.1\r\nHost: x\r\n\r\n");
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    auto r = c.read_reply();
    ASSERT_TRUE(r) << i;
    bodies.push_back(r->body);
  }
  EXPECT_NE(bodies[0].find("\"slept\":40"), std::string::npos) << bodies[0];
  EXPECT_EQ(bodies[1], R"({"mayBlock":false,"success":true})");
  EXPECT_EQ(bodies[2], R"({"mayBlock":true,"success":true})");
  EXPECT_EQ(bodies[3], R"({"mayBlock":false,"success":true})");
}

// A reply larger than the socket takes at once: the rest goes through the
// write queue, and a pipelined request behind it is answered after it.
TEST_F(HostHttp, ReplyLargerThanTheSocketBufferArrivesWholeBeforeTheNextOne) {
  Connection c(port());
  c.send_raw("GET /test/big?mb=24 HTTP/1.1\r\nHost: x\r\n\r\nGET /test/quick HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // a slow reader: the server's writes fill the socket first
  auto big = c.read_reply(10s);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 200);
  ASSERT_EQ(big->body.size(), 24u << 20);
  bool pattern = true;
  for (size_t i = 0; i < big->body.size() && pattern; i += 4099) pattern = big->body[i] == static_cast<char>(i % 251);
  EXPECT_TRUE(pattern);
  auto next = c.read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, R"({"mayBlock":false,"success":true})");
}

TEST_F(HostHttp, KeepAliveServesSeveralRequestsOnOneConnection) {
  Connection c(port());
  for (int i = 0; i < 3; ++i) {
    c.send_raw("GET /test/slow?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("connection"), "keep-alive");
  }
}

TEST_F(HostHttp, PipelinedRequestsAreAnsweredInOrder) {
  Connection c(port());
  c.send_raw("GET /test/slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\nGET /test/slow?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = c.read_reply();
  auto second = c.read_reply();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(json_int(first->body, "slept"), 50);
  EXPECT_EQ(json_int(second->body, "slept"), 1);
}

TEST_F(HostHttp, IdleKeepAliveConnectionsAreClosed) {
  Connection c(port());
  c.send_raw("GET /test/slow?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.read_reply());
  EXPECT_TRUE(c.closed_by_peer(5s));  // keepalive_timeout_ms is 1500
}

TEST_F(HostHttp, GarbageRequestLineIsAnswered400AtOnce) {
  Connection c(port());
  auto start = std::chrono::steady_clock::now();
  c.send_raw("\x16\x03\x01\x02\x00 not http");
  auto r = c.read_reply(2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.closed_by_peer(3s));
}

// netcat's "GET /x HTTP/1.1\nHost: x\n\n" is answered at once, not after the
// header timeout.
TEST_F(HostHttp, BareLfRequestIsAnsweredAtOnce) {
  Connection c(port());
  auto start = std::chrono::steady_clock::now();
  c.send_raw("GET /test/echo/a/b?tag=1 HTTP/1.1\nHost: x\n\n");
  auto r = c.read_reply(2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"a":"a","b":"b","tag":["1"],"success":true})");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HostHttp, TooLargeContentLengthIs413BeforeTheBodyAndCloses) {
  Connection c(port());
  c.send_raw(
      "POST /test/form HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\nGET /test/slow HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  auto r = c.read_reply(2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer(3s));  // the leftover bytes were not parsed as a request
}

TEST_F(HostHttp, ExpectContinueIsAnswered) {
  Connection c(port());
  auto [type, body] = multipart_body({{"study", "s"}}, {{"files", "a.dcm", "1234"}});
  c.send_raw("POST /test/form HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
  auto cont = c.read_reply(1s);
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  c.send_raw(body);
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"(["study=1","files=4"])");
}

// "100 Continue" tells a client to send its body: only for a request a route
// takes. Otherwise the answer (404, 405) comes before the body is sent.
TEST_F(HostHttp, ExpectContinueToNoRouteIsAnsweredWithoutContinue) {
  for (auto [target, status] : {std::pair{"/nowhere", 404}, std::pair{"/test/quick", 405}}) {
    Connection c(port());
    c.send_raw(std::string("POST ") + target +
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.read_reply(1s);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, status) << target;
    EXPECT_TRUE(c.closed_by_peer(2s)) << target;
  }
}

// A route that declares its body types (ABI 1.3) has any other refused with
// 415 by the host — before "100 Continue", so the body is never sent.
TEST_F(HostHttp, ExpectContinueWithABodyTypeTheRouteRefusesIs415AtOnce) {
  for (std::string type : {"application/json", ""}) {
    Connection c(port());
    c.send_raw("POST /test/typed HTTP/1.1\r\nHost: x\r\n" + (type.empty() ? "" : "Content-Type: " + type + "\r\n") +
               "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.read_reply(1s);
    ASSERT_TRUE(r) << type;
    EXPECT_EQ(r->status, 415) << type;
    EXPECT_NE(r->body.find("this route accepts multipart/form-data, application/dicom"), std::string::npos) << r->body;
    EXPECT_TRUE(c.closed_by_peer(2s)) << type;
  }
  Connection c(port());  // an accepted type, in any case and with parameters
  c.send_raw(
      "POST /test/typed HTTP/1.1\r\nHost: x\r\nContent-Type: MULTIPART/form-data; boundary=b\r\n"
      "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  auto cont = c.read_reply(1s);
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  c.send_raw("xx");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"type":"multipart/form-data","success":true})");
}

TEST_F(HostHttp, ABodyTypeTheRouteRefusesIs415) {
  auto refused = request(port(), "POST", "/test/typed", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(refused.status, 415);
  EXPECT_EQ(
      refused.body,
      R"({"error":"unsupported Content-Type text/plain: this route accepts multipart/form-data, application/dicom","success":false})");
  auto accepted = request(port(), "POST", "/test/typed", "x", {{"Content-Type", "application/dicom"}});
  EXPECT_EQ(accepted.status, 200) << accepted.body;
}

TEST_F(HostHttp, MalformedMultipartIsTheHandlersError) {
  auto r = request(port(), "POST", "/test/form", "garbage", {{"Content-Type", "multipart/form-data; boundary=x"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"malformed multipart body","success":false})");
}

TEST_F(HostHttp, HeadReturnsHeadersOnly) {
  Connection c(port());
  c.send_raw("HEAD /test/slow?ms=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /test/slow?ms=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read_reply(std::chrono::seconds(10), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_NE(head->header("content-length"), "0");
  EXPECT_TRUE(head->body.empty());
  // No body was sent: the next reply starts right after the HEAD reply's head.
  auto next = c.read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(json_int(next->body, "slept"), 2);
}

TEST_F(HostHttp, IsolatedJobRunsInAnotherProcess) {
  auto r = request(port(), "POST", "/test/isolate/echo", "hello");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("status":0)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(": hello"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("pid " + std::to_string(server_->pid()) + ":"), std::string::npos);
}

// isolate_file (ABI 1.4): the worker maps the file after the head, so the
// job sees head + the file's range in one piece; bad arguments are refused
// before any worker is involved.
TEST_F(HostHttp, AFileJobSeesItsHeadThenTheMappedFile) {
  std::string file(3 * 4096 + 17, 'x');
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>('a' + i % 26);
  auto whole = request(port(), "POST", "/test/isolate-file/echo?head=OPTIONS", file);
  ASSERT_EQ(whole.status, 200);
  EXPECT_NE(whole.body.find(R"("status":0)"), std::string::npos) << whole.body.substr(0, 200);
  EXPECT_NE(whole.body.find(": OPTIONS" + file + "\""), std::string::npos);
  // From an aligned offset, a part of it; an empty head; an empty range.
  auto part = request(port(), "POST", "/test/isolate-file/echo?offset=4096&length=100", file);
  EXPECT_NE(part.body.find(": " + file.substr(4096, 100) + "\""), std::string::npos) << part.body;
  auto empty = request(port(), "POST", "/test/isolate-file/echo?head=H&offset=4096&length=0", file);
  EXPECT_NE(empty.body.find(": H\""), std::string::npos) << empty.body;
  const std::string invalid = R"("status":2)";  // DICOMD_E_INVALID
  for (const char* bad : {"offset=1", "offset=0&length=99999", "offset=16384", "pipe=1"})
    EXPECT_NE(request(port(), "POST", std::string("/test/isolate-file/echo?") + bad, file).body.find(invalid),
              std::string::npos)
        << bad;
  std::string long_head(1025, 'h');
  EXPECT_NE(request(port(), "POST", "/test/isolate-file/echo?head=" + long_head, file).body.find(invalid),
            std::string::npos);
  // The pool is intact: a plain job still runs.
  EXPECT_NE(request(port(), "POST", "/test/isolate/echo", "after").body.find(": after"), std::string::npos);
}

TEST_F(HostHttp, CrashingJobFailsAloneAndTheWorkerIsReplaced) {
  auto crash = request(port(), "POST", "/test/isolate/crash", "x");
  EXPECT_NE(crash.body.find(R"("status":7)"), std::string::npos) << crash.body;  // DICOMD_E_WORKER_DIED
  for (int i = 0; i < 4; ++i) {
    auto echo = request(port(), "POST", "/test/isolate/echo", "again");
    EXPECT_NE(echo.body.find(R"("status":0)"), std::string::npos) << echo.body;
  }
  EXPECT_EQ(request(port(), "GET", "/health").status, 200);
  EXPECT_TRUE(server_->running());
}

TEST_F(HostHttp, HangingJobTimesOutAndTheWorkerIsReplaced) {
  auto start = std::chrono::steady_clock::now();
  auto hang = request(port(), "POST", "/test/isolate/hang", "x");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(hang.body.find(R"("status":6)"), std::string::npos) << hang.body;  // DICOMD_E_TIMEOUT
  EXPECT_LT(took, 5s);
  auto echo = request(port(), "POST", "/test/isolate/echo", "after");
  EXPECT_NE(echo.body.find(R"("status":0)"), std::string::npos) << echo.body;
  auto health = request(port(), "GET", "/health");
  EXPECT_NE(health.body.find(R"("alive":2)"), std::string::npos) << health.body;
}

// The per-job CPU limit (timeout + 1 s) is cumulative for a worker process;
// it must move forward job after job, so that a worker whose jobs add up to
// more than one limit keeps serving.
TEST(HostIsolation, AWorkerOutlivesManyJobsWorthMoreCpuThanOneJobsLimit) {
  TempDir dir;
  write_file(dir / "config.json",
             R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() +
                 R"(","isolation":{"workers":1,"timeout_ms":1000},"plugins":[{"name":"testkit"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  for (int i = 0; i < 8; ++i) {  // 8 x 450 ms of CPU = 3.6 s, past the first limit of 2 s + 1
    auto r = request(server.port(), "POST", "/test/isolate/spin", "450");
    EXPECT_NE(r.body.find(R"("status":0)"), std::string::npos) << i << ": " << r.body;
  }
  EXPECT_EQ(server.log().find("worker replaced"), std::string::npos) << server.log();
}

namespace {

// Three 800 ms jobs at once on one worker (testkit gives each 2 s):
// the isolate statuses they got, in any order.
std::multiset<int> three_spins_at_once(const std::string& isolation_json) {
  TempDir dir;
  write_file(dir / "config.json", R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() +
                                      R"(","isolation":)" + isolation_json + R"(,"plugins":[{"name":"testkit"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  std::mutex mutex;
  std::multiset<int> statuses;
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i)
    clients.emplace_back([&] {
      auto r = request(server.port(), "POST", "/test/isolate/spin", "800");
      std::lock_guard lock(mutex);
      statuses.insert(json_int(r.body, "status"));
    });
  for (auto& t : clients) t.join();
  return statuses;
}

}  // namespace

// Waiting for a worker was counted against the job's deadline: with one
// worker, the third of three valid files "timed out" (and was blamed on
// the file). A job's deadline now starts when a worker takes it.
TEST(HostIsolation, WaitingForAWorkerIsNotTheJobsTime) {
  EXPECT_EQ(three_spins_at_once(R"({"workers":1,"timeout_ms":1000})"), (std::multiset<int>{0, 0, 0}));
}

// A full queue is "busy" (DICOMD_E_UNAVAILABLE, 5) at once, never a timeout.
TEST(HostIsolation, AFullQueueIsBusyNotTheFilesFault) {
  EXPECT_EQ(three_spins_at_once(R"({"workers":1,"timeout_ms":1000,"max_queued":1})"), (std::multiset<int>{0, 0, 5}));
}

TEST(HostShutdown, SigtermLetsTheSlowRequestFinishThenExitsZero) {
  TempDir dir;
  write_file(dir / "config.json",
             R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() + R"(","plugins":[{"name":"testkit"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  Connection c(server.port());
  c.send_raw("GET /test/slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(300ms);
  ::kill(server.pid(), SIGTERM);
  std::this_thread::sleep_for(200ms);
  // New connections are refused while draining.
  Connection late(server.port());
  if (late.ok()) {
    late.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = late.read_reply(2s);
    EXPECT_FALSE(r && r->status == 200);
  }
  auto reply = c.read_reply(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(json_int(reply->body, "slept"), 1500);
  EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();
  EXPECT_NE(server.log().find("stopped"), std::string::npos);
}
