/* dicomd plugin SDK — the functions the host offers a plugin.
 *
 * The host hands each plugin a pointer to one const dicomd_host_api (shared by
 * all plugins, valid until the process exits) and an opaque dicomd_host
 * handle naming that plugin. Every function takes the handle first.
 * The table only ever grows at its end: check struct_size (or
 * DICOMD_HOST_HAS(api, field)) before calling a function added after 1.0.
 */
#ifndef DICOMD_HOST_H
#define DICOMD_HOST_H

#include "abi.h"
#include "http.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dicomd_host dicomd_host;

/* Callback for each multipart part; return non-zero to stop early. */
typedef int32_t (*dicomd_part_fn)(void* ctx, const dicomd_form_part* part);

/* One event as a subscriber receives it. Views are valid during the call.
 * Since: 1.2.
 *   topic    — "stored", "removed", or a plugin's own ("jobs.done")
 *   key      — what the event is about ("study/file"); events of one key
 *              reach each subscriber in the order they were published
 *   payload  — a JSON object (see docs/plugin-sdk.md for the core topics)
 *   sequence — grows by one per event published in this process */
typedef struct dicomd_event {
  uint32_t struct_size;
  dicomd_str topic;
  dicomd_str key;
  dicomd_str payload;
  uint64_t sequence;
  uint32_t attempt; /* 1 for the first delivery, 2.. for redeliveries */
} dicomd_event;

/* A subscriber: DICOMD_OK when applied. Any other status asks for a
 * redelivery later (with backoff, a bounded number of times); a subscriber
 * must therefore be idempotent. Called on the host's event thread for this
 * subscription, never on a request thread. Since: 1.2. */
typedef dicomd_status (*dicomd_event_fn)(void* ctx, const dicomd_event* event);

/* A metric a plugin defined (metric_define); opaque. Since: 1.4. */
typedef struct dicomd_metric dicomd_metric;
enum { DICOMD_METRIC_COUNTER = 0, DICOMD_METRIC_GAUGE = 1 };

