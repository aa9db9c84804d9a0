// The DSN, the scrubber, the Sentry event and envelope, and OTLP's sampler
// and span JSON, without a server.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "dsn.h"
#include "json_text.h"
#include "otlp_json.h"
#include "scrub.h"
#include "sentry_event.h"

namespace {

using dicomd::sentry::parse_dsn;
using dicomd::sentry::scrub;

TEST(SentryDsn, GivesTheEnvelopeUrlAndTheAuthHeader) {
  auto d = parse_dsn("https://abc123@o1.ingest.sentry.io/42");
  EXPECT_EQ(d.envelope_url(), "https://o1.ingest.sentry.io/api/42/envelope/");
  EXPECT_EQ(d.auth_header("c/1"), "Sentry sentry_version=7, sentry_client=c/1, sentry_key=abc123");
  auto self_hosted = parse_dsn("http://key:legacy@sentry.example:9000/sentry/7/");
  EXPECT_EQ(self_hosted.envelope_url(), "http://sentry.example:9000/sentry/api/7/envelope/");
  EXPECT_EQ(self_hosted.public_text(), "http://key@sentry.example:9000/sentry/7");
  EXPECT_NE(self_hosted.auth_header("c").find("sentry_secret=legacy"), std::string::npos);
}

TEST(SentryDsn, RefusesWhatIsNotADsn) {
  for (const char* bad : {"", "sentry.io/42", "ftp://k@h/1", "https://h/1", "https://k@h", "https://k@h/abc",
                          "https://k@/1", "https://k\r\nX: y@h/1", "https://k@h h/1"})
    EXPECT_THROW(parse_dsn(bad), dicomd::sentry::DsnError) << bad;
}

TEST(SentryScrub, RemovesTokensSecretsAndPaths) {
  EXPECT_EQ(scrub("Authorization: Bearer abc.def-ghi rest"), "Authorization: [scrubbed] rest");
  EXPECT_EQ(scrub("got Bearer abc.def-ghi"), "got Bearer [token]");
  EXPECT_EQ(scrub("jwt eyJhbGciOi.eyJzdWIi.sig here"), "jwt [token] here");
  EXPECT_EQ(scrub("password=hunter2&x=1"), "password=[scrubbed]&x=1");
  EXPECT_EQ(scrub("Cookie: dicomd_token=abc; theme=dark"), "Cookie: [scrubbed]; theme=dark");
  EXPECT_EQ(scrub("?access_token=abc"), "?access_token=[scrubbed]");
  EXPECT_EQ(scrub("cannot open /var/lib/dicomd/studies/a/b.dcm: gone"), "cannot open [path]: gone");
  EXPECT_EQ(scrub("file:/tmp/x/y"), "file:[path]");
  // Kept: a route, a ratio, words that merely contain a secret's name.
  EXPECT_EQ(scrub("GET /files 1/2 tokens=3"), "GET /files 1/2 tokens=3");
  EXPECT_EQ(scrub("eyJonly"), "eyJonly");
}

TEST(SentryEvent, IsAValidEventInAnEnvelopeWithItsLength) {
  dicomd::sentry::Event e;
  e.event_id = dicomd::exporter::random_hex32();
  e.timestamp = 1765000000.25;
  e.level = "error";
  e.release = "dicomd@0.1.0";
  e.environment = "production";
  e.message = "GET /x answered 500 \"quoted\"\n";
  e.exception_type = "WorkerCrash";
  e.exception_value = "killed by Aborted in /opt/secret/place";
  e.tags = {{"route", "/x"}, {"status", "500"}};
  e.breadcrumbs = {{1765000000.0, "warning", "testkit", "token=abc"}};
  e.trace_id = "0af7651916cd43dd8448eb211c80319c";
  e.span_id = "b7ad6b7169203331";
  e.request_method = "GET";
  std::string json = dicomd::sentry::event_json(e);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  EXPECT_EQ(std::string(d["event_id"].GetString()).size(), 32u);
  EXPECT_DOUBLE_EQ(d["timestamp"].GetDouble(), 1765000000.25);
  EXPECT_STREQ(d["message"]["formatted"].GetString(), "GET /x answered 500 \"quoted\"\n");
  EXPECT_STREQ(d["exception"]["values"][0]["value"].GetString(), "killed by Aborted in [path]");
  EXPECT_STREQ(d["breadcrumbs"]["values"][0]["message"].GetString(), "token=[scrubbed]");
  EXPECT_STREQ(d["contexts"]["trace"]["trace_id"].GetString(), e.trace_id.c_str());
  EXPECT_STREQ(d["tags"]["status"].GetString(), "500");

  std::string env = dicomd::sentry::envelope(parse_dsn("https://k@h/1"), e.event_id, json, 1765000000.5);
  size_t first = env.find('\n'), second = env.find('\n', first + 1);
  rapidjson::Document header, item;
  header.Parse(env.substr(0, first).c_str());
  item.Parse(env.substr(first + 1, second - first - 1).c_str());
  EXPECT_STREQ(header["sent_at"].GetString(), "2025-12-06T05:46:40.500000Z");
  EXPECT_STREQ(header["dsn"].GetString(), "https://k@h/1");
  EXPECT_EQ(item["length"].GetUint64(), json.size());
  EXPECT_EQ(env.substr(second + 1), json + "\n");
}

TEST(JsonText, InvalidUtf8BecomesAReplacementCharacter) {
  std::string out;
  dicomd::exporter::append_json_string(out, std::string("a\xff\xc3\xa9\x01", 5));
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\xC3\xA9\\u0001\"");
}

dicomd_request_summary summary(const std::string& trace_id, int status, int has_parent, uint32_t flags) {
  static std::string keep;
  keep = trace_id;
  dicomd_request_summary s{};
  s.struct_size = sizeof s;
  s.trace_id = {keep.data(), keep.size()};
  s.status = status;
  s.has_traceparent = has_parent;
  s.trace_flags = flags;
  return s;
}

TEST(OtlpSampler, TheRatioDecidesOnTheTraceIdAndTheCallerOverrules) {
  dicomd::otlp::Sampler tenth{0.1, true};
  int sampled = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string id = dicomd::exporter::random_hex32();
    sampled += tenth.sampled(summary(id, 200, 0, 0));
  }
  EXPECT_NEAR(sampled, 1000, 150);
  std::string low = "ffffffffffffffff0000000000000001", high = "0000000000000000ffffffffffffff00";
  EXPECT_TRUE(tenth.sampled(summary(low, 200, 0, 0)));
  EXPECT_FALSE(tenth.sampled(summary(high, 200, 0, 0)));
  EXPECT_TRUE(tenth.sampled(summary(high, 200, 1, 1)));  // the caller sampled it
  EXPECT_FALSE(tenth.sampled(summary(low, 200, 1, 0)));  // the caller did not
  EXPECT_TRUE(tenth.sampled(summary(high, 503, 1, 0)));  // errors always
  dicomd::otlp::Sampler no_errors{0.0, false};
  EXPECT_FALSE(no_errors.sampled(summary(low, 500, 0, 0)));
}

}  // namespace
