#include "ops/metrics_page.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "isolation/worker_pool.h"
#include "ops/metrics.h"
#include "plugins/plugin_manager.h"
#include "server/dispatcher.h"
#include "version.h"

namespace dicomd {
namespace {

void series(std::string& out, const char* name, const std::string& plugin, uint64_t value) {
  out += name;
  out += "{plugin=";
  metrics::append_label_value(out, plugin);
  out += "} " + std::to_string(value) + "\n";
}

void write_workers(std::string& out, const PluginManager& plugins) {
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*value)(WorkerPool&);
  };
  static constexpr Row kRows[] = {
      {"dicomd_worker_jobs_total", "counter", "Isolated jobs run, per plugin.", [](WorkerPool& w) { return w.jobs(); }},
      {"dicomd_worker_job_failures_total", "counter",
       "Isolated jobs that did not succeed (input refused, timeout, crash), per plugin.",
       [](WorkerPool& w) { return w.failed_jobs(); }},
      {"dicomd_worker_restarts_total", "counter", "Worker processes replaced after a crash or timeout, per plugin.",
       [](WorkerPool& w) { return static_cast<uint64_t>(w.replaced()); }},
      {"dicomd_workers_alive", "gauge", "Worker processes running, per plugin.",
       [](WorkerPool& w) { return static_cast<uint64_t>(w.alive()); }},
  };
  for (const Row& row : kRows) {
    metrics::append_family_header(out, row.name, row.type, row.help);
    for (const LoadedPlugin* p : plugins.ordered())
      if (p->workers) series(out, row.name, p->name, row.value(*p->workers));
  }
}

// Fields 14, 15 (utime, stime in ticks) and 22 (start time, ticks since
// boot) of /proc/self/stat; the name (field 2) may hold spaces: parse
// after its closing parenthesis.
void write_process(std::string& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double cpu = 0, start = 0;
  for (int i = 3; fields >> field && i <= 22; ++i) {
    if (i == 14 || i == 15) cpu += std::stod(field) / ticks;
    if (i == 22) start = std::stod(field) / ticks;
  }
  double boot = 0;
  std::ifstream stat_all("/proc/stat");
  for (std::string line; std::getline(stat_all, line);)
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  long fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) fds += e->d_name[0] != '.';
    ::closedir(d);
    --fds;  // the one opendir holds
  }
  char buf[64];
  metrics::append_family_header(out, "process_cpu_seconds_total", "counter",
                                "CPU time of the server process (not its workers).");
  std::snprintf(buf, sizeof buf, "%.2f", cpu);
  out += std::string("process_cpu_seconds_total ") + buf + "\n";
  metrics::append_family_header(out, "process_resident_memory_bytes", "gauge",
                                "Resident memory of the server process (not its workers).");
  out += "process_resident_memory_bytes " + std::to_string(resident * ::sysconf(_SC_PAGESIZE)) + "\n";
  metrics::append_family_header(out, "process_open_fds", "gauge", "Open file descriptors of the server process.");
  out += "process_open_fds " + std::to_string(fds) + "\n";
  metrics::append_family_header(out, "process_start_time_seconds", "gauge",
                                "Start of the server process, in seconds since the epoch.");
  std::snprintf(buf, sizeof buf, "%.0f", boot + start);
  out += std::string("process_start_time_seconds ") + buf + "\n";
}

}  // namespace

http::Response metrics_report(const Dispatcher& dispatcher, const PluginManager& plugins,
                              const metrics::Registry& registry) {
  std::string out;
  out.reserve(32 << 10);
  metrics::append_family_header(out, "dicomd_build_info", "gauge", "The running dicomd: 1, labelled with its version.");
  out += "dicomd_build_info{version=\"" DICOMD_VERSION "\"} 1\n";
  dispatcher.write_request_metrics(out);
  write_workers(out, plugins);
  write_process(out);
  out += registry.render_families();
  http::Response r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

}  // namespace dicomd
