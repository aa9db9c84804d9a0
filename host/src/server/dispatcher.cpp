#include "server/dispatcher.h"

#include <array>
#include <set>

#include "host_api.h"
#include "http/text.h"
#include "http/url.h"
#include "log.h"
#include "trace/request_trace.h"

namespace dicomd {
namespace {

using Clock = std::chrono::steady_clock;

dicomd_str str(std::string_view s) {
  return {s.data(), s.size()};
}

std::vector<dicomd_kv> to_kv(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<dicomd_kv> out;
  out.reserve(pairs.size());
  for (const auto& [name, value] : pairs) out.push_back({str(name), str(value)});
  return out;
}

http::Response error(int status, std::string_view message) {
  http::Response r;
  r.json(status, http::json_error(message));
  return r;
}

http::Response internal_error(const std::string& id) {
  return error(500, "internal error (request id " + id + ")");
}

http::Response not_routed(const std::vector<std::string>& allowed_methods) {
  if (allowed_methods.empty()) return error(404, "not found");
  std::set<std::string> unique(allowed_methods.begin(), allowed_methods.end());
  std::string allow;
  for (const auto& m : unique) allow += (allow.empty() ? "" : ", ") + m;
  http::Response r = error(405, "method not allowed");
  r.header("Allow", allow);
  return r;
}

// The media type of a Content-Type value, lower-case, without parameters.
std::string media_type_of(std::string_view content_type) {
  return http::lower(http::trim(content_type.substr(0, content_type.find(';'))));
}

// 415 when the route declares the media types it accepts and the request
// names another (or none).
std::optional<http::Response> refuse_media_type(const RouteTarget& target, const http::Request& request) {
  if (target.media_types.empty()) return std::nullopt;
  const std::string* content_type = request.header("content-type");
  std::string type = content_type ? media_type_of(*content_type) : "";
  for (const auto& accepted : target.media_types)
    if (type == accepted) return std::nullopt;
  std::string list;
  for (const auto& accepted : target.media_types) list += (list.empty() ? "" : ", ") + accepted;
  return error(
      415, "unsupported Content-Type" + (type.empty() ? std::string() : " " + type) + ": this route accepts " + list);
}

}  // namespace

std::vector<std::string> parse_media_types(const char* list) {
  std::vector<std::string> out;
  if (!list) return out;
  std::string_view rest(list);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string type = media_type_of(rest.substr(0, comma));
    if (!type.empty()) out.push_back(std::move(type));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return out;
}

struct Dispatcher::Routed {
  explicit Routed(const http::Request& request)
      : trace(request.header("traceparent"),
              request.received_at == Clock::time_point{} ? start : std::min(request.received_at, start), start) {}

  const RouteTarget* target = nullptr;                          // null: no route
  std::vector<std::pair<std::string, std::string>> raw_params;  // not yet decoded
  std::vector<std::string> allowed;                             // methods of the path, when no route
  Clock::time_point start = Clock::now();
  mutable trace::RequestTrace trace;  // written by the one thread answering, then read by finish()
};

namespace {

// A span of the request's trace for as long as it lives.
class SpanScope {
 public:
  SpanScope(trace::RequestTrace& trace, std::string_view name, std::string_view plugin)
      : trace_(trace), token_(trace.begin(name, plugin)) {}
  ~SpanScope() { trace_.end(token_, status_); }
  SpanScope(const SpanScope&) = delete;
  SpanScope& operator=(const SpanScope&) = delete;
  void set_status(dicomd_status status) { status_ = status; }

