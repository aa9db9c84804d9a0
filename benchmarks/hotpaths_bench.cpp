// Hot paths of uploads and tag lookups: multipart parsing of an upload body,
// validation of a DICOM file, parsing a header into its JSON elements, and
// answering a tag lookup from a parsed (cached) header.
// Run: build/release/bin/hotpaths_bench
#include <benchmark/benchmark.h>

#include "dicom_check.h"
#include "http/multipart.h"
#include "http/request_parser.h"
#include "metadata.h"
#include "synthetic_dicom.h"

namespace {

const std::string& ct() {
  static const std::string bytes = dicomd::bench::make_dicom(512, 512, 40, 400);
  return bytes;
}
const std::string& radiograph() {
  static const std::string bytes = dicomd::bench::make_dicom(2000, 2500, 800, 2000);
  return bytes;
}
const std::string& input(int64_t which) {
  return which == 0 ? ct() : radiograph();
}
const char* label(int64_t which) {
  return which == 0 ? "CT 512x512 (525 KB)" : "radiograph 2000x2500 (10 MB)";
}

// An upload body with a study field and `files` copies of the CT.
void BM_MultipartParse(benchmark::State& state) {
  const std::string boundary = "----dicomdBenchBoundary";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"study\"\r\n\r\nS\r\n";
  for (int64_t i = 0; i < state.range(0); ++i)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f" + std::to_string(i) +
            ".dcm\"\r\nContent-Type: application/dicom\r\n\r\n" + ct() + "\r\n";
  body += "--" + boundary + "--\r\n";
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::http::parse_multipart(body, boundary));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetLabel(std::to_string(state.range(0)) + " CT files in one body");
}

void BM_Validate(benchmark::State& state) {
  const std::string& bytes = input(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::validator::check_dicom(bytes));
  state.SetLabel(label(state.range(0)));
}

void BM_HeaderParse(benchmark::State& state) {
  const std::string& bytes = input(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::metadata::parse_header(bytes));
  state.SetLabel(label(state.range(0)));
}

// The cached path of GET /tag?tag=Rows&tag=PatientName.
void BM_TagLookupCached(benchmark::State& state) {
  auto header = dicomd::metadata::parse_header(ct());
  const std::vector<std::string> specs = {"Rows", "PatientName"};
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::metadata::describe_tags(*header, specs));
}

// The uncached path before the header cache: parse, then answer.
void BM_TagLookupUncached(benchmark::State& state) {
  const std::vector<std::string> specs = {"Rows", "PatientName"};
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::metadata::describe_tags(ct(), specs));
}

void BM_AllTagsCached(benchmark::State& state) {
  auto header = dicomd::metadata::parse_header(ct());
  for (auto _ : state) benchmark::DoNotOptimize(dicomd::metadata::describe_tags(*header, {}));
}

}  // namespace

// A cached tag lookup's request head, with no credentials, or a bearer
// token of an HS256 token's size (167 bytes from dicomd token, 170 here) or
// a bit over an RS256 one's (427 with a 2048-bit key, 480 here): what parsing
// the head costs per request, and per byte of token.
void BM_RequestHeadParse(benchmark::State& state) {
  std::string head = "GET /files/ct/IM1/tag?tag=Rows&tag=PatientName HTTP/1.1\r\nHost: x\r\n";
  if (state.range(0)) head += "Authorization: Bearer " + std::string(static_cast<size_t>(state.range(0)), 'a') + "\r\n";
  head += "\r\n";
  for (auto _ : state) {
    dicomd::http::RequestParser parser(dicomd::http::ParserLimits{});
    parser.feed(head);
    while (true) {
      auto event = parser.next();
      if (event == dicomd::http::RequestParser::Event::kComplete || event == dicomd::http::RequestParser::Event::kError)
        break;
    }
    benchmark::DoNotOptimize(parser.take());
  }
}
BENCHMARK(BM_RequestHeadParse)->Arg(0)->Arg(170)->Arg(480)->Unit(benchmark::kNanosecond);

BENCHMARK(BM_MultipartParse)->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Validate)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HeaderParse)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TagLookupCached)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TagLookupUncached)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AllTagsCached)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
