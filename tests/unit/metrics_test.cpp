#include <gtest/gtest.h>

#include <stdexcept>

#include "log.h"
#include "ops/metrics.h"
#include "ops/openapi.h"

using dicomd::metrics::Kind;
using dicomd::metrics::Registry;
using dicomd::metrics::RouteStats;

TEST(Metrics, HistogramBucketsAreCumulativeAndEndWithTheCount) {
  RouteStats stats;
  stats.record("GET", 200, 50'000, 0, 10);         // 50 µs
  stats.record("GET", 200, 2'000'000, 0, 10);      // 2 ms
  stats.record("GET", 200, 9'000'000'000, 0, 10);  // 9 s: past every bound
  stats.record("BREW", 418, 1'000, 5, 0);          // an unknown method counts as "other"
  std::string counts, latency, in, out;
  stats.write("/x", counts, latency, in, out);
  EXPECT_NE(counts.find(R"(dicomd_http_requests_total{route="/x",method="GET",status="2xx"} 3)"), std::string::npos);
  EXPECT_NE(counts.find(R"({route="/x",method="other",status="4xx"} 1)"), std::string::npos);
  EXPECT_NE(latency.find(R"(status="2xx",le="0.0001"} 1)"), std::string::npos) << latency;
  EXPECT_NE(latency.find(R"(status="2xx",le="0.0025"} 2)"), std::string::npos) << latency;
  EXPECT_NE(latency.find(R"(status="2xx",le="2.5"} 2)"), std::string::npos) << latency;
  EXPECT_NE(latency.find(R"(status="2xx",le="+Inf"} 3)"), std::string::npos) << latency;
  EXPECT_NE(out.find(R"(status="2xx"} 30)"), std::string::npos);
  EXPECT_NE(in.find(R"(status="4xx"} 5)"), std::string::npos);
}

TEST(Metrics, FamiliesRefuseBadNamesAndKeepLabelsFew) {
  Registry registry;
  EXPECT_THROW(registry.define("Bad-Name", "", Kind::kGauge), std::invalid_argument);
  EXPECT_THROW(registry.define("dicomd_x", "", Kind::kCounter), std::invalid_argument);  // no _total
  EXPECT_THROW(registry.define("dicomd_y", "", Kind::kGauge, "le"), std::invalid_argument);
  auto& counter = registry.define("dicomd_things_total", "Things.\nSecond line", Kind::kCounter, "kind");
  EXPECT_THROW(registry.define("dicomd_things_total", "", Kind::kCounter), std::invalid_argument);
  counter.add("a", 2);
  counter.add("a", -5);  // counters only grow
  counter.set("a", 1);   // nor go back
  for (int i = 0; i < 200; ++i) counter.add(std::string("v").append(std::to_string(i)), 1);
  counter.add("quote\"d", 1);
  std::string page = registry.render_families();
  EXPECT_NE(page.find("# HELP dicomd_things_total Things. Second line\n"), std::string::npos);
  EXPECT_NE(page.find("dicomd_things_total{kind=\"a\"} 2\n"), std::string::npos) << page;
  EXPECT_NE(page.find("dicomd_things_total{kind=\"other\"} 138\n"), std::string::npos) << page;
  EXPECT_EQ(page.find("v199"), std::string::npos);
}

TEST(Metrics, CollectorsRunBeforeEachScrape) {
  Registry registry;
  auto& gauge = registry.define("dicomd_rows", "Rows.", Kind::kGauge);
  int scrapes = 0;
  registry.add_collector([&] { gauge.set({}, ++scrapes * 10); });
  EXPECT_NE(registry.render_families().find("dicomd_rows 10\n"), std::string::npos);
  EXPECT_NE(registry.render_families().find("dicomd_rows 20\n"), std::string::npos);
}

TEST(OpenApiPath, ParametersBecomeTemplates) {
  EXPECT_EQ(dicomd::openapi_path("/files/:study/:file/png"), "/files/{study}/{file}/png");
  EXPECT_EQ(dicomd::openapi_path("/"), "/");
  EXPECT_EQ(dicomd::openapi_path("/search"), "/search");
}

TEST(LogJson, StringsAreEscapedAndAlwaysUtf8) {
  std::string out;
  dicomd::log::append_json_string(out, "a\"b\\c\n\x01 é \xff\xfe z");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000a\\u0001 é \\ufffd\\ufffd z\"");
  out.clear();
  dicomd::log::append_json_string(out, "\xed\xa0\x80");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(out, "\"\\ufffd\\ufffd\\ufffd\"");
}
