// Route table: "METHOD /literal/:param" patterns mapped to targets.
// A literal segment wins over a parameter; a path that matches only with
// another method gives the allowed methods (405 with Allow).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomd {

template <class Target>
class Router {
 public:
  struct Match {
    const Target* target = nullptr;                           // null: no route
    std::vector<std::pair<std::string, std::string>> params;  // raw (not decoded)
    std::vector<std::string> allowed;                         // when target is null
  };

  // Adds a route; returns the owner of an existing route with the same
  // method and shape (":a" and ":b" in one place are the same shape).
  std::optional<std::string> add(std::string method, std::string_view pattern, std::string owner, Target target) {
    Route route{std::move(method), split<std::string>(pattern), std::move(owner), std::move(target)};
    for (const Route& r : routes_)
      if (r.method == route.method && same_shape(r.segments, route.segments)) return r.owner;
    routes_.push_back(std::move(route));
    return std::nullopt;
  }

  Match match(std::string_view method, std::string_view path) const {
    Match best;
    int best_score = -1;
    std::vector<std::string_view> parts = split(path);
    for (const Route& r : routes_) {
      int score = this->score(r.segments, parts);
      if (score < 0) continue;
      if (r.method != method) {
        best.allowed.push_back(r.method);
        continue;
      }
      if (score > best_score) {
        best_score = score;
        best.target = &r.target;
        best.params.clear();
        for (size_t i = 0; i < parts.size(); ++i)
          if (r.segments[i].starts_with(':'))
            best.params.emplace_back(std::string(r.segments[i].substr(1)), std::string(parts[i]));
      }
    }
    if (best.target) best.allowed.clear();
    return best;
  }

  struct RouteInfo {
    std::string method, pattern, owner;
    const Target* target;
  };
  std::vector<RouteInfo> routes() const {
    std::vector<RouteInfo> out;
    for (const Route& r : routes_) {
      std::string pattern;
      for (const auto& s : r.segments) pattern += "/" + s;
      out.push_back({r.method, pattern.empty() ? "/" : pattern, r.owner, &r.target});
    }
    return out;
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    std::string owner;
    Target target;
  };

  template <class S = std::string_view>
  static std::vector<S> split(std::string_view path) {
    std::vector<S> out;
    out.reserve(8);
    size_t pos = 0;
    while (pos < path.size()) {
      if (path[pos] == '/') {
        ++pos;
        continue;
      }
      size_t end = path.find('/', pos);
      if (end == std::string_view::npos) end = path.size();
      out.emplace_back(path.substr(pos, end - pos));
      pos = end;
    }
    return out;
  }

  static bool same_shape(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      bool pa = a[i].starts_with(':'), pb = b[i].starts_with(':');
      if (pa != pb || (!pa && a[i] != b[i])) return false;
    }
    return true;
  }

  // -1 when no match; otherwise higher for literals earlier in the path.
  static int score(const std::vector<std::string>& segments, const std::vector<std::string_view>& parts) {
    if (segments.size() != parts.size()) return -1;
    int score = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      score <<= 1;
      if (segments[i].starts_with(':')) {
        if (parts[i].empty()) return -1;
      } else if (segments[i] == parts[i]) {
        score |= 1;
      } else {
        return -1;
      }
    }
    return score;
  }

  std::vector<Route> routes_;
};

}  // namespace dicomd
