/* dicomd.index v1 — every stored file findable by its DICOM attributes.
 * Provided by index-sqlite (the default) and index-postgres; the search
 * plugin (GET /search) and DICOMweb's QIDO-RS consume it. The provider keeps
 * itself in line with dicomd.storage through its "stored"/"removed" events
 * and a reconcile at start. All methods: any thread, concurrently.
 * Since: ABI 1.3. */
#ifndef DICOMD_SERVICES_INDEX_V1_H
#define DICOMD_SERVICES_INDEX_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_INDEX_SERVICE "dicomd.index"

/* Reconcile progress: `done` of `total` stored files checked so far. */
typedef void (*dicomd_progress_fn)(void* ctx, uint64_t done, uint64_t total);

typedef struct dicomd_index_v1 {
  uint32_t struct_size;
  void* self; /* passed back as the first argument of every method */

  /* Indexes (or indexes again) the stored file study/file with its
   * attributes: a JSON object of search keys (API.md Part 3) valued as
   * Part 1 shows them ({"PatientName":"MÜLLER^K","SeriesNumber":3,...});
   * keys it does not know are ignored, absent keys are absent. `content_hash`
   * names the stored version (reconcile compares it with the storage's).
   * Idempotent. DICOMD_E_INVALID: attributes are not a JSON object. */
  dicomd_status (*upsert)(void* self, dicomd_str study, dicomd_str file, dicomd_str content_hash,
                          dicomd_str attributes_json);
  /* Forgets study/file; DICOMD_OK also when it was not indexed. */
  dicomd_status (*remove)(void* self, dicomd_str study, dicomd_str file);

  /* Runs a query, a JSON object:
   *   {"level":"instance|series|study","filters":{"Key":"value",...},
   *    "limit":N,"offset":M,"orderby":["-StudyDate","PatientID"],"fuzzymatching":false}
   * with the matching rules of API.md ("Search"); absent members take their
   * defaults. Writes {"level","total","offset","limit","results":[...]}
   * (without "success"). DICOMD_E_INVALID: the query is refused, and
   * {"error":"...","supported":[keys...]} is written instead. */
  dicomd_status (*search)(void* self, dicomd_str query_json, dicomd_sink out);

  /* Instances indexed now. */
  uint64_t (*count)(void* self);

  /* Brings the index in line with the storage: indexes files it lacks or
   * whose content changed, drops rows whose file is gone; with rebuild != 0
   * it first forgets everything. Blocking; progress (may be NULL) is called
   * as files are checked. */
  dicomd_status (*reconcile)(void* self, int32_t rebuild, dicomd_progress_fn progress, void* ctx);
} dicomd_index_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
