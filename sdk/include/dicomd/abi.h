/* dicomd plugin SDK — basic ABI types shared by every header.
 *
 * Every header of sdk/include/dicomd is plain C so that a plugin built with
 * another compiler or standard library still loads. Rules that hold for every
 * declaration unless a comment says otherwise:
 *   - Ownership: a dicomd_str or pointer handed to a callee is a view that is
 *     valid only for the duration of that call; copy what you keep. Nothing is
 *     ever freed across the boundary.
 *   - Errors: functions return an int32_t dicomd_status; 0 is success.
 *   - Structs that may grow start with `uint32_t struct_size`; fields are only
 *     ever appended, so a reader checks struct_size before touching a field
 *     added in a later ABI minor.
 */
#ifndef DICOMD_ABI_H
#define DICOMD_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version of these headers. A host loads a plugin whose major equals its
 * own and whose minor is not newer than its own. Since: 1.0. */
#define DICOMD_ABI_MAJOR 1
#define DICOMD_ABI_MINOR 9

/* True when a struct that starts with struct_size is large enough to hold
 * `field`: DICOMD_HAS_FIELD(api, dicomd_host_api, publish). Check it before
 * reading a field added in a later ABI minor than the struct's writer may
 * have been built with. Since: 1.2. */
#define DICOMD_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type*)0)->field))

/* Exported symbol name of the plugin entry point (see plugin.h). */
#define DICOMD_PLUGIN_ENTRY_SYMBOL "dicomd_plugin_entry"

/* A byte range that the callee does not own. Not NUL-terminated in general.
 * Since: 1.0. */
typedef struct dicomd_str {
  const char* ptr;
  size_t len;
} dicomd_str;

/* Status codes. Explicit values: they are part of the ABI. Since: 1.0. */
typedef int32_t dicomd_status;
enum {
  DICOMD_OK = 0,
  DICOMD_E_INTERNAL = 1,     /* unexpected failure; details were logged */
  DICOMD_E_INVALID = 2,      /* bad argument or input */
  DICOMD_E_NOT_FOUND = 3,    /* no such object */
  DICOMD_E_EXISTS = 4,       /* object already exists (never replaced) */
  DICOMD_E_UNAVAILABLE = 5,  /* service or worker not available */
  DICOMD_E_TIMEOUT = 6,      /* isolated job ran past its deadline */
  DICOMD_E_WORKER_DIED = 7,  /* isolated job's worker process died */
  DICOMD_E_TOO_LARGE = 8,    /* over a configured size limit */
  DICOMD_E_IO = 9,           /* storage I/O failure (disk full, ...) */
  DICOMD_E_UNSUPPORTED = 10, /* not implemented by this provider */
  /* Since 1.1: a quick route's handler, called on an I/O thread
   * (request->may_block == 0), cannot answer without blocking. It has written
   * nothing; the host calls it again on a request thread. */
  DICOMD_E_WOULD_BLOCK = 11,
  /* Since 1.2: returned by a request filter that wrote the answer itself
   * (401, 403, ...): the route handler is not called. Not an error. */
  DICOMD_FILTER_ANSWERED = 12
};

/* True for a status that is the server's failure, not the request's: an
 * internal error, a storage I/O error, a worker that crashed or ran past
 * its deadline. What error trackers report and traces mark as errors.
 * Since: 1.6. */
static inline int dicomd_is_server_failure(dicomd_status s) {
  return s == DICOMD_E_INTERNAL || s == DICOMD_E_IO || s == DICOMD_E_WORKER_DIED || s == DICOMD_E_TIMEOUT;
}

/* Log levels. Since: 1.0. */
enum { DICOMD_LOG_ERROR = 0, DICOMD_LOG_WARN = 1, DICOMD_LOG_INFO = 2, DICOMD_LOG_DEBUG = 3 };

/* Byte sink: the callee calls write() zero or more times with views valid
 * only during that call. Used wherever bytes flow back to the caller.
 * Since: 1.0. */
typedef struct dicomd_sink {
  void* ctx;
  void (*write)(void* ctx, const void* data, size_t len);
} dicomd_sink;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DICOMD_ABI_H */
