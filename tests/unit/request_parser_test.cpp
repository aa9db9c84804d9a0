#include "http/request_parser.h"

#include <gtest/gtest.h>

using dicomd::http::ParserLimits;
using dicomd::http::RequestParser;
using Event = RequestParser::Event;

namespace {

// next(), past the kHead event that each request reports once.
Event advance(RequestParser& p) {
  Event e = p.next();
  while (e == Event::kHead) e = p.next();
  return e;
}

RequestParser make(uint64_t max_body = 1 << 20) {
  ParserLimits limits;
  limits.max_body_bytes = max_body;
  return RequestParser(limits);
}

}  // namespace

TEST(RequestParser, ParsesSimpleGet) {
  auto p = make();
  p.feed("GET /files?tag=a&tag=b HTTP/1.1\r\nHost: x\r\nX-Thing:  v  \r\n\r\n");
  ASSERT_EQ(advance(p), Event::kComplete);
  auto r = p.take();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/files");
  EXPECT_EQ(r.raw_query, "tag=a&tag=b");
  ASSERT_NE(r.header("x-thing"), nullptr);
  EXPECT_EQ(*r.header("x-thing"), "v");
  EXPECT_TRUE(r.keep_alive);
}

TEST(RequestParser, ByteByByteFeedingGivesTheSameRequest) {
  auto p = make();
  std::string raw = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  Event e = Event::kNeedMore;
  for (char c : raw) {
    p.feed(std::string_view(&c, 1));
    e = advance(p);
    if (e == Event::kComplete) break;
    ASSERT_EQ(e, Event::kNeedMore);
  }
  ASSERT_EQ(e, Event::kComplete);
  EXPECT_EQ(p.take().body, "hello");
}

