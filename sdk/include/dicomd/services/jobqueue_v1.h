/* dicomd.jobqueue v1 — a durable queue of background jobs, kept in the index
 * database so that every host sharing the index shares the work. Provided
 * by index-sqlite and index-postgres; the jobs plugin runs the jobs and
 * render-png serves pre-rendered images from their results.
 *
 * A job is queued, then claimed by one worker for a lease (a claim returns
 * a fencing token); the worker renews the lease as it reports progress and
 * ends the job with its token. A worker that stops renewing (its host was
 * killed) loses the job when the lease expires, and the next claim takes it
 * over; a token that is no longer current cannot change the job, so a job
 * completes once. Times are the hosts' clocks, in milliseconds: hosts that
 * share a queue keep their clocks in step (NTP), well within a lease.
 * All methods: any thread, concurrently. Since: ABI 1.8. */
#ifndef DICOMD_SERVICES_JOBQUEUE_V1_H
#define DICOMD_SERVICES_JOBQUEUE_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_JOBQUEUE_SERVICE "dicomd.jobqueue"

typedef struct dicomd_jobqueue_v1 {
  uint32_t struct_size;
  void* self; /* passed back as the first argument of every method */

  /* Queues a job described by a JSON object:
   *   {"kind":"animate","key":"...","params":{...},"priority":0,
   *    "max_attempts":3,"sources":[["study","file"],...]}
   * `key` (may be empty) deduplicates: while a job of that key is queued,
   * running or done, submit returns it instead of queueing another.
   * `sources` are the stored files the job reads (see cancel_source).
   * Lower priorities are claimed first, then older jobs. Writes
   * {"id":N,"created":true|false}. DICOMD_E_INVALID: a malformed job. */
  dicomd_status (*submit)(void* self, dicomd_str job_json, dicomd_sink out);

  /* Claims the next job that is due — queued, or running under a lease that
   * expired — for `lease_ms`, as `owner` (a host's name, for listings).
   * Writes {"id","kind","params","attempt","token"}; DICOMD_E_NOT_FOUND
   * when none is due. A job whose lease expired on its last attempt fails
   * instead ("its worker stopped N times"). */
  dicomd_status (*claim)(void* self, dicomd_str owner, uint32_t lease_ms, dicomd_sink out);

  /* Renews the lease of a claimed job and records its progress (0..1000).
   * DICOMD_E_NOT_FOUND: the job is no longer this token's (cancelled, or
   * taken over): stop working on it. */
  dicomd_status (*renew)(void* self, uint64_t id, uint64_t token, uint32_t progress_permille, uint32_t lease_ms);

  /* Ends a claimed job as done with its result (content type and bytes).
   * DICOMD_E_NOT_FOUND: the job is no longer this token's; nothing changed. */
  dicomd_status (*complete)(void* self, uint64_t id, uint64_t token, dicomd_str content_type, dicomd_str result);

  /* Ends a claimed job's attempt with `reason`. retry_after_ms > 0 queues
   * it again after that delay while attempts remain (a transient failure);
   * otherwise, or on its last attempt, it fails. retry_after_ms = 0 with
   * `release` != 0 gives the job back without counting the attempt (its
   * host is stopping). DICOMD_E_NOT_FOUND as for complete. */
  dicomd_status (*fail)(void* self, uint64_t id, uint64_t token, dicomd_str reason, uint32_t retry_after_ms,
                        int32_t release);

  /* One job: {"id","kind","state":"queued|running|done|failed|cancelled",
   * "progress":0..1000,"attempts","max_attempts","error","owner","params",
   * "created","started","finished" (ms, 0 = not yet),"result_type",
   * "result_size","result_tag"}. DICOMD_E_NOT_FOUND: no such job. */
  dicomd_status (*get)(void* self, uint64_t id, dicomd_sink out);

  /* A done job's result: content type to `content_type`, bytes to `body`.
   * By id (key empty) or by key (id 0). DICOMD_E_NOT_FOUND: no such job,
   * or it has no result (yet). */
  dicomd_status (*result)(void* self, uint64_t id, dicomd_str key, dicomd_sink content_type, dicomd_sink body);

  /* Cancels a queued or running job (a running one stops at its next
   * renew); forgets a finished one and its result. DICOMD_E_NOT_FOUND. */
  dicomd_status (*cancel)(void* self, uint64_t id);

  /* study/file was replaced or removed: jobs that read it and are queued
   * or running are cancelled with `reason`; done jobs of kind `drop_kind`
   * (may be empty) are forgotten, other done jobs lose their result and
   * become cancelled with `reason`. Writes the number of jobs changed. */
  dicomd_status (*cancel_source)(void* self, dicomd_str study, dicomd_str file, dicomd_str drop_kind, dicomd_str reason,
                                 dicomd_sink out);

  /* The newest jobs, as get shows them but without params: a JSON object
   * {"jobs":[...]} of at most `limit` jobs, of `kind` when not empty, of
   * state `state` when not empty. */
  dicomd_status (*list)(void* self, dicomd_str kind, dicomd_str state, uint32_t limit, dicomd_sink out);

  /* Jobs per state: {"queued":N,"running":N,"done":N,"failed":N,"cancelled":N}. */
  dicomd_status (*counts)(void* self, dicomd_sink out);

  /* Blocks until a job may be due (one was queued here, or another host
   * announced one: PostgreSQL's LISTEN/NOTIFY) or timeout_ms passed.
   * Returns 1 when woken, 0 on timeout. */
  int32_t (*wait)(void* self, uint32_t timeout_ms);
  /* Wakes every wait of this process (a host that stops). */
  void (*wake_all)(void* self);

  /* Forgets the jobs of `kind` (all kinds when empty) that finished (done,
   * failed or cancelled) before `finished_before_ms`, with their results.
   * Writes the number forgotten. */
  dicomd_status (*prune)(void* self, dicomd_str kind, int64_t finished_before_ms, dicomd_sink out);
} dicomd_jobqueue_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
