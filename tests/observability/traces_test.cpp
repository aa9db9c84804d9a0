// traces-otlp on the real server: OTLP/HTTP JSON batches checked field by
// field, spans that nest and time correctly, W3C traceparent honoured and
// carried into worker jobs, sampling, and the trace id in the access log.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "core_server.h"
#include "dicom_files.h"
#include "http_client.h"
#include "http_receiver.h"
#include "observed_server.h"
#include "server_process.h"

namespace dicomd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kTraceId = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kParentId = "b7ad6b7169203331";

// dicomd with traces-otlp first, sending to `receiver`, then `more_plugins`.
class Server : public ObservedServer {
 public:
  Server(const HttpReceiver& receiver, const std::string& ratio, const std::string& more_plugins,
         const std::string& more_config = "")
      : ObservedServer(R"([{"name":"traces-otlp","config":{"endpoint":"http://127.0.0.1:)" +
                       std::to_string(receiver.port()) + R"(","sample_ratio":)" + ratio +
                       R"(,"flush_interval_ms":100)" + more_config + "}}," + more_plugins + "]") {}
};

struct Span {
  std::string trace_id, span_id, parent, name;
  int kind = 0;
  uint64_t start = 0, end = 0;
  std::map<std::string, std::string> attributes;  // values as text
  int status_code = 0;
  std::string status_message;
};

uint64_t nanos(const rapidjson::Value& v) {
  EXPECT_TRUE(v.IsString()) << "64-bit times are decimal strings in OTLP JSON";
  return std::stoull(v.GetString());
}

// Every span of every batch received, each batch's envelope checked.
std::vector<Span> spans_of(const HttpReceiver& receiver, bool gzip = false) {
  std::vector<Span> out;
  for (const ReceivedRequest& r : receiver.received()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("content-encoding"), gzip ? "gzip" : "");  // the receiver unpacked it
    rapidjson::Document d = parse_json(r.body);
    const auto& resource_spans = d["resourceSpans"];
    EXPECT_EQ(resource_spans.Size(), 1u);
    const auto& resource = resource_spans[0]["resource"]["attributes"];
    EXPECT_STREQ(resource[0]["key"].GetString(), "service.name");
    EXPECT_STREQ(resource[0]["value"]["stringValue"].GetString(), "dicomd");
    const auto& scope = resource_spans[0]["scopeSpans"][0];
    EXPECT_STREQ(scope["scope"]["name"].GetString(), "dicomd.traces-otlp");
    for (const auto& s : scope["spans"].GetArray()) {
      Span span;
      span.trace_id = s["traceId"].GetString();
      span.span_id = s["spanId"].GetString();
      EXPECT_EQ(span.trace_id.size(), 32u);
      EXPECT_EQ(span.span_id.size(), 16u);
      if (s.HasMember("parentSpanId")) span.parent = s["parentSpanId"].GetString();
      span.name = s["name"].GetString();
      span.kind = s["kind"].GetInt();
      span.start = nanos(s["startTimeUnixNano"]);
      span.end = nanos(s["endTimeUnixNano"]);
      if (s.HasMember("attributes"))  // the host's own spans have none
        for (const auto& a : s["attributes"].GetArray()) {
          const auto& v = a["value"];
          span.attributes[a["key"].GetString()] =
              v.HasMember("stringValue") ? v["stringValue"].GetString() : v["intValue"].GetString();
        }
      if (s.HasMember("status")) {
        span.status_code = s["status"]["code"].GetInt();
        if (s["status"].HasMember("message")) span.status_message = s["status"]["message"].GetString();
      }
      out.push_back(std::move(span));
    }
  }
  return out;
}

std::vector<Span> of_trace(const std::vector<Span>& spans, const std::string& trace_id) {
  std::vector<Span> out;
  for (const auto& s : spans)
    if (s.trace_id == trace_id) out.push_back(s);
  return out;
}

const Span* named(const std::vector<Span>& spans, const std::string& name) {
  for (const auto& s : spans)
    if (s.name == name) return &s;
  return nullptr;
}

