/* dicomd plugin SDK — neutral HTTP request and response.
 *
 * The host parses HTTP; plugins see a dicomd_request of views and fill an
 * opaque dicomd_response through the host function table (host.h).
 */
#ifndef DICOMD_HTTP_H
#define DICOMD_HTTP_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A name/value pair of views. Since: 1.0. */
typedef struct dicomd_kv {
  dicomd_str name;
  dicomd_str value;
} dicomd_kv;

/* One HTTP request as a route handler sees it. Every view is valid until the
 * handler returns. Since: 1.0.
 *   params  — path parameters of the route pattern (":study" -> "study"),
 *             percent-decoded once, in pattern order.
 *   query   — every query parameter in request order, repeats kept,
 *             percent-decoded once ('+' is a space).
 *   headers — lower-cased names, values trimmed, in request order. */
typedef struct dicomd_request {
  uint32_t struct_size;
  dicomd_str method;
  dicomd_str path; /* raw path without the query string */
  const dicomd_kv* params;
  size_t param_count;
  const dicomd_kv* query;
  size_t query_count;
  const dicomd_kv* headers;
  size_t header_count;
  dicomd_str body;
  dicomd_str request_id; /* the id the host logs this request under */
  /* Since 1.1: 0 when the handler runs on an I/O thread, which only quick
   * routes do (see dicomd_plugin_descriptor.route_flags): answer from memory
   * at once, or return DICOMD_E_WOULD_BLOCK having written nothing. 1 on a
   * request thread, where blocking (disk, isolated jobs) is fine. */
  int32_t may_block;
  /* Since 1.2 (check with DICOMD_HAS_FIELD): the route pattern that matched
   * ("/files/:study/:file"; empty when no route matched, which only filters
   * see), and the identity a request filter attached (empty when none). */
  dicomd_str route;
  dicomd_str subject; /* who: a user or service name */
  dicomd_str role;    /* what it may do: "admin", "standard", "read-only", ... */
} dicomd_request;

/* Opaque response under construction; written only through host functions,
 * only by the thread running the handler, only until the handler returns. */
typedef struct dicomd_response dicomd_response;

/* One piece of the work done for a request, in its trace (summary below).
 * Never grows: fields come in a new struct. Since: 1.6.
 *   name   — "parse", "queue", "filters", "handler", "worker.wait",
 *            "worker.run", or a plugin's own ("storage.read", "index.query")
 *   plugin — the plugin that did the work; empty: the host
 *   parent_span_id — the request's span id, or the span this one ran in
 *   status — DICOMD_OK, or how the work failed; detail says why (empty
 *            when it did not fail): "killed by Aborted" for a worker */
typedef struct dicomd_span {
  dicomd_str name;
  dicomd_str plugin;
  uint64_t span_id;
  uint64_t parent_span_id;
  uint64_t start_unix_ns;
  uint64_t end_unix_ns;
  int32_t status;
  int32_t reserved; /* 0 */
  dicomd_str detail;
} dicomd_span;

/* One log line written while a request was handled (the request's
 * breadcrumbs). Never grows. Since: 1.6. `level` is a DICOMD_LOG_* value;
 * `source` the plugin, or "dicomd" for the host. */
typedef struct dicomd_log_line {
  uint64_t unix_ns;
  int32_t level;
  int32_t reserved; /* 0 */
  dicomd_str source;
  dicomd_str message;
} dicomd_log_line;

/* What the after-answer hook (plugin.h) sees of a request that has been
 * answered. Views are valid during the call. Since: 1.2. */
typedef struct dicomd_request_summary {
  uint32_t struct_size;
  dicomd_str method;
  dicomd_str route;      /* the matched pattern; empty: no route matched */
  dicomd_str request_id; /* as in dicomd_request */
  dicomd_str subject;    /* the identity a filter attached, or empty */
  int32_t status;        /* the HTTP status sent */
  uint64_t bytes_in;     /* the request body's length */
  uint64_t bytes_out;    /* the reply body's length */
  uint64_t duration_ns;  /* from the complete request to the reply handed to the socket */

  /* Since 1.6 (check with DICOMD_HAS_FIELD): the request's trace, after W3C
   * Trace Context. The trace id is the one of the client's `traceparent`
   * header when it sent a valid one, else a new random one; every span id
   * is random and never 0. Times are Unix nanoseconds. */
  dicomd_str trace_id;      /* 32 lower-case hex digits */
  uint64_t span_id;         /* the request's own span: the server span */
  uint64_t parent_span_id;  /* the client's span, from its traceparent; 0: none came */
  uint32_t trace_flags;     /* the traceparent's flags (bit 0: the caller sampled it); 0 without one */
  int32_t has_traceparent;  /* 1 when a valid traceparent came with the request */
  uint64_t start_unix_ns;   /* when the request's first byte arrived */
  uint64_t end_unix_ns;     /* when its answer was handed to the socket */
  const dicomd_span* spans; /* the work done for it, in the order it began */
  size_t span_count;
  const dicomd_log_line* log_lines; /* lines logged while it was handled, oldest first (at most 32) */
  size_t log_line_count;
  dicomd_str plugin; /* the plugin whose route answered; empty: the host's own route, or none */
} dicomd_request_summary;

/* A route handler. `self` is the pointer the plugin's init returned.
 * Runs on one of the host's request threads (a quick route: first on an I/O
 * thread, see may_block); several requests run at once,
 * so a handler must be thread-safe. Returning non-zero makes the host answer
 * 500 with a JSON error (the plugin should log why). Since: 1.0. */
typedef dicomd_status (*dicomd_handler_fn)(void* self, const dicomd_request* request, dicomd_response* response);

/* One entry of a plugin's const route table. Since: 1.0.
 *   method  — "GET", "POST", "DELETE", "PUT", "HEAD", "PATCH" or (since
 *             1.9) "OPTIONS", for CORS preflights.
 *   pattern — "/files/:study/:file/tag": literal segments and ":name"
 *             parameters; a literal segment wins over a parameter. */
typedef struct dicomd_route {
  const char* method;
  const char* pattern;
  dicomd_handler_fn handler;
} dicomd_route;

/* One part of a multipart/form-data body, as the host helper reports it.
 * filename.ptr is NULL for a plain field. name, filename and content_type are
 * valid only during the callback that receives the part; data points into
 * the request body and stays valid until the handler returns. Since: 1.0. */
typedef struct dicomd_form_part {
  dicomd_str name;
  dicomd_str filename;
  dicomd_str content_type;
  dicomd_str data;
} dicomd_form_part;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DICOMD_HTTP_H */
