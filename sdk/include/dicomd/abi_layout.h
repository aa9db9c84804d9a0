/* dicomd plugin SDK — the ABI's layout, pinned. On LP64 Linux (x86-64,
 * arm64) every struct of the C headers has exactly this size, and the fields
 * each ABI minor appended sit at exactly these offsets. A change here is an
 * ABI break: plugins built against the old headers would read the wrong
 * bytes. The C++ layer includes this file, so every plugin's build checks it;
 * the test suite compiles it as C11 too (tests/abi/c11_headers.c).
 * Since: 1.2. */
#ifndef DICOMD_ABI_LAYOUT_H
#define DICOMD_ABI_LAYOUT_H

#include "plugin.h"
#include "services/metadata_v1.h"
#include "services/render_v1.h"
#include "services/storage_v1.h"
#include "services/index_v1.h"
#include "services/jobqueue_v1.h"
#include "services/validator_v1.h"

#if defined(__LP64__) && defined(__linux__)

#ifdef __cplusplus
#define DICOMD_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define DICOMD_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define DICOMD_LAYOUT_SIZE(type, n) DICOMD_STATIC_ASSERT(sizeof(type) == (n), "ABI: size of " #type)
#define DICOMD_LAYOUT_OFFSET(type, field, n) \
  DICOMD_STATIC_ASSERT(offsetof(type, field) == (n), "ABI: offset of " #type "." #field)

DICOMD_LAYOUT_SIZE(dicomd_str, 16);
DICOMD_LAYOUT_SIZE(dicomd_sink, 16);
DICOMD_LAYOUT_SIZE(dicomd_kv, 32);
DICOMD_LAYOUT_SIZE(dicomd_request, 176);
DICOMD_LAYOUT_OFFSET(dicomd_request, body, 88);
DICOMD_LAYOUT_OFFSET(dicomd_request, request_id, 104);
DICOMD_LAYOUT_OFFSET(dicomd_request, may_block, 120);
DICOMD_LAYOUT_OFFSET(dicomd_request, route, 128);
DICOMD_LAYOUT_OFFSET(dicomd_request, subject, 144);
DICOMD_LAYOUT_OFFSET(dicomd_request, role, 160);
DICOMD_LAYOUT_SIZE(dicomd_request_summary, 208);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, trace_id, 104);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, trace_flags, 136);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, spans, 160);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, log_lines, 176);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, plugin, 192);
DICOMD_LAYOUT_SIZE(dicomd_span, 88);
DICOMD_LAYOUT_SIZE(dicomd_log_line, 48);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, status, 72);
DICOMD_LAYOUT_OFFSET(dicomd_request_summary, duration_ns, 96);
DICOMD_LAYOUT_SIZE(dicomd_route, 24);
DICOMD_LAYOUT_SIZE(dicomd_form_part, 64);
DICOMD_LAYOUT_SIZE(dicomd_event, 72);
DICOMD_LAYOUT_OFFSET(dicomd_event, sequence, 56);
DICOMD_LAYOUT_OFFSET(dicomd_event, attempt, 64);
DICOMD_LAYOUT_SIZE(dicomd_host_api, 200);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, span_begin, 184);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, span_end, 192);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, log, 16);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, isolate, 96);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, publish, 104);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, subscribe, 112);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, events_flush, 120);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, set_identity, 128);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, response_file, 136);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, metric_define, 144);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, metric_collector, 168);
DICOMD_LAYOUT_OFFSET(dicomd_host_api, isolate_file, 176);
DICOMD_LAYOUT_SIZE(dicomd_service_ref, 16);
DICOMD_LAYOUT_SIZE(dicomd_plugin_descriptor, 192);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, isolated_job_traced, 184);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, routes, 72);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, init, 88);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, isolated_job, 128);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, route_flags, 136);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, request_filter, 144);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, after_answer, 152);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, route_media_types, 160);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, route_docs, 168);
DICOMD_LAYOUT_OFFSET(dicomd_plugin_descriptor, check_config, 176);
DICOMD_LAYOUT_SIZE(dicomd_object_info, 16);
DICOMD_LAYOUT_SIZE(dicomd_storage_v1, 128);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, put, 16);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, remove_study, 64);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, removal_count, 72);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, content_hash, 80);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, open, 88);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, put_checked, 96);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, open_described, 104);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, remove_study_counted, 112);
DICOMD_LAYOUT_OFFSET(dicomd_storage_v1, read_range, 120);
DICOMD_LAYOUT_SIZE(dicomd_validator_v1, 32);
DICOMD_LAYOUT_OFFSET(dicomd_validator_v1, validate_file, 24);
DICOMD_LAYOUT_SIZE(dicomd_metadata_v1, 24);
DICOMD_LAYOUT_SIZE(dicomd_index_v1, 56);
DICOMD_LAYOUT_OFFSET(dicomd_index_v1, reconcile, 48);
DICOMD_LAYOUT_SIZE(dicomd_render_options, 40);
DICOMD_LAYOUT_OFFSET(dicomd_render_options, window_center, 24);
DICOMD_LAYOUT_SIZE(dicomd_render_v1, 32);
DICOMD_LAYOUT_OFFSET(dicomd_render_v1, etag_png, 24);
DICOMD_LAYOUT_SIZE(dicomd_jobqueue_v1, 128);

#endif /* LP64 Linux */

#endif /* DICOMD_ABI_LAYOUT_H */