TEST(RequestParser, PipelinedRequestsComeOutInOrder) {
  auto p = make();
  p.feed(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /c "
      "HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_EQ(p.take().path, "/a");
  ASSERT_EQ(advance(p), Event::kComplete);
  auto b = p.take();
  EXPECT_EQ(b.path, "/b");
  EXPECT_EQ(b.body, "ok");
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_EQ(p.take().path, "/c");
  EXPECT_EQ(advance(p), Event::kNeedMore);
}

TEST(RequestParser, ConnectionSemantics) {
  auto p = make();
  p.feed(
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: "
      "Keep-Alive\r\n\r\n");
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_FALSE(p.take().keep_alive);
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_FALSE(p.take().keep_alive);
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_TRUE(p.take().keep_alive);
}

TEST(RequestParser, ContentLengthOverLimitIsRejectedBeforeTheBody) {
  auto p = make(1000);
  p.feed("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
  ASSERT_EQ(advance(p), Event::kError);
  EXPECT_EQ(p.error_status(), 413);
}

struct BadRequestCase {
  const char* raw;
  int status;
};

class RequestParserRejects : public ::testing::TestWithParam<BadRequestCase> {};

TEST_P(RequestParserRejects, WithTheRightStatus) {
  auto p = make();
  p.feed(GetParam().raw);
  ASSERT_EQ(advance(p), Event::kError) << GetParam().raw;
  EXPECT_EQ(p.error_status(), GetParam().status) << GetParam().raw;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestParserRejects,
    ::testing::Values(
        BadRequestCase{"\x16\x03\x01 tls hello", 400}, BadRequestCase{"garbage\r\n", 400},
        BadRequestCase{"GET\r\n\r\n", 400}, BadRequestCase{"GET noslash HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        BadRequestCase{"GET / HTTP/2.0\r\n\r\n", 400},
        BadRequestCase{"GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 400},
        BadRequestCase{"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n", 413},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
        BadRequestCase{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411}),
    [](const ::testing::TestParamInfo<BadRequestCase>& info) { return "case" + std::to_string(info.index); });

TEST(RequestParser, GarbageIsRejectedWithoutWaitingForMoreBytes) {
  auto p = make();
  p.feed("\x01\x02\x03");  // no newline: a header timeout would otherwise apply
  EXPECT_EQ(advance(p), Event::kError);
}

TEST(RequestParser, OversizedHeadIs431) {
  auto p = make();
  p.feed("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a'));
  ASSERT_EQ(advance(p), Event::kError);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(RequestParser, ExpectContinueIsAnnouncedOnceThenTheBodyCompletes) {
  auto p = make();
  p.feed("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(advance(p), Event::kContinue);
  EXPECT_EQ(advance(p), Event::kNeedMore);
  p.feed("abc");
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_EQ(p.take().body, "abc");
}

TEST(RequestParser, ExpectContinueWithTooLargeBodyIs413NotContinue) {
  auto p = make(10);
  p.feed("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(advance(p), Event::kError);
  EXPECT_EQ(p.error_status(), 413);
}

TEST(RequestParser, HeadIsReportedOnceBeforeTheBody) {
  auto p = make();
  p.feed("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
  ASSERT_EQ(p.next(), Event::kHead);
  EXPECT_EQ(p.head().path, "/upload");
  EXPECT_EQ(p.declared_body_bytes(), 4u);
  EXPECT_EQ(p.next(), Event::kNeedMore);
  p.feed("cd");
  EXPECT_EQ(p.next(), Event::kComplete);
  EXPECT_EQ(p.take().body, "abcd");
}

// RFC 9112 2.2: a recipient may take a bare LF as a line terminator, as
// netcat and some embedded clients send; mixed endings are fine too.
TEST(RequestParser, BareLfLineEndingsAreAccepted) {
  for (const char* text :
       {"GET /files?x=1 HTTP/1.1\nHost: x\nX-A: b\n\n", "GET /files?x=1 HTTP/1.1\r\nHost: x\nX-A: b\r\n\n",
        "GET /files?x=1 HTTP/1.1\nHost: x\r\nX-A: b\n\r\n"}) {
    auto p = make();
    p.feed(text);
    ASSERT_EQ(advance(p), Event::kComplete) << text;
    auto r = p.take();
    EXPECT_EQ(r.path, "/files");
    EXPECT_EQ(r.raw_query, "x=1");
    ASSERT_NE(r.header("x-a"), nullptr);
    EXPECT_EQ(*r.header("x-a"), "b");
  }
}

TEST(RequestParser, BareLfHeadFedByteByByteCompletes) {
  auto p = make();
  std::string text = "POST /u HTTP/1.1\nHost: x\nContent-Length: 2\n\nokGET /v HTTP/1.1\nHost: x\n\n";
  for (char c : text) p.feed(std::string_view(&c, 1));
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_EQ(p.take().body, "ok");
  ASSERT_EQ(advance(p), Event::kComplete);
  EXPECT_EQ(p.take().path, "/v");
}

TEST(RequestParser, ABareCrInsideAHeaderIsRefused) {
  auto p = make();
  p.feed("GET / HTTP/1.1\nHost: x\nX-A: b\rc\n\n");
  EXPECT_EQ(advance(p), Event::kError);
  EXPECT_EQ(p.error_status(), 400);
}

// Singleton headers once each: the multipart parser read the last
// Content-Type while plugins read the first. HTTP/1.1 needs one Host.
TEST(RequestParser, HostAndContentTypeOnceEach) {
  struct Case {
    const char* text;
    int status;  // 0: accepted
  };
  for (auto [text, status] : {Case{"GET / HTTP/1.1\r\n\r\n", 400}, Case{"GET / HTTP/1.0\r\n\r\n", 0},
                              Case{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
                              Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Type: "
                                   "multipart/form-data; boundary=x\r\n\r\n",
                                   400},
                              Case{"GET / HTTP/1.1\r\nhOsT: a\r\nContent-Type: text/plain\r\n\r\n", 0}}) {
    auto p = make();
    p.feed(text);
    Event e = advance(p);
    if (status == 0) {
      EXPECT_EQ(e, Event::kComplete) << text;
    } else {
      ASSERT_EQ(e, Event::kError) << text;
      EXPECT_EQ(p.error_status(), status) << text;
    }
  }
  auto p = make();
  p.feed("GET / HTTP/1.1\r\n\r\n");
  advance(p);
  EXPECT_EQ(p.error_message(), "missing Host header (HTTP/1.1 requires one)");
}
