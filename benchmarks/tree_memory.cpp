// Peak memory of a process and its children, sampled every INTERVAL_MS
// until SIGTERM: the sum of their resident sets (RSS) and of their
// proportional sets (PSS: a page shared by N processes counts 1/N in each),
// both from /proc/PID/smaps_rollup. After each sample that raised a peak,
// OUT holds "PEAK_RSS_KIB PEAK_PSS_KIB" (written aside and renamed: a
// reader never sees half a line).
//   tree_memory PID OUT [INTERVAL_MS=100]
// One process instead of a shell loop: the loop it replaces forked pgrep
// and an awk per process ten times a second, and took part of the CPU of
// the very servers it measured.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <dirent.h>

namespace {

volatile std::sig_atomic_t stop = 0;

std::string read_file(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "re")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// The parent's PID from /proc/PID/stat; the command name, field 2, may hold
// spaces and parentheses, so the fields are counted after its last ')'.
long parent_of(const char* pid) {
  std::string stat = read_file(std::string("/proc/") + pid + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  long ppid = -1;
  char state;
  return std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 ? ppid : -1;
}

std::vector<long> tree_of(long root) {
  std::vector<long> pids{root};
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc))
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && parent_of(e->d_name) == root)
        pids.push_back(std::atol(e->d_name));
    ::closedir(proc);
  }
  return pids;
}

// KiB of a "Name:   N kB" line of smaps_rollup; 0 when absent.
long kib(const std::string& rollup, const char* name) {
  size_t at = rollup.find(name);
  return at == std::string::npos ? 0 : std::atol(rollup.c_str() + at + std::strlen(name));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tree_memory PID OUT [INTERVAL_MS=100]\n");
    return 2;
  }
  long root = std::atol(argv[1]);
  std::string out = argv[2], aside = out + ".new";
  long interval_ms = argc > 3 ? std::atol(argv[3]) : 100;
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });
  long peak_rss = 0, peak_pss = 0;
  bool first = true;
  while (!stop) {
    long rss = 0, pss = 0;
    for (long pid : tree_of(root)) {
      std::string rollup = read_file("/proc/" + std::to_string(pid) + "/smaps_rollup");
      rss += kib(rollup, "\nRss:");
      pss += kib(rollup, "\nPss:");
    }
    if (first || rss > peak_rss || pss > peak_pss) {
      first = false;
      peak_rss = std::max(peak_rss, rss);
      peak_pss = std::max(peak_pss, pss);
      if (FILE* f = std::fopen(aside.c_str(), "we")) {
        std::fprintf(f, "%ld %ld\n", peak_rss, peak_pss);
        std::fclose(f);
        std::rename(aside.c_str(), out.c_str());
      }
    }
    timespec pause{interval_ms / 1000, (interval_ms % 1000) * 1000000};
    ::nanosleep(&pause, nullptr);
  }
  return 0;
}
