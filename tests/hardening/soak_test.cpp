// A bounded soak: 20,000 mixed requests on keep-alive connections. After
// warm-up the server's memory stays within a stated bound and no file
// descriptor leaks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core_server.h"

using namespace dicomd::test;

namespace {

#ifdef DICOMD_TEST_SANITIZED
constexpr int kRequests = 4000;  // ASan is slower and its quarantine holds freed memory
constexpr bool kCheckMemory = false;
#else
constexpr int kRequests = 20000;
constexpr bool kCheckMemory = true;
#endif
constexpr long kMaxGrowthKib = 16 * 1024;  // the stated bound after warm-up

std::string request_for(int i, const std::string& upload) {
  switch (i % 8) {
    case 0:
      return "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    case 1:
      return "GET /files HTTP/1.1\r\nHost: x\r\n\r\n";
    case 2:
      return "GET /files/soak HTTP/1.1\r\nHost: x\r\n\r\n";
    case 3:
      return "GET /files/soak/IM1/tag?tag=Rows&tag=PatientName HTTP/1.1\r\nHost: x\r\n\r\n";
    case 4:
      return "GET /files/soak/IM1/png?size=64 HTTP/1.1\r\nHost: x\r\n\r\n";
    case 5:
      return "GET /files/soak/nope HTTP/1.1\r\nHost: x\r\n\r\n";
    case 6:
      return "GET /files/soak/IM1/tags HTTP/1.1\r\nHost: x\r\n\r\n";
    default:
      return upload;
  }
}

}  // namespace

TEST(Soak, MixedRequestsKeepMemoryAndDescriptorsBounded) {
  CoreServer server;
  std::string ct = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  ASSERT_EQ(server.upload("soak", {{"files", "IM1", ct}}).status, 201);
  auto [type, body] =
      multipart_body({{"study", "soak"}}, {{"files", "IM1", ct}});  // a duplicate: validated, not stored
  std::string upload = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::atomic<int> next{0}, failures{0};
  long warm_rss = 0, warm_fds = 0;
  auto worker = [&] {
    Connection c(server.port());
    while (true) {
      int i = next++;
      if (i >= kRequests) return;
      if (i == kRequests / 10) {  // after warm-up
        warm_rss = server.process().rss_kib();
        warm_fds = server.process().open_fds();
      }
      c.send_raw(request_for(i, upload));
      auto r = c.read_reply(std::chrono::seconds(10));
      if (!r || r->status >= 500) ++failures;
      if (!r) return;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(next.load(), kRequests);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long end_rss = server.process().rss_kib(), end_fds = server.process().open_fds();
  std::printf("soak: %d requests, RSS %ld -> %ld KiB, fds %ld -> %ld\n", kRequests, warm_rss, end_rss, warm_fds,
              end_fds);
  if (kCheckMemory) {
    EXPECT_LE(end_rss - warm_rss, kMaxGrowthKib);
  }
  EXPECT_LE(end_fds, warm_fds + 2);  // keep-alive sockets of this test are still open
  EXPECT_EQ(server.get("/health").status, 200);
}
