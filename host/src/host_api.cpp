#include "host_api.h"

#include "trace/request_trace.h"

#include <sys/stat.h>

#include <memory>
#include <string_view>

#include "events/event_bus.h"
#include "http/multipart.h"
#include "isolation/worker_pool.h"
#include "log.h"
#include "ops/metrics.h"
#include "plugins/loaded_plugin.h"

namespace dicomd {
namespace {

std::string_view view(dicomd_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

bool declared(const dicomd_service_ref* refs, size_t n, const char* service, uint32_t major) {
  for (size_t i = 0; i < n; ++i)
    if (std::string_view(refs[i].name) == service && refs[i].major == major) return true;
  return false;
}

void api_log(dicomd_host* h, int32_t level, dicomd_str message) {
  if (level < 0 || level > 3) level = DICOMD_LOG_INFO;
  log::write(static_cast<log::Level>(level), h->plugin->name, view(message));
}

int32_t api_log_enabled(dicomd_host*, int32_t level) {
  return log::enabled(static_cast<log::Level>(level)) ? 1 : 0;
}

dicomd_status api_provide(dicomd_host* h, const char* service, uint32_t major, const void* vtable) {
  const auto* d = h->plugin->descriptor;
  if (!h->in_init || !service || !vtable || !declared(d->provides, d->provides_count, service, major)) {
    log::error(h->plugin->name, std::string("provide(") + (service ? service : "?") +
                                    ") refused: only during init, for a service declared in provides");
    return DICOMD_E_INVALID;
  }
  h->plugin->provided[service_key(service, major)] = vtable;
  return DICOMD_OK;
}

const void* api_acquire(dicomd_host* h, const char* service, uint32_t major) {
  const auto* d = h->plugin->descriptor;
  if (!h->in_init || !service || !declared(d->requires_, d->requires_count, service, major)) {
    log::error(h->plugin->name, std::string("acquire(") + (service ? service : "?") +
                                    ") refused: only during init, for a service declared in requires");
    return nullptr;
  }
  auto key = service_key(service, major);
  auto it = h->plugin->bound.find(key);
  if (it == h->plugin->bound.end()) return nullptr;  // optional and absent
  auto p = it->second->provided.find(key);
  return p == it->second->provided.end() ? nullptr : p->second;
}

const char* api_data_dir(dicomd_host* h) {
  return h->context->data_dir.c_str();
}
uint64_t api_max_body_bytes(dicomd_host* h) {
  return h->context->max_body_bytes;
}

void api_response_status(dicomd_response* r, int32_t status) {
  r->response.status = (status >= 100 && status <= 599) ? status : 500;
}

void api_response_header(dicomd_response* r, dicomd_str name, dicomd_str value) {
  std::string_view n = view(name), v = view(value);
  if (!http::is_safe_header(n, v)) return;  // never let a plugin split the response head
  r->response.header(std::string(n), std::string(v));
}

void api_response_body(dicomd_response* r, dicomd_str content_type, dicomd_str body) {
  std::string_view ct = view(content_type);
  r->response.content_type = http::is_safe_header("Content-Type", ct) ? std::string(ct) : "application/octet-stream";
  r->response.body.assign(view(body));
  r->response.file.reset();
}

dicomd_status api_response_file(dicomd_response* r, dicomd_str content_type, int32_t fd, uint64_t offset,
                                uint64_t length) {
  auto file = std::make_shared<const http::FileBody>(fd, offset, length);  // owns fd from here on
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || offset > static_cast<uint64_t>(st.st_size) ||
      length > static_cast<uint64_t>(st.st_size) - offset)
    return DICOMD_E_INVALID;
  std::string_view ct = view(content_type);
  r->response.content_type = http::is_safe_header("Content-Type", ct) ? std::string(ct) : "application/octet-stream";
  r->response.body.clear();
  r->response.file = std::move(file);
  return DICOMD_OK;
}

dicomd_status api_parse_multipart(dicomd_host*, const dicomd_request* req, dicomd_part_fn on_part, void* ctx) {
  std::string_view content_type;
  for (size_t i = 0; i < req->header_count; ++i)
    if (view(req->headers[i].name) == "content-type") content_type = view(req->headers[i].value);
  auto boundary = http::multipart_boundary(content_type);
  if (!boundary) return DICOMD_E_INVALID;
  bool too_many = false;
  auto parts = http::parse_multipart(view(req->body), *boundary, &too_many);
  if (!parts) return too_many ? DICOMD_E_TOO_LARGE : DICOMD_E_INVALID;
  for (const auto& p : *parts) {
    dicomd_form_part part{{p.name.data(), p.name.size()},
                          {p.has_filename ? p.filename.data() : nullptr, p.filename.size()},
                          {p.content_type.data(), p.content_type.size()},
                          {p.data.data(), p.data.size()}};
    if (on_part(ctx, &part) != 0) break;
  }
  return DICOMD_OK;
}

dicomd_status api_isolate(dicomd_host* h, dicomd_str kind, dicomd_str input, uint32_t timeout_ms, dicomd_sink output) {
  if (!h->plugin->workers) return DICOMD_E_UNAVAILABLE;
  return h->plugin->workers->run(view(kind), view(input), timeout_ms, output);
}

dicomd_status api_publish(dicomd_host* h, dicomd_str topic, dicomd_str key, dicomd_str payload) {
  if (!h->context->events) return DICOMD_E_UNAVAILABLE;
  return h->context->events->publish(view(topic), view(key), view(payload));
}

dicomd_status api_subscribe(dicomd_host* h, const char* topic, dicomd_event_fn fn, void* ctx) {
  if (!h->in_init || !topic || !*topic || !fn || !h->context->events) {
    log::error(h->plugin->name, "subscribe refused: only during init, with a topic and a function");
    return DICOMD_E_INVALID;
  }
  h->context->events->subscribe(topic, h->plugin->name, [fn, ctx](const dicomd_event& e) { return fn(ctx, &e); });
  return DICOMD_OK;
}

dicomd_status api_events_flush(dicomd_host* h, uint32_t timeout_ms) {
  if (!h->context->events) return DICOMD_E_UNAVAILABLE;
  return h->context->events->flush(std::chrono::milliseconds(timeout_ms)) ? DICOMD_OK : DICOMD_E_TIMEOUT;
}

void api_set_identity(dicomd_response* r, dicomd_str subject, dicomd_str role) {
  r->subject.assign(view(subject));
  r->role.assign(view(role));
}

metrics::Family* family_of(dicomd_metric* m) {
  return reinterpret_cast<metrics::Family*>(m);
}

dicomd_metric* api_metric_define(dicomd_host* h, const char* name, const char* help, int32_t kind, const char* label) {
  const std::string& plugin = h->plugin->name;
  if (!h->in_init || !name || !h->context->metrics || (kind != DICOMD_METRIC_COUNTER && kind != DICOMD_METRIC_GAUGE)) {
    log::error(plugin, std::string("metric_define(") + (name ? name : "?") +
                           ") refused: only during init, with a name and a kind (counter or gauge)");
    return nullptr;
  }
  try {
    auto& family = h->context->metrics->define(
        name, help ? help : "", kind == DICOMD_METRIC_COUNTER ? metrics::Kind::kCounter : metrics::Kind::kGauge,
        label ? label : "");
    return reinterpret_cast<dicomd_metric*>(&family);
  } catch (const std::invalid_argument& e) {
    log::error(plugin, std::string("metric_define refused: ") + e.what());
    return nullptr;
  }
}

void api_metric_add(dicomd_metric* m, dicomd_str label_value, double delta) {
  if (m) family_of(m)->add(view(label_value), delta);
}

void api_metric_set(dicomd_metric* m, dicomd_str label_value, double value) {
  if (m) family_of(m)->set(view(label_value), value);
}

dicomd_status api_metric_collector(dicomd_host* h, void (*fn)(void*), void* ctx) {
  if (!h->in_init || !fn || !h->context->metrics) {
    log::error(h->plugin->name, "metric_collector refused: only during init, with a function");
    return DICOMD_E_INVALID;
  }
  h->context->metrics->add_collector([fn, ctx] { fn(ctx); });
  return DICOMD_OK;
}

dicomd_status api_isolate_file(dicomd_host* h, dicomd_str kind, dicomd_str head, int32_t fd, uint64_t offset,
                               uint64_t length, uint32_t timeout_ms, dicomd_sink output) {
  if (!h->plugin->workers) return DICOMD_E_UNAVAILABLE;
  return h->plugin->workers->run_file(view(kind), view(head), fd, offset, length, timeout_ms, output);
}

uint64_t api_span_begin(dicomd_host* h, dicomd_str name) {
  trace::RequestTrace* t = trace::current();
  return t ? t->begin(view(name), h->plugin->name) : 0;
}

void api_span_end(dicomd_host* h, uint64_t token, dicomd_status status, dicomd_str detail) {
  if (trace::RequestTrace* t = trace::current(); t && token != 0) {
    t->end(token, status, view(detail));
    return;
  }
  if (token == 0 && dicomd_is_server_failure(status))
    trace::report_outside_request(h->plugin->name, status, "span", view(detail));
}

constexpr dicomd_host_api kTable = {
    sizeof(dicomd_host_api), DICOMD_ABI_MAJOR,    DICOMD_ABI_MINOR,     api_log,
    api_log_enabled,         api_provide,         api_acquire,          api_data_dir,
    api_max_body_bytes,      api_response_status, api_response_header,  api_response_body,
    api_parse_multipart,     api_isolate,         api_publish,          api_subscribe,
    api_events_flush,        api_set_identity,    api_response_file,    api_metric_define,
    api_metric_add,          api_metric_set,      api_metric_collector, api_isolate_file,
    api_span_begin,          api_span_end,
};

}  // namespace

const dicomd_host_api* host_api_table() {
  return &kTable;
}

}  // namespace dicomd
