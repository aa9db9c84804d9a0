// Malformed and hostile requests over raw sockets: each gets its documented
// answer within 2 s, the server stays up, nothing is written outside the data
// folder.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core_server.h"

using namespace dicomd::test;
using namespace std::chrono_literals;

namespace {

struct Hostile {
  const char* name;
  std::string bytes;
  int status;  // expected answer; 0: the connection is closed without one
};

std::string multipart(const std::string& study, const std::string& filename, const std::string& data) {
  const std::string b = "XyZ";
  std::string body = "--" + b + "\r\nContent-Disposition: form-data; name=\"study\"\r\n\r\n" + study + "\r\n--" + b +
                     "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + filename + "\"\r\n\r\n" +
                     data + "\r\n--" + b + "--\r\n";
  return "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + b +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "Connection: close\r\n\r\n";
}

std::vector<Hostile> cases(const std::string& ct) {
  std::string many_parts = "--B\r\n";
  for (int i = 0; i < 1000; ++i) many_parts += "Content-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--B\r\n";
  many_parts += "Content-Disposition: form-data; name=\"study\"\r\n\r\ns\r\n--B--";
  return {
      {"binary garbage", std::string("\x00\x01\x02\xff\xfe", 5), 400},
      {"HTTP/1.1 without Host", "GET /files HTTP/1.1\r\n\r\n", 400},
      {"two Host headers", "GET /files HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"two Content-Type headers",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Type: multipart/form-data; "
       "boundary=B\r\nContent-Length: 4\r\n\r\n--B-",
       400},
      {"TLS client hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400},
      {"method only", "GET\r\n\r\n", 400},
      {"no version", "GET /files\r\n\r\n", 400},
      {"HTTP/2.0", "GET /files HTTP/2.0\r\n\r\n", 400},
      {"HTTP/0.9", "GET /\r\n", 400},
      {"absolute-form target", "GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"control character in target", std::string("GET /fi\x01les HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
      {"space in header name", "GET /files HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n", 400},
      {"header without colon", "GET /files HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400},
      {"obsolete line folding", "GET /files HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n continued\r\n\r\n", 400},
      {"NUL in header value", std::string("GET /files HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 43), 400},
      {"negative Content-Length", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"non-numeric Content-Length", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400},
      {"huge Content-Length", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n", 413},
      {"overflowing Content-Length",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"duplicated Content-Length",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", 400},
      {"chunked body", "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       411},
      {"20 KB header", "GET /files HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"17 KB URL", "GET /files/" + std::string(17000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
      {"too-large body with 100-continue",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\nExpect: 100-continue\r\n\r\n", 413},
      {"encoded dot-dot study", get("/files/%2e%2e"), 400},
      {"encoded traversal in file", get("/files/s/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), 400},
      {"traversal through two segments", get("/files/..%2F..%2Fetc/passwd"), 400},
      {"NUL in a name", get("/files/a%00b"), 400},
      {"malformed percent escape", get("/files/%zz"), 400},
      {"malformed escape in query", get("/files/s/f/tag?tag=%G1"), 400},
      {"hidden folder as study", get("/files/.tmp"), 400},
      {"unknown method", "BREW /files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405},
      {"wrong method on a route", "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
       405},
      {"unknown route", get("/etc/passwd"), 404},
      {"upload with traversal study", multipart("../../../tmp/dicomd-evil", "IM1", ct), 400},
      {"upload with NUL in study", multipart(std::string("a\0b", 3), "IM1", ct), 400},
      {"upload with slash study", multipart("a/b", "IM1", ct), 400},
      {"upload with traversal file name", multipart("s", "../../../../tmp/dicomd-evil.dcm", ct), 201},
      {"upload with hidden file name", multipart("s", ".bashrc", ct), 422},
      {"upload of a PDF named .dcm", multipart("s", "x.dcm", "%PDF-1.4 not dicom"), 422},
      {"upload of a truncated DICOM header", multipart("s", "cut.dcm", ct.substr(0, 300)), 422},
      {"upload without boundary",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 4\r\nConnection: "
       "close\r\n\r\nabcd",
       400},
      {"upload with truncated multipart",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 30\r\n"
       "Connection: close\r\n\r\n--B\r\nContent-Disposition: form",
       400},
      {"upload of 1000 empty parts",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
           std::to_string(many_parts.size()) + "\r\nConnection: close\r\n\r\n" + many_parts,
       400},
      {"upload as JSON",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
       "Connection: close\r\n\r\n{}",
       415},
      {"tag list of junk", get("/files/s/IM1/tag?tag=((((&tag=)))&tag=" + std::string(500, 'z')), 400},
      {"window overflow", get("/files/s/IM1/png?window=1e400,1"), 400},
      {"frame overflow", get("/files/s/IM1/png?frame=99999999999"), 400},
      {"body longer than Content-Length",
       "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxxGARBAGE\r\n\r\n", 200},
  };
}

}  // namespace

TEST(HostileRequests, EachGetsItsAnswerWithinTwoSecondsAndNothingLeaksOut) {
  CoreServer server({}, R"({"listen":"127.0.0.1:0","header_timeout_ms":1500})");
  std::string ct = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  ASSERT_EQ(server.upload("s", {{"files", "IM1", ct}}).status, 201);
  auto list = cases(ct);
  ASSERT_GE(list.size(), 40u);
  for (const Hostile& h : list) {
    Connection c(server.port());
    ASSERT_TRUE(c.ok()) << h.name;
    auto start = std::chrono::steady_clock::now();
    c.send_raw(h.bytes);
    auto reply = c.read_reply(2s);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(reply) << h.name << ": no answer within 2 s";
    EXPECT_EQ(reply->status, h.status) << h.name << ": " << reply->body;
    EXPECT_LT(took, 2s) << h.name;
    EXPECT_EQ(reply->body.find("/tmp/"), std::string::npos) << h.name << " reveals a path: " << reply->body;
    EXPECT_EQ(reply->header("x-content-type-options"), "nosniff") << h.name;
  }
  // A stalled request head is dropped after header_timeout_ms (1.5 s).
  {
    Connection c(server.port());
    auto start = std::chrono::steady_clock::now();
    c.send_raw("GET /files HTTP/1.1\r\nHost: slow");
    EXPECT_TRUE(c.closed_by_peer(3s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  }
  EXPECT_EQ(server.get("/health").status, 200);
  EXPECT_FALSE(std::filesystem::exists("/tmp/dicomd-evil"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/dicomd-evil.dcm"));
  // Only the server's own folders were written: one study holding IM1 and
  // the traversal upload reduced to its base name.
  EXPECT_EQ(files_under(server.studies_dir()), (std::vector<std::string>{"s/IM1", "s/dicomd-evil.dcm"}));
  for (const auto& e : std::filesystem::directory_iterator(server.dir().path()))
    EXPECT_TRUE(e.path().filename() == "data" || e.path().filename() == "config.json") << e.path();
}

TEST(HostileRequests, UploadsBeyondTheLimitsAre503WithRetryAfter) {
  CoreServer server({}, R"({"listen":"127.0.0.1:0","max_concurrent_uploads":1})");
  // First upload: head and half of a 2 MiB body, then it waits.
  Connection first(server.port());
  std::string big(2 << 20, 'x');
  first.send_raw("POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" +
                 big.substr(0, big.size() / 2));
  std::this_thread::sleep_for(200ms);
  Connection second(server.port());
  second.send_raw("POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n");
  auto refused = second.read_reply(2s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("retry-after"), "1");
  EXPECT_EQ(refused->body, R"({"error":"too many uploads at once; retry shortly","success":false})");
  // Small requests are not uploads and still pass.
  EXPECT_EQ(server.get("/health").status, 200);
  first.send_raw(big.substr(big.size() / 2));
  auto done = first.read_reply(10s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200);
  std::this_thread::sleep_for(200ms);  // the slot is released once the reply is written
  // The slot is free again.
  auto again = request(server.port(), "POST", "/validate", big);
  EXPECT_EQ(again.status, 200);
}
