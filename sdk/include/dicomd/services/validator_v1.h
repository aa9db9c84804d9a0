/* dicomd.validator v1 — is this byte string a DICOM data set, and why not.
 * Any thread, concurrently. Since: ABI 1.0. */
#ifndef DICOMD_SERVICES_VALIDATOR_V1_H
#define DICOMD_SERVICES_VALIDATOR_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_VALIDATOR_SERVICE "dicomd.validator"

typedef struct dicomd_validator_v1 {
  uint32_t struct_size;
  void* self;
  /* DICOMD_OK: a readable DICOM data set. DICOMD_E_INVALID: not one, and a
   * short human reason ("empty file", "pixel data shorter than declared") is
   * written to `reason`. Any other status: the check itself failed. */
  dicomd_status (*validate)(void* self, dicomd_str bytes, dicomd_sink reason);
} dicomd_validator_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
