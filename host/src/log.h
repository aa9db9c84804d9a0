// Logging to stderr: one line per message, "time level [source] message".
#pragma once

#include <string_view>

namespace dicomd::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view source, std::string_view message);

inline void error(std::string_view source, std::string_view m) {
  write(Level::kError, source, m);
}
inline void warn(std::string_view source, std::string_view m) {
  write(Level::kWarn, source, m);
}
inline void info(std::string_view source, std::string_view m) {
  write(Level::kInfo, source, m);
}

}  // namespace dicomd::log
