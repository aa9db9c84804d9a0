/* dicomd plugin SDK — the plugin descriptor and its one entry point.
 *
 * A plugin is a shared library exporting exactly one function:
 *
 *   const dicomd_plugin_descriptor* dicomd_plugin_entry(void);
 *
 * returning a pointer to a const, static descriptor. The host calls it once
 * after dlopen, checks the ABI version and the declarations, and only then
 * calls the hooks. Hooks run in this order, each on the host's main thread:
 * init (providers before consumers), start, ... requests ..., stop (reverse
 * order), destroy. The library is never unloaded before the process exits.
 */
#ifndef DICOMD_PLUGIN_H
#define DICOMD_PLUGIN_H

#include "abi.h"
#include "host.h"
#include "http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A service provided or required: "dicomd.storage" major 1. Since: 1.0. */
typedef struct dicomd_service_ref {
  const char* name;
  uint32_t major;
  int32_t optional; /* requires only: 1 = start even when nobody provides it */
} dicomd_service_ref;

typedef struct dicomd_plugin_descriptor {
  uint32_t struct_size; /* sizeof(dicomd_plugin_descriptor) of the plugin's SDK */
  uint32_t abi_major;   /* DICOMD_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* DICOMD_ABI_MINOR the plugin was built with */
  const char* name;     /* "storage-fs": [a-z0-9-], matches its config entry */
  const char* version;  /* the plugin's own version, e.g. "0.1.0" */
  const char* description;

  const dicomd_service_ref* provides;
  size_t provides_count;
  const dicomd_service_ref* requires_;
  size_t requires_count;
  const dicomd_route* routes;
  size_t route_count;

  /* Creates the plugin instance from its own "config" object (JSON text,
   * "{}" when absent) and stores it in *self. Call api->provide for every
   * service in `provides` and api->acquire for those in `requires_` here.
   * A non-zero status stops the server; log the reason first. */
  dicomd_status (*init)(const dicomd_host_api* api, dicomd_host* host, dicomd_str config_json, void** self);
  /* Optional (NULL): called after every plugin is initialised. */
  dicomd_status (*start)(void* self);
  /* Optional: called after the last request has been answered. */
  void (*stop)(void* self);
  /* Frees the instance. Optional when init allocates nothing. */
  void (*destroy)(void* self);
  /* Optional: 1 when ready to serve, 0 otherwise; `detail` may describe it.
   * Called from request threads for GET /health. */
  int32_t (*ready)(void* self, dicomd_sink detail);

  /* Optional: runs an untrusted-input job inside a worker process (see
   * host.h isolate). Called in the worker, where init was NOT called: it
   * must depend only on its arguments. Output goes to `output`. */
  dicomd_status (*isolated_job)(dicomd_str kind, dicomd_str input, dicomd_sink output);

  /* Since 1.1. NULL, or one entry per route: DICOMD_ROUTE_* bits. */
  const uint32_t* route_flags;

  /* Since 1.2. Optional (NULL): a request filter, called for every request
   * after routing and before the handler, in the order the plugins appear in
   * the config. It may read the request (request->route is the matched
   * pattern, empty for none), attach an identity with api->set_identity, and
   * return DICOMD_OK to go on, or write an answer (401, 403, ...) and return
   * DICOMD_FILTER_ANSWERED. Any other status answers 500. It runs on the
   * thread of the handler: for a quick route that may be an I/O thread
   * (request->may_block == 0), where it must not block (return
   * DICOMD_E_WOULD_BLOCK to be called again on a request thread) — so a
   * filter may be called twice for one request, and must not count. */
  dicomd_status (*request_filter)(void* self, const dicomd_request* request, dicomd_response* response);
  /* Since 1.2. Optional: called once per answered request, after the reply
   * was handed to the socket, on the thread that wrote it. Must be quick
   * (count, or queue a log line): it delays the next pipelined request. */
  void (*after_answer)(void* self, const dicomd_request_summary* summary);

  /* Since 1.3. NULL, or one entry per route: NULL (any body), or the media
   * types the route accepts as a comma-separated list ("multipart/form-data",
   * "application/dicom, multipart/related"), compared case-insensitively
   * without parameters. The host answers 415 to a request with a body of
   * another type, and to one waiting for "100 Continue" before its body is
   * sent. */
  const char* const* route_media_types;

  /* Since 1.4. NULL, or one entry per route: NULL, or the route's OpenAPI
   * 3.1 Operation Object as JSON text ({"summary":…,"parameters":[…],
   * "responses":{…}}). GET /openapi.json puts it under the route's path;
   * the host adds the path parameters the operation does not declare, and
   * gives a route without one a minimal operation. */
  const char* const* route_docs;
  /* Since 1.4. Optional: checks a config object (JSON text) as init would,
   * without touching anything (no files, no connections): DICOMD_OK, or
   * DICOMD_E_INVALID with the reason written to `problem`. Called by
   * `dicomd --check-config`, where init is never called; may be called in a
   * process that will not serve. */
  dicomd_status (*check_config)(dicomd_str config_json, dicomd_sink problem);

  /* Since 1.6. Optional: isolated_job with the W3C traceparent of the
   * job's span ("00-<trace id>-<span id>-<flags>"), for a job that logs or
   * calls out under the request's trace. The worker calls it instead of
   * isolated_job when both are set. */
  dicomd_status (*isolated_job_traced)(dicomd_str kind, dicomd_str input, dicomd_str traceparent, dicomd_sink output);
} dicomd_plugin_descriptor;

/* A quick route is first called on the I/O thread that read the request,
 * which saves two thread switches per request. Its handler must then answer
 * from memory in microseconds, or return DICOMD_E_WOULD_BLOCK (see
 * dicomd_request.may_block). Since: 1.1. */
#define DICOMD_ROUTE_QUICK 1u

typedef const dicomd_plugin_descriptor* (*dicomd_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DICOMD_PLUGIN_H */