 private:
  trace::RequestTrace& trace_;
  size_t token_;
  dicomd_status status_ = DICOMD_OK;
};

}  // namespace

void Dispatcher::add_route(const std::string& method, const std::string& pattern, const std::string& owner,
                           RouteTarget target) {
  target.pattern = pattern;
  target.stats = std::make_shared<metrics::RouteStats>();
  if (auto other = router_.add(method, pattern, owner, std::move(target))) {
    std::string who = *other == owner ? "declares it twice" : "conflicts with plugin '" + *other + "'";
    throw PluginError(owner, "route " + method + " " + pattern + " " + who);
  }
}

void Dispatcher::mount(const std::vector<LoadedPlugin*>& plugins, const std::vector<LoadedPlugin*>& config_order) {
  for (LoadedPlugin* p : plugins) {
    const auto* d = p->descriptor;
    for (size_t i = 0; i < d->route_count; ++i)
      add_route(d->routes[i].method, d->routes[i].pattern, p->name,
                {p, d->routes[i].handler, nullptr, (p->route_flags(i) & DICOMD_ROUTE_QUICK) != 0, "",
                 parse_media_types(p->route_media_types(i)), nullptr, p->route_doc(i)});
  }
  for (LoadedPlugin* p : config_order) {
    if (p->request_filter()) filters_.push_back(p);
    if (p->after_answer()) after_.push_back(p);
  }
}

// HEAD is answered by the GET route of the path when it has no HEAD route.
Router<RouteTarget>::Match Dispatcher::match(const http::Request& request) const {
  auto match = router_.match(request.method, request.path);
  if (!match.target && request.method == "HEAD") match = router_.match("GET", request.path);
  return match;
}

std::optional<http::Response> Dispatcher::precheck(const http::Request& head) const {
  auto match = this->match(head);
  if (!match.target) return not_routed(match.allowed);
  return refuse_media_type(*match.target, head);
}

std::vector<Dispatcher::MountedRoute> Dispatcher::routes() const {
  std::vector<MountedRoute> out;
  for (const auto& r : router_.routes()) out.push_back({r.method, r.pattern, r.owner, r.target});
  return out;
}

void Dispatcher::write_request_metrics(std::string& out) const {
  std::string counts, latency, bytes_in, bytes_out;
  for (const auto& r : router_.routes())
    r.target->stats->write(r.target->pattern, counts, latency, bytes_in, bytes_out);
  unrouted_.write("", counts, latency, bytes_in, bytes_out);
  using metrics::append_family_header;
  append_family_header(out, "dicomd_http_requests_total", "counter",
                       "Requests answered, by route pattern, method and status class.");
  out += counts;
  append_family_header(out, "dicomd_http_request_duration_seconds", "histogram",
                       "From the request read to its answer, ready to send.");
  out += latency;
  append_family_header(out, "dicomd_http_request_body_bytes_total", "counter", "Bytes of request bodies received.");
  out += bytes_in;
  append_family_header(out, "dicomd_http_response_body_bytes_total", "counter", "Bytes of response bodies sent.");
  out += bytes_out;
  append_family_header(out, "dicomd_http_requests_in_flight", "gauge", "Requests accepted and not yet answered.");
  out += "dicomd_http_requests_in_flight " + std::to_string(in_flight()) + "\n";
}

Deferred Dispatcher::accept(http::Request& request, const std::string& request_id, const Reply& reply) {
  auto in_flight = std::make_shared<InFlight>(in_flight_);
  Routed routed(request);
  auto match = this->match(request);
  routed.target = match.target;
  routed.raw_params = std::move(match.params);
  routed.allowed = std::move(match.allowed);

  // Quick routes and requests no route takes are answered on this thread,
  // unless a handler or a filter would block.
  if (!routed.target || routed.target->quick) {
    std::string subject;
    if (auto response = answer(routed, request, request_id, false, subject)) {
      finish(routed, request, request_id, reply, std::move(*response), subject, *in_flight);
      return {};
    }
  }
  return [this, routed = std::move(routed), request = std::move(request), request_id,
          in_flight = std::move(in_flight)](const Reply& reply) {
    routed.trace.add("queue", routed.start, Clock::now());  // waiting for a request thread
    std::string subject;
    auto response = answer(routed, request, request_id, true, subject);
    finish(routed, request, request_id, reply, response ? std::move(*response) : internal_error(request_id), subject,
           *in_flight);
  };
}

std::optional<http::Response> Dispatcher::answer(const Routed& routed, const http::Request& request,
                                                 const std::string& id, bool may_block, std::string& subject) const {
  log::RequestScope scope(id);
  trace::Scope trace_scope(&routed.trace);
  try {
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [name, raw] : routed.raw_params) {
      auto decoded = http::percent_decode(raw, false);
      if (!decoded) return error(400, "malformed percent-encoding in path");
      params.emplace_back(name, std::move(*decoded));
    }
    auto query = http::parse_query(request.raw_query);
    if (!query) return error(400, "malformed percent-encoding in query string");

    const RouteTarget* target = routed.target;
    dicomd_str route = target ? str(target->pattern) : dicomd_str{"", 0};  // a view: patterns live with the router
    std::vector<dicomd_kv> param_kv = to_kv(params), query_kv = to_kv(*query), header_kv = to_kv(request.headers);
    dicomd_response response;
    dicomd_request req{sizeof(dicomd_request),
                       str(request.method),
                       str(request.path),
                       param_kv.data(),
                       param_kv.size(),
                       query_kv.data(),
                       query_kv.size(),
                       header_kv.data(),
                       header_kv.size(),
                       str(request.body),
                       str(id),
                       may_block ? 1 : 0,
                       route,
                       {},
                       {}};
    std::optional<SpanScope> filter_span;
    if (!filters_.empty()) filter_span.emplace(routed.trace, "filters", "");
    for (LoadedPlugin* filter : filters_) {
      dicomd_status status = filter->request_filter()(filter->self, &req, &response);
      req.subject = str(response.subject);
      req.role = str(response.role);
      subject = response.subject;
      if (status == DICOMD_OK) continue;
      if (status == DICOMD_FILTER_ANSWERED) return std::move(response.response);
      if (status == DICOMD_E_WOULD_BLOCK && !may_block) return std::nullopt;
      filter_span->set_status(status);
      log::error(filter->name, "request " + id + ": request filter failed with status " + std::to_string(status));
      return internal_error(id);
    }
    filter_span.reset();
    if (!target) return not_routed(routed.allowed);
    if (target->builtin) {
      SpanScope handler_span(routed.trace, "handler", "");
      return target->builtin();
    }
    if (auto refusal = refuse_media_type(*target, request)) return refusal;

    SpanScope handler_span(routed.trace, "handler", target->plugin->name);
    dicomd_status status = target->handler(target->plugin->self, &req, &response);
    handler_span.set_status(status);
    if (status == DICOMD_E_WOULD_BLOCK && !may_block) return std::nullopt;
    if (status != DICOMD_OK) {
      log::error(target->plugin->name, "request " + id + " " + request.method + " " + request.path +
                                           " failed with status " + std::to_string(status));
      return internal_error(id);
    }
    return std::move(response.response);
  } catch (const std::exception& e) {
    log::error("dicomd", "request " + id + ": " + e.what());
    return internal_error(id);
  }
}

