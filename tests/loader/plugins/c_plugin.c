/* c-plugin: a plugin written in plain C11 against the C ABI alone (no C++
 * layer), to prove the headers are C and the ABI is usable from C. It has a
 * route, a quick route, a request filter, an after-answer hook and an event
 * subscriber:
 *   GET /c/hello/:name  {"hello":NAME,"mayBlock":0|1}  (quick)
 *   GET /c/secret       403 from the filter without an X-C-Key header;
 *                       else {"role":…,"subject":…} as the filter attached
 *   GET /c/stats        {"answered":N,"stored":N}: after-answer calls so
 *                       far, and "stored" events received */
#include <dicomd/abi_layout.h>
#include <dicomd/plugin.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct c_plugin {
  const dicomd_host_api* api;
  atomic_ulong answered;
  atomic_ulong stored;
} c_plugin;

static dicomd_str cstr(const char* s) {
  dicomd_str r = {s, strlen(s)};
  return r;
}

static int equals(dicomd_str a, const char* b) {
  return a.len == strlen(b) && memcmp(a.ptr, b, a.len) == 0;
}

static const dicomd_kv* find(const dicomd_kv* kv, size_t n, const char* name) {
  for (size_t i = 0; i < n; ++i)
    if (equals(kv[i].name, name)) return &kv[i];
  return NULL;
}

static void reply(c_plugin* p, dicomd_response* res, int status, const char* json) {
  p->api->response_status(res, status);
  p->api->response_body(res, cstr("application/json"), cstr(json));
}

static dicomd_status hello(void* self, const dicomd_request* req, dicomd_response* res) {
  c_plugin* p = self;
  const dicomd_kv* name = find(req->params, req->param_count, "name");
  char body[160];
  if (!name || name->value.len > 64) {
    reply(p, res, 400, "{\"error\":\"name is longer than 64 bytes\",\"success\":false}");
    return DICOMD_OK;
  }
  for (size_t i = 0; i < name->value.len; ++i) {
    char c = name->value.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      reply(p, res, 400, "{\"error\":\"name must be [a-z0-9]\",\"success\":false}");
      return DICOMD_OK;
    }
  }
  snprintf(body, sizeof body, "{\"hello\":\"%.*s\",\"mayBlock\":%d}", (int)name->value.len, name->value.ptr,
           (int)req->may_block);
  reply(p, res, 200, body);
  return DICOMD_OK;
}

static dicomd_status secret(void* self, const dicomd_request* req, dicomd_response* res) {
  char body[200];
  snprintf(body, sizeof body, "{\"role\":\"%.*s\",\"subject\":\"%.*s\"}", (int)req->role.len, req->role.ptr,
           (int)req->subject.len, req->subject.ptr);
  reply(self, res, 200, body);
  return DICOMD_OK;
}

static dicomd_status stats(void* self, const dicomd_request* req, dicomd_response* res) {
  c_plugin* p = self;
  char body[100];
  (void)req;
  snprintf(body, sizeof body, "{\"answered\":%lu,\"stored\":%lu}", atomic_load(&p->answered), atomic_load(&p->stored));
  reply(p, res, 200, body);
  return DICOMD_OK;
}

static dicomd_status filter(void* self, const dicomd_request* req, dicomd_response* res) {
  c_plugin* p = self;
  if (!equals(req->route, "/c/secret")) return DICOMD_OK;
  if (!find(req->headers, req->header_count, "x-c-key")) {
    reply(p, res, 403, "{\"error\":\"no key\",\"success\":false}");
    return DICOMD_FILTER_ANSWERED;
  }
  p->api->set_identity(res, cstr("c-user"), cstr("read-only"));
  return DICOMD_OK;
}

static void after_answer(void* self, const dicomd_request_summary* summary) {
  c_plugin* p = self;
  (void)summary;
  atomic_fetch_add(&p->answered, 1);
}

static dicomd_status on_stored(void* ctx, const dicomd_event* event) {
  c_plugin* p = ctx;
  (void)event;
  atomic_fetch_add(&p->stored, 1);
  return DICOMD_OK;
}

static dicomd_status init(const dicomd_host_api* api, dicomd_host* host, dicomd_str config, void** self) {
  c_plugin* p = calloc(1, sizeof *p);
  (void)config;
  if (!p) return DICOMD_E_INTERNAL;
  p->api = api;
  *self = p;
  if (!DICOMD_HAS_FIELD(api, dicomd_host_api, set_identity)) return DICOMD_E_UNSUPPORTED;
  return api->subscribe(host, "stored", on_stored, p);
}

static void destroy(void* self) {
  free(self);
}

static const dicomd_route kRoutes[] = {
    {"GET", "/c/hello/:name", hello}, {"GET", "/c/secret", secret}, {"GET", "/c/stats", stats}};
static const uint32_t kRouteFlags[] = {DICOMD_ROUTE_QUICK, 0, 0};

static const dicomd_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(dicomd_plugin_descriptor),
    .abi_major = DICOMD_ABI_MAJOR,
    .abi_minor = DICOMD_ABI_MINOR,
    .name = "c-plugin",
    .version = "1.0.0",
    .description = "a plugin in plain C",
    .routes = kRoutes,
    .route_count = sizeof kRoutes / sizeof kRoutes[0],
    .init = init,
    .destroy = destroy,
    .route_flags = kRouteFlags,
    .request_filter = filter,
    .after_answer = after_answer,
};

__attribute__((visibility("default"))) const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  return &kDescriptor;
}