typedef struct dicomd_host_api {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's DICOMD_ABI_MAJOR */
  uint32_t abi_minor; /* the host's DICOMD_ABI_MINOR */

  /* --- logging. Any thread. Since: 1.0. --------------------------------- */
  void (*log)(dicomd_host* host, int32_t level, dicomd_str message);
  int32_t (*log_enabled)(dicomd_host* host, int32_t level);

  /* --- services. Only from init. Since: 1.0. ---------------------------- */
  /* Publish a service vtable this plugin declared in `provides`. The vtable
   * must stay valid until the plugin's destroy hook returns. */
  dicomd_status (*provide)(dicomd_host* host, const char* service, uint32_t major, const void* vtable);
  /* Get the vtable bound to a service this plugin declared in `requires`;
   * NULL if it is optional and no enabled plugin provides it. The provider
   * is initialised before this plugin and stopped after it. */
  const void* (*acquire)(dicomd_host* host, const char* service, uint32_t major);

  /* --- configuration. Any thread. Since: 1.0. --------------------------- */
  /* The data folder for all server state; plugins keep their files under it.
   * NUL-terminated, valid for the life of the process. */
  const char* (*data_dir)(dicomd_host* host);
  /* Largest request body the host accepts, in bytes. */
  uint64_t (*max_body_bytes)(dicomd_host* host);

  /* --- responses. Only from the handler's thread, before it returns.
   *     Since: 1.0. ------------------------------------------------------- */
  void (*response_status)(dicomd_response* response, int32_t http_status);
  /* Header names are case-insensitive; a second call with the same name adds
   * another header line. Content-Length and Connection are the host's. */
  void (*response_header)(dicomd_response* response, dicomd_str name, dicomd_str value);
  /* Sets the body (copied) and its Content-Type. */
  void (*response_body)(dicomd_response* response, dicomd_str content_type, dicomd_str body);

  /* --- HTTP helpers. Any thread. Since: 1.0. ---------------------------- */
  /* Parses a multipart/form-data body (boundary from the request's
   * Content-Type) and calls on_part for each part, in order (see
   * dicomd_form_part for how long each view lives). The whole body is checked
   * first: a malformed body gives DICOMD_E_INVALID and no callback; since
   * 1.2, a body of more than 10,000 parts gives DICOMD_E_TOO_LARGE. */
  dicomd_status (*parse_multipart)(dicomd_host* host, const dicomd_request* request, dicomd_part_fn on_part, void* ctx);

  /* --- isolation. Any thread, blocking. Since: 1.0. --------------------- */
  /* Runs `kind` on `input` in one of this plugin's worker processes: a
   * separate process that loaded only this plugin and calls its
   * isolated_job hook (plugin.h). Output bytes are passed to `output`.
   * Returns the job's own status, or DICOMD_E_TIMEOUT / DICOMD_E_WORKER_DIED
   * (the worker was killed or crashed and has been replaced) /
   * DICOMD_E_UNAVAILABLE (the plugin has no isolated_job hook, or, since
   * 1.2, every worker is busy: too many jobs wait already, or none became
   * free in time — retry later; the bytes are not at fault). The deadline
   * starts when a worker takes the job.
   * timeout_ms 0 means the host's configured default. */
  dicomd_status (*isolate)(dicomd_host* host, dicomd_str kind, dicomd_str input, uint32_t timeout_ms,
                           dicomd_sink output);

  /* --- events. Since: 1.2 (check with DICOMD_HAS_FIELD). ------------------
   * Delivery is asynchronous, in publish order per key (since 1.3, events of
   * different keys may reach a subscriber in parallel, on several threads),
   * at least once while the process lives. Events still queued when the
   * process dies are lost: a subscriber that keeps state derived from events
   * repairs it with a reconcile in its start hook (docs/plugin-sdk.md). */
  /* Any thread. Copies topic, key and payload; never blocks on subscribers.
   * DICOMD_E_TOO_LARGE when a subscriber's queue is full (the event is
   * dropped for that subscriber and logged; its reconcile repairs it). */
  dicomd_status (*publish)(dicomd_host* host, dicomd_str topic, dicomd_str key, dicomd_str payload_json);
  /* Only from init. `fn(ctx, event)` receives every event of `topic`
   * published after all plugins have started... or before: events published
   * during start are queued and delivered once every plugin has started. */
  dicomd_status (*subscribe)(dicomd_host* host, const char* topic, dicomd_event_fn fn, void* ctx);
  /* Any thread, blocking: waits until every event published before the call
   * has been handled by every subscriber (or given up on); DICOMD_E_TIMEOUT
   * after timeout_ms. For a publisher that promises read-your-writes. */
  dicomd_status (*events_flush)(dicomd_host* host, uint32_t timeout_ms);

  /* --- request filters. Since: 1.2. ---------------------------------------
   * Only from a request filter (plugin.h), on the filter's thread: attaches
   * who sent the request. Handlers read it as request->subject / ->role; the
   * after-answer hook sees the subject. Strings are copied. */
  void (*set_identity)(dicomd_response* response, dicomd_str subject, dicomd_str role);

  /* --- file bodies. Since: 1.3. -------------------------------------------
   * Only from the handler's thread: the body is `length` bytes of the open
   * regular file `fd` from `offset`, read in chunks as the client takes them
   * (a slow reader costs one chunk of memory, not the file). The host owns
   * fd from this call on, in every case, and closes it when done. The bytes
   * must not change while being sent: give a file that is replaced by
   * rename and removed by unlink, never rewritten in place. DICOMD_E_INVALID
   * (the response unchanged) when fd is not a regular file or the range
   * passes its end. */
  dicomd_status (*response_file)(dicomd_response* response, dicomd_str content_type, int32_t fd, uint64_t offset,
                                 uint64_t length);

  /* --- metrics, served by GET /metrics. Since: 1.4. ----------------------
   * Only from init: defines a counter or gauge. `name` is [a-z_][a-z0-9_]*,
   * unique in the process, and a counter's ends in "_total"
   * ("dicomd_storage_bytes_stored_total"); `label` is NULL or the one label
   * name its series differ by ("result"), whose values must be few (the
   * host keeps 64, then counts the rest as "other"). NULL, logged, when
   * refused. The metric lives as long as the process. */
  dicomd_metric* (*metric_define)(dicomd_host* host, const char* name, const char* help, int32_t kind,
                                  const char* label);
  /* Any thread, cheap (a mutex, no allocation once the label value exists).
   * add: a counter's delta must be >= 0. set: mostly for gauges. The label
   * value is ignored by a metric without a label. NULL metric: no-op. */
  void (*metric_add)(dicomd_metric* metric, dicomd_str label_value, double delta);
  void (*metric_set)(dicomd_metric* metric, dicomd_str label_value, double value);
  /* Only from init: fn(ctx) runs before each scrape, on the scraping
   * thread, to set gauges that are cheaper to read than to track (rows in
   * a table). Keep it quick: a scrape waits for it. */
  dicomd_status (*metric_collector)(dicomd_host* host, void (*fn)(void* ctx), void* ctx);

  /* --- isolation without copies. Any thread, blocking. Since: 1.4. -------
   * Like isolate, with the job's input made of `header` (at most 1024
   * bytes: the job's options) directly followed by `length` bytes of the
   * open regular file `fd` from `offset` (a multiple of 4096). The worker
   * maps the file instead of receiving a copy through a pipe: neither
   * process holds the bytes in its heap. The caller keeps fd and closes
   * it after the call. DICOMD_E_INVALID for a header too long, an offset
   * not aligned, or a range past the file's end. */
  dicomd_status (*isolate_file)(dicomd_host* host, dicomd_str kind, dicomd_str header, int32_t fd, uint64_t offset,
                                uint64_t length, uint32_t timeout_ms, dicomd_sink output);

  /* --- request traces. Any thread. Since: 1.6. ---------------------------
   * span_begin starts a span named `name` ("storage.read", copied) in the
   * trace of the request this thread is serving, inside the innermost span
   * still open on this thread; it returns the token to end it with, on the
   * same thread. Outside a request (an event subscriber, a start hook) it
   * returns 0 and costs nothing. The spans reach after-answer hooks
   * (dicomd_request_summary.spans): the traces-otlp plugin exports them.
   * span_end ends the span with the status the work ended with and, for a
   * failure, a short reason (copied). Error trackers read that reason:
   * never put a secret or a server path in it. A token of 0 with a
   * server-side failure (dicomd_is_server_failure, abi.h) publishes a
   * "host.error" event instead, so a failure outside any request still
   * reaches error trackers. */
  uint64_t (*span_begin)(dicomd_host* host, dicomd_str name);
  void (*span_end)(dicomd_host* host, uint64_t token, dicomd_status status, dicomd_str detail);
} dicomd_host_api;

/* Kept for plugins written against 1.1; DICOMD_HAS_FIELD (abi.h) is general. */
#define DICOMD_HOST_HAS(api, field) DICOMD_HAS_FIELD(api, dicomd_host_api, field)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DICOMD_HOST_H */