void Dispatcher::finish(const Routed& routed, const http::Request& request, const std::string& id, const Reply& reply,
                        http::Response&& response, const std::string& subject, InFlight& in_flight) const {
  log::RequestScope scope(id);
  int status = response.status;
  uint64_t bytes_out = response.body_length();
  // Counted before the reply goes out: a client that reads it and then
  // scrapes /metrics must see it.
  auto answered_at = Clock::now();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(answered_at - routed.start).count();
  const std::string& pattern = routed.target ? routed.target->pattern : std::string();
  (routed.target ? *routed.target->stats : unrouted_)
      .record(request.method, status, static_cast<uint64_t>(ns), request.body.size(), bytes_out);
  ++answered_;
  in_flight.release();
  reply(std::move(response));
  const trace::RequestTrace& trace = routed.trace;
  log::access({request.method, pattern, id, subject, status, request.body.size(), bytes_out,
               static_cast<double>(ns) / 1e6, trace.trace_id()});
  if (after_.empty()) return;
  auto end = answered_at;  // the reply was handed over just after: within a microsecond
  // The usual few spans on the stack: the hooks run for every request.
  std::array<dicomd_span, 8> few;
  std::vector<dicomd_span> many(trace.span_count() > few.size() ? trace.span_count() : 0);
  dicomd_span* spans = many.empty() ? few.data() : many.data();
  for (size_t i = 0; i < trace.span_count(); ++i) {
    const auto& s = trace.span(i);
    spans[i] = {str(s.name()),
                str(s.plugin),
                s.id,
                s.parent,
                trace.unix_ns(s.start),
                trace.unix_ns(s.open ? end : s.end),
                s.status,
                0,
                str(s.detail)};
  }
  std::vector<dicomd_log_line> lines;
  lines.reserve(trace.log_lines().size());
  for (const auto& l : trace.log_lines()) lines.push_back({l.unix_ns, l.level, 0, str(l.source), str(l.message)});
  const std::string& plugin = routed.target && routed.target->plugin ? routed.target->plugin->name : std::string();
  dicomd_request_summary summary{sizeof(dicomd_request_summary),
                                 str(request.method),
                                 str(pattern),
                                 str(id),
                                 str(subject),
                                 status,
                                 request.body.size(),
                                 bytes_out,
                                 static_cast<uint64_t>(ns),
                                 str(trace.trace_id()),
                                 trace.span_id(),
                                 trace.parent_span_id(),
                                 trace.flags(),
                                 trace.has_traceparent() ? 1 : 0,
                                 trace.unix_ns(trace.received()),
                                 trace.unix_ns(end),
                                 spans,
                                 trace.span_count(),
                                 lines.data(),
                                 lines.size(),
                                 str(plugin)};
  for (LoadedPlugin* p : after_) p->after_answer()(p->self, &summary);
}

}  // namespace dicomd
