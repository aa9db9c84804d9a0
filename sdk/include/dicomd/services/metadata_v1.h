/* dicomd.metadata v1 — tags of a stored file as JSON (API.md's per-tag shape).
 * Any thread, concurrently. Since: ABI 1.0. */
#ifndef DICOMD_SERVICES_METADATA_V1_H
#define DICOMD_SERVICES_METADATA_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_METADATA_SERVICE "dicomd.metadata"

typedef struct dicomd_metadata_v1 {
  uint32_t struct_size;
  void* self;
  /* Writes a JSON array of tag objects ({"tag","VR","VM","keyword","name",
   * "value"}) for `tags` in their order (spellings of API.md), or for every
   * top-level tag when tag_count is 0. DICOMD_E_NOT_FOUND: no such file;
   * DICOMD_E_INVALID: a tag is unknown (the JSON array of invalid spellings
   * is written instead). */
  dicomd_status (*describe)(void* self, dicomd_str study, dicomd_str file, const dicomd_str* tags, size_t tag_count,
                            dicomd_sink json);
} dicomd_metadata_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
