#include "log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace dicomd::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};  // the host's one logging setting
std::mutex g_mutex;

const char* name(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarn:
      return "warn";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "?";
}

}  // namespace

void set_level(Level level) {
  g_level = static_cast<int>(level);
}
bool enabled(Level level) {
  return static_cast<int>(level) <= g_level;
}

void write(Level level, std::string_view source, std::string_view message) {
  if (!enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  // Control characters from plugin text are shown, not interpreted.
  std::string clean;
  clean.reserve(message.size());
  for (unsigned char c : message) clean += (c < 0x20 && c != '\t') ? '?' : static_cast<char>(c);
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s %s [%.*s] %s\n", stamp, name(level), static_cast<int>(source.size()), source.data(),
               clean.c_str());
}

}  // namespace dicomd::log
