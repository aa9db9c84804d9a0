// The index's own costs, without HTTP or parsing: one instance upserted
// (with its series and study rows brought up to date), the slices of one
// large series, and one study-level search,
// on SQLite in a temporary folder.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "index_store.h"
#include "search_query.h"
#include "sqlite_database.h"

namespace {

using namespace dicomd::index;

std::string attrs(int i) {
  int study = i / 20, series = (i % 20) % (1 + study % 3);
  std::string st = std::to_string(study), se = st + "." + std::to_string(series);
  std::string out = R"({"PatientID":"P)";
  out += std::to_string(10000 + study / 5);
  out += R"(","PatientName":"Müller^Anna","StudyInstanceUID":"1.2.)";
  out += st;
  out += R"(","StudyDate":"20200101","AccessionNumber":"A)";
  out += st;
  out += R"(","SeriesInstanceUID":"1.2.)";
  out += se;
  out += R"(","Modality":"CT","SeriesNumber":1,"SOPInstanceUID":"1.2.)";
  out += se + "." + std::to_string(i);
  out += R"(","InstanceNumber":)";
  out += std::to_string(i % 20);
  return out + "}";
}

struct Fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / std::to_string(::getpid()) / "index-bench";
  SqliteDatabase db;
  IndexStore store;
  Fixture() : db((std::filesystem::create_directories(dir), dir / "i.sqlite3"), [](const std::string&) {}), store(db) {
    store.create_schema();
  }
  ~Fixture() { std::filesystem::remove_all(dir.parent_path()); }
};

void BM_UpsertOneInstance(benchmark::State& state) {
  Fixture f;
  int i = 0;
  for (auto _ : state) {
    f.store.upsert({"s", std::to_string(i), "h", attrs(i)});
    ++i;
  }
}
BENCHMARK(BM_UpsertOneInstance)->Unit(benchmark::kMicrosecond);

// The slices of one CT series, uploaded one after the other: the cost of
// the Nth slice's upsert, with N-1 already in its series and study.
void BM_UpsertIntoOneSeries(benchmark::State& state) {
  Fixture f;
  const int64_t before = state.range(0);
  auto slice = [](int64_t i) {
    return R"({"PatientID":"P1","PatientName":"Müller^Anna","StudyInstanceUID":"1.2.3","StudyDate":"20200101",)"
           R"("SeriesInstanceUID":"1.2.3.4","Modality":"CT","SeriesNumber":1,"SOPInstanceUID":"1.2.3.4.)" +
           std::to_string(i) + R"(","InstanceNumber":)" + std::to_string(i) + "}";
  };
  std::vector<InstanceRecord> batch;
  for (int64_t i = 0; i < before; ++i) batch.push_back({"ct", std::to_string(i), "h", slice(i)});
  f.store.upsert_batch(batch);
  int64_t i = before;
  for (auto _ : state) {
    f.store.upsert({"ct", std::to_string(i), "h", slice(i)});
    ++i;
  }
}
BENCHMARK(BM_UpsertIntoOneSeries)->Arg(10)->Arg(600)->Arg(5000)->Unit(benchmark::kMicrosecond);

void BM_StudySearchByPatientId(benchmark::State& state) {
  Fixture f;
  std::vector<InstanceRecord> batch;
  for (int i = 0; i < 10000; ++i) batch.push_back({"s", std::to_string(i), "h", attrs(i)});
  f.store.upsert_batch(batch);
  auto query = parse_search_query(R"({"level":"study","limit":50,"filters":{"PatientID":"P10042"}})");
  for (auto _ : state) benchmark::DoNotOptimize(f.store.search(query));
}
BENCHMARK(BM_StudySearchByPatientId)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
