// The host's metrics, served by GET /metrics in the Prometheus text format
// (docs/operations.md lists them). Two kinds of series:
//   - RouteStats: request counts and latency histograms of one route
//     pattern, by method and status class, in lock-free counters (they are
//     touched by every request);
//   - Registry families: counters and gauges with at most one label, which
//     the host and plugins (through the SDK's metric_* functions) define
//     and update; collectors set gauges just before a scrape.
// Labels are low-cardinality by construction: route patterns, never URLs;
// a family keeps at most kMaxLabelValues values, the rest count as "other".
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::metrics {

// Upper bounds of the latency buckets, in seconds.
inline constexpr std::array<double, 14> kLatencyBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

// Requests of one route (or of no route), by method and status class.
class RouteStats {
 public:
  void record(std::string_view method, int status, uint64_t duration_ns, uint64_t bytes_in, uint64_t bytes_out);
  // Appends this route's series of each family to `counts`, `latency`
  // and the byte totals (the caller writes the families' headers).
  void write(std::string_view route, std::string& counts, std::string& latency, std::string& bytes_in,
             std::string& bytes_out) const;

 private:
  static constexpr size_t kMethods = 8;  // GET HEAD POST PUT DELETE PATCH OPTIONS other
  static constexpr size_t kClasses = 5;  // 1xx .. 5xx
  struct Cell {
    std::atomic<uint64_t> count{0}, sum_ns{0}, bytes_in{0}, bytes_out{0};
    std::array<std::atomic<uint64_t>, kLatencyBuckets.size()> buckets{};  // not cumulative
  };
  std::array<std::array<Cell, kClasses>, kMethods> cells_;
};

enum class Kind { kCounter, kGauge };

class Family {
 public:
  Family(std::string name, std::string help, Kind kind, std::string label)
      : name_(std::move(name)), help_(std::move(help)), kind_(kind), label_(std::move(label)) {}
  void add(std::string_view label_value, double delta);
  void set(std::string_view label_value, double value);
  void write(std::string& out) const;
  const std::string& name() const { return name_; }

 private:
  double& slot(std::string_view label_value);  // under mutex_
  static constexpr size_t kMaxLabelValues = 64;
  std::string name_, help_;
  Kind kind_;
  std::string label_;  // empty: one series without labels
  mutable std::mutex mutex_;
  std::map<std::string, double, std::less<>> values_;
};

class Registry {
 public:
  // Throws std::invalid_argument on a name that is not [a-z_][a-z0-9_]*,
  // a label that is not [a-z_][a-z0-9_]*, or a name already defined.
  Family& define(std::string name, std::string help, Kind kind, std::string label = "");
  // fn runs before each scrape, on the scraping thread.
  void add_collector(std::function<void()> fn);
  // Every family, after running the collectors.
  std::string render_families() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;  // stable addresses: plugins keep pointers
  std::vector<std::function<void()>> collectors_;
};

// "# HELP name help\n# TYPE name type\n": every family starts so.
void append_family_header(std::string& out, std::string_view name, std::string_view type, std::string_view help);
// '\', '"' and newlines escaped for a label value.
void append_label_value(std::string& out, std::string_view value);
bool valid_name(std::string_view name);

}  // namespace dicomd::metrics
