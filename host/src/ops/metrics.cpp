#include "ops/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace dicomd::metrics {
namespace {

constexpr std::array<std::string_view, 8> kMethodNames{"GET",    "HEAD",  "POST",    "PUT",
                                                       "DELETE", "PATCH", "OPTIONS", "other"};
constexpr std::array<std::string_view, 5> kClassNames{"1xx", "2xx", "3xx", "4xx", "5xx"};

size_t method_index(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i)
    if (kMethodNames[i] == method) return i;
  return kMethodNames.size() - 1;
}

// The shortest text that reads back as `v` ("0.00025", not 0.00025000000000000001).
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  double magnitude = std::fabs(v);
  auto format =
      magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15) ? std::chars_format::fixed : std::chars_format::general;
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v, format).ptr);
}

// {route="…",method="GET",status="2xx"
void open_labels(std::string& out, std::string_view route, std::string_view method, std::string_view status_class) {
  out += "{route=";
  append_label_value(out, route);
  out += ",method=\"";
  out += method;
  out += "\",status=\"";
  out += status_class;
  out += '"';
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

void append_family_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
}

void append_label_value(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

void RouteStats::record(std::string_view method, int status, uint64_t duration_ns, uint64_t bytes_in,
                        uint64_t bytes_out) {
  size_t status_class = status >= 100 && status <= 599 ? static_cast<size_t>(status / 100 - 1) : 4;
  Cell& c = cells_[method_index(method)][status_class];
  constexpr auto relaxed = std::memory_order_relaxed;
  c.count.fetch_add(1, relaxed);
  c.sum_ns.fetch_add(duration_ns, relaxed);
  c.bytes_in.fetch_add(bytes_in, relaxed);
  c.bytes_out.fetch_add(bytes_out, relaxed);
  double seconds = static_cast<double>(duration_ns) * 1e-9;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
    if (seconds <= kLatencyBuckets[i]) {
      c.buckets[i].fetch_add(1, relaxed);
      break;
    }
}

void RouteStats::write(std::string_view route, std::string& counts, std::string& latency, std::string& bytes_in,
                       std::string& bytes_out) const {
  for (size_t m = 0; m < kMethods; ++m)
    for (size_t k = 0; k < kClasses; ++k) {
      const Cell& c = cells_[m][k];
      uint64_t count = c.count.load();
      if (count == 0) continue;
      auto series = [&](std::string& out, std::string_view name, std::string_view extra, const std::string& value) {
        out += name;
        open_labels(out, route, kMethodNames[m], kClassNames[k]);
        out += extra;
        out += "} ";
        out += value;
        out += '\n';
      };
      series(counts, "dicomd_http_requests_total", "", std::to_string(count));
      series(bytes_in, "dicomd_http_request_body_bytes_total", "", std::to_string(c.bytes_in.load()));
      series(bytes_out, "dicomd_http_response_body_bytes_total", "", std::to_string(c.bytes_out.load()));
      // Buckets are cumulative; the count is read before them, so a request
      // recorded in between can make the last bucket exceed _count by one at
      // most: +Inf is the count, written last, never below a bucket.
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        cumulative += c.buckets[i].load();
        cumulative = std::min(cumulative, count);
        series(latency, "dicomd_http_request_duration_seconds_bucket", ",le=\"" + number(kLatencyBuckets[i]) + "\"",
               std::to_string(cumulative));
      }
      series(latency, "dicomd_http_request_duration_seconds_bucket", ",le=\"+Inf\"", std::to_string(count));
      series(latency, "dicomd_http_request_duration_seconds_sum", "",
             number(static_cast<double>(c.sum_ns.load()) * 1e-9));
      series(latency, "dicomd_http_request_duration_seconds_count", "", std::to_string(count));
    }
}

double& Family::slot(std::string_view label_value) {
  if (label_.empty()) label_value = {};
  auto it = values_.find(label_value);
  if (it != values_.end()) return it->second;
  if (values_.size() >= kMaxLabelValues) label_value = "other";  // a plugin bug must not grow the page forever
  return values_.emplace(std::string(label_value), 0.0).first->second;
}

void Family::add(std::string_view label_value, double delta) {
  if (!std::isfinite(delta) || (kind_ == Kind::kCounter && delta < 0)) return;  // counters only grow
  std::lock_guard lock(mutex_);
  slot(label_value) += delta;
}

void Family::set(std::string_view label_value, double value) {
  if (!std::isfinite(value)) return;
  std::lock_guard lock(mutex_);
  double& v = slot(label_value);
  if (kind_ == Kind::kCounter && value < v) return;
  v = value;
}

void Family::write(std::string& out) const {
  append_family_header(out, name_, kind_ == Kind::kCounter ? "counter" : "gauge", help_);
  std::lock_guard lock(mutex_);
  for (const auto& [label_value, value] : values_) {
    out += name_;
    if (!label_.empty()) {
      out += '{';
      out += label_;
      out += '=';
      append_label_value(out, label_value);
      out += "}";
    }
    out += ' ';
    out += number(value);
    out += '\n';
  }
}

Family& Registry::define(std::string name, std::string help, Kind kind, std::string label) {
  if (!valid_name(name)) throw std::invalid_argument("metric name \"" + name + "\" must be [a-z_][a-z0-9_]*");
  if (!label.empty() && (!valid_name(label) || label.starts_with("__") || label == "le"))
    throw std::invalid_argument("metric " + name + ": bad label name \"" + label + "\"");
  if (kind == Kind::kCounter && !name.ends_with("_total"))
    throw std::invalid_argument("counter " + name + " must end in _total");
  for (char& c : help)
    if (c == '\n' || c == '\\') c = ' ';
  std::lock_guard lock(mutex_);
  for (const auto& f : families_)
    if (f->name() == name) throw std::invalid_argument("metric " + name + " is defined twice");
  families_.push_back(std::make_unique<Family>(std::move(name), std::move(help), kind, std::move(label)));
  return *families_.back();
}

void Registry::add_collector(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render_families() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& fn : collectors) fn();
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) f->write(out);
  return out;
}

}  // namespace dicomd::metrics