// Waits until a span of `trace_id` named `name` arrived.
std::vector<Span> wait_for_trace(const HttpReceiver& receiver, const std::string& trace_id, const std::string& name,
                                 bool gzip = false) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto spans = of_trace(spans_of(receiver, gzip), trace_id);
    if (named(spans, name)) return spans;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "no span " << name << " of trace " << trace_id;
  return {};
}

void expect_inside(const Span& child, const Span& parent) {
  EXPECT_EQ(child.parent, parent.span_id) << child.name << " in " << parent.name;
  EXPECT_LE(parent.start, child.start) << child.name << " starts before " << parent.name;
  EXPECT_LE(child.start, child.end) << child.name;
  EXPECT_LE(child.end, parent.end) << child.name << " ends after " << parent.name;
}

TEST(TracesOtlp, ASpanTreeUnderTheCallersTraceReachesTheWorker) {
  HttpReceiver receiver;
  Server server(receiver, "0.0", R"({"name":"testkit"})");  // only the caller's "sampled" flag exports it
  std::string traceparent = std::string("00-") + kTraceId + "-" + kParentId + "-01";
  HttpReply reply = request(server.port(), "POST", "/test/isolate/traceparent", "",
                            {{"traceparent", traceparent}, {"X-Request-Id", "req-trace-1"}});
  ASSERT_EQ(reply.status, 200);
  rapidjson::Document answer = parse_json(reply.body);
  std::string seen_by_worker = answer["output"].GetString();

  auto spans = wait_for_trace(receiver, kTraceId, "POST /test/isolate/:kind");
  const Span* root = named(spans, "POST /test/isolate/:kind");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->parent, kParentId);
  EXPECT_EQ(root->kind, 2);  // SERVER
  EXPECT_EQ(root->attributes.at("http.request.method"), "POST");
  EXPECT_EQ(root->attributes.at("http.route"), "/test/isolate/:kind");
  EXPECT_EQ(root->attributes.at("http.response.status_code"), "200");
  EXPECT_EQ(root->attributes.at("dicomd.request_id"), "req-trace-1");
  EXPECT_EQ(root->status_code, 0);
  for (const char* name : {"parse", "queue", "handler", "worker.wait", "worker.run"})
    ASSERT_NE(named(spans, name), nullptr) << name;
  const Span &parse = *named(spans, "parse"), &queue = *named(spans, "queue"), &handler = *named(spans, "handler"),
             &wait = *named(spans, "worker.wait"), &run = *named(spans, "worker.run");
  for (const Span* s : {&parse, &queue, &handler}) {
    expect_inside(*s, *root);
    EXPECT_EQ(s->kind, 1);  // INTERNAL
  }
  expect_inside(wait, handler);
  expect_inside(run, handler);
  EXPECT_LE(parse.end, queue.start);
  EXPECT_LE(queue.end, handler.start);
  EXPECT_LE(wait.end, run.start);
  EXPECT_EQ(run.attributes.at("dicomd.plugin"), "testkit");
  // The worker ran under the run span of this very trace.
  EXPECT_EQ(seen_by_worker, std::string("00-") + kTraceId + "-" + run.span_id + "-01");
  // Timed like the request: the root lasts as long as the client saw, give or take.
  EXPECT_LT(root->end - root->start, 10'000'000'000ull);
  uint64_t now_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  EXPECT_LT(now_ns - root->end, 60'000'000'000ull);

  // The access log names the request and its trace (written just after
  // the reply went out: under ThreadSanitizer, it can come after the test
  // has read the reply).
  std::string access = R"("request_id":"req-trace-1","trace_id":")" + std::string(kTraceId) + "\"";
  EXPECT_TRUE(server.process().wait_for_log(access)) << server.process().log();
}

