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
  /* Since 1.5 (check DICOMD_HAS_FIELD and NULL). The same verdict on the
   * first `length` bytes of the open regular file `fd` (readable; the caller
   * keeps and closes it), read where it lies: a storage validates the file it
   * has just written, not a second copy of the upload. */
  dicomd_status (*validate_file)(void* self, int32_t fd, uint64_t length, dicomd_sink reason);
} dicomd_validator_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
