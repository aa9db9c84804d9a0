// W3C traceparent parsing and the request trace's spans and log lines.
#include <gtest/gtest.h>

#include "trace/request_trace.h"

namespace dicomd::trace {
namespace {

TEST(TraceParent, ParsesValidValuesAndRefusesTheRest) {
  auto p = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(p->parent_span_id, 0xb7ad6b7169203331ull);
  EXPECT_EQ(p->flags, 1);
  // A later version may append fields.
  EXPECT_TRUE(parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra"));
  for (const char* bad : {"", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",
                          "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                          "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                          "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                          "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
                          "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333z-01"})
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  EXPECT_EQ(format_traceparent("0af7651916cd43dd8448eb211c80319c", 0xb7ad6b7169203331ull, 1),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

TEST(RequestTrace, SpansNestOnTheirThreadAndLogLinesAreKept) {
  std::string header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  auto t0 = Clock::now();
  RequestTrace trace(&header, t0, t0);
  EXPECT_EQ(trace.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_TRUE(trace.has_traceparent());
  size_t handler = trace.begin("handler", "p");
  size_t storage = trace.begin("storage.read", "s");
  trace.end(storage, DICOMD_E_IO, "could not read");
  trace.end(handler);
  ASSERT_EQ(trace.span_count(), 3u);  // parse, handler, storage.read
  EXPECT_EQ(trace.span(0).name(), "parse");
  EXPECT_EQ(trace.span(1).parent, trace.span_id());
  EXPECT_EQ(trace.span(2).parent, trace.span(1).id);
  EXPECT_EQ(trace.span(2).status, DICOMD_E_IO);
  EXPECT_EQ(trace.span(2).detail, "could not read");
  EXPECT_EQ(trace.span(2).plugin, "s");
  EXPECT_NE(trace.span(1).id, trace.span(2).id);
  // Past the inline spans, and past the limit: recorded, then refused.
  for (size_t i = trace.span_count(); i < RequestTrace::kMaxSpans; ++i)
    trace.end(trace.begin("span-with-a-name-longer-than-thirty-one-bytes", ""));
  EXPECT_EQ(trace.span_count(), RequestTrace::kMaxSpans);
  EXPECT_EQ(trace.begin("one too many", ""), 0u);
  EXPECT_EQ(trace.span(RequestTrace::kMaxSpans - 1).name(), "span-with-a-name-longer-than-th");
  EXPECT_EQ(trace.span(RequestTrace::kMaxSpans - 1).parent, trace.span_id());
  for (int i = 0; i < 40; ++i) trace.add_log_line(2, "p", "line " + std::to_string(i));
  ASSERT_EQ(trace.log_lines().size(), RequestTrace::kMaxLogLines);
  EXPECT_EQ(trace.log_lines().back().message, "line 39");  // the last ones are kept
  {
    Scope scope(&trace);
    EXPECT_EQ(current(), &trace);
  }
  EXPECT_EQ(current(), nullptr);
  RequestTrace fresh(nullptr, t0, t0);
  EXPECT_FALSE(fresh.has_traceparent());
  EXPECT_EQ(fresh.trace_id().size(), 32u);
  EXPECT_NE(fresh.trace_id(), trace.trace_id());
}

}  // namespace
}  // namespace dicomd::trace