TEST(TracesOtlp, SamplingFollowsTheCallerTheRatioAndErrors) {
  HttpReceiver receiver;
  Server server(receiver, "0.0", R"({"name":"testkit"})");
  std::string unsampled_trace = "11111111111111111111111111111111";
  request(server.port(), "GET", "/test/quick", "",
          {{"traceparent", "00-" + unsampled_trace + "-" + kParentId + "-00"}});
  request(server.port(), "GET", "/test/quick", "", {{"X-Request-Id", "req-ratio-0"}});
  // Errors always: a 5xx, even where the caller did not sample.
  std::string error_trace = "22222222222222222222222222222222";
  EXPECT_EQ(
      request(server.port(), "GET", "/test/throw", "", {{"traceparent", "00-" + error_trace + "-" + kParentId + "-00"}})
          .status,
      500);
  auto spans = wait_for_trace(receiver, error_trace, "GET /test/throw");
  const Span* root = named(spans, "GET /test/throw");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->status_code, 2);  // ERROR
  EXPECT_EQ(root->attributes.at("http.response.status_code"), "500");
  std::this_thread::sleep_for(300ms);  // a batch more
  for (const Span& s : spans_of(receiver)) {
    EXPECT_NE(s.trace_id, unsampled_trace);
    if (s.name == "GET /test/quick") ADD_FAILURE() << "a request outside the sample was exported";
  }
  // An invalid traceparent starts a new trace (upper-case hex is invalid).
  std::string upper = "00-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-" + std::string(kParentId) + "-01";
  request(server.port(), "GET", "/test/throw", "", {{"traceparent", upper}, {"X-Request-Id", "req-upper"}});
  auto deadline = std::chrono::steady_clock::now() + 10s;
  const Span* fresh = nullptr;
  std::vector<Span> all;
  while (!fresh && std::chrono::steady_clock::now() < deadline) {
    all = spans_of(receiver);
    for (const auto& s : all)
      if (s.attributes.count("dicomd.request_id") && s.attributes.at("dicomd.request_id") == "req-upper") fresh = &s;
    if (!fresh) std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh->trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(fresh->parent, "");
}

TEST(TracesOtlp, StorageAndIndexWorkShowsAsSpans) {
  HttpReceiver receiver;
  Server server(receiver, "1.0",
                R"({"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
                R"({"name":"index-sqlite"},{"name":"search"})",
                R"(,"compression":"gzip")");
  auto [type, body] = multipart_body(
      {{"study", "s1"}}, {{"files", "ct.dcm", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm")}});
  std::string upload_trace = "33333333333333333333333333333333";
  HttpReply up = request(server.port(), "POST", "/upload", body,
                         {{"Content-Type", type}, {"traceparent", "00-" + upload_trace + "-" + kParentId + "-01"}});
  ASSERT_EQ(up.status, 201) << up.body;
  auto spans = wait_for_trace(receiver, upload_trace, "POST /upload", true);
  const Span* handler = named(spans, "handler");
  const Span* write = named(spans, "storage.write");
  ASSERT_TRUE(handler && write);
  expect_inside(*write, *handler);
  EXPECT_EQ(write->attributes.at("dicomd.plugin"), "storage-fs");
  const Span* validate = named(spans, "worker.run");
  ASSERT_NE(validate, nullptr);
  expect_inside(*validate, *write);  // the validator judged the file inside the write
  EXPECT_EQ(validate->attributes.at("dicomd.plugin"), "validator-gdcm");

  std::string read_trace = "44444444444444444444444444444444";
  ASSERT_EQ(request(server.port(), "GET", "/files/s1/ct.dcm", "",
                    {{"traceparent", "00-" + read_trace + "-" + kParentId + "-01"}})
                .status,
            200);
  spans = wait_for_trace(receiver, read_trace, "storage.open", true);
  ASSERT_NE(named(spans, "storage.open"), nullptr);

  std::string search_trace = "55555555555555555555555555555555";
  HttpReply found = request(server.port(), "GET", "/search?study=s1", "",
                            {{"traceparent", "00-" + search_trace + "-" + kParentId + "-01"}});
  ASSERT_EQ(found.status, 200) << found.body;
  spans = wait_for_trace(receiver, search_trace, "index.query", true);
  const Span* query = named(spans, "index.query");
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(query->attributes.at("dicomd.plugin"), "index-sqlite");
  expect_inside(*query, *named(spans, "handler"));
}

}  // namespace
}  // namespace dicomd::test
