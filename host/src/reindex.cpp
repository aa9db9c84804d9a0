#include "reindex.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <dicomd/services/index_v1.h>

#include "app.h"

namespace dicomd {
namespace {

using Clock = std::chrono::steady_clock;

// A bar redrawn in place on a terminal; on a pipe or file, a line per 10 %.
struct Progress {
  Clock::time_point start = Clock::now();
  bool terminal = ::isatty(STDERR_FILENO) != 0;
  int last_tenth = -1;
  bool finished = false;

  static void on_progress(void* ctx, uint64_t done, uint64_t total) { static_cast<Progress*>(ctx)->show(done, total); }
  void show(uint64_t done, uint64_t total) {
    double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    int tenth = static_cast<int>(fraction * 10);
    if (finished || (!terminal && tenth == last_tenth && done != total)) return;
    last_tenth = tenth;
    finished = done == total;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "%sreindex [%s] %llu/%llu files %3.0f%% %.0f files/s%s", terminal ? "\r" : "", bar.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), fraction * 100, rate,
                 terminal ? "" : "\n");
  }
};

}  // namespace

int reindex(const Config& config, const std::string& self_exe) {
  App app(config, self_exe);
  app.start_plugins();
  const auto* index = static_cast<const dicomd_index_v1*>(app.find_service(DICOMD_INDEX_SERVICE, 1));
  if (!index) throw std::runtime_error("no plugin provides dicomd.index (enable index-sqlite or index-postgres)");
  Progress progress;
  dicomd_status status = index->reconcile(index->self, 1, &Progress::on_progress, &progress);
  if (progress.terminal) std::fputc('\n', stderr);
  if (status != DICOMD_OK) {
    std::fprintf(stderr, "dicomd: reindex failed (status %d); see the log above\n", status);
    return 1;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - progress.start).count();
  std::fprintf(stderr, "reindex: %llu files indexed in %.1f s\n",
               static_cast<unsigned long long>(index->count(index->self)), seconds);
  app.shutdown();
  return 0;
}

}  // namespace dicomd
