/* Every public header of the SDK, compiled as strict C11 (-std=c11
 * -Wpedantic -Werror): the ABI is C, and a plugin written in C must be able
 * to include all of it. abi_layout.h asserts every struct's size and the
 * offsets each ABI minor appended. */
#include <dicomd/abi.h>
#include <dicomd/abi_layout.h>
#include <dicomd/host.h>
#include <dicomd/http.h>
#include <dicomd/plugin.h>
#include <dicomd/services/metadata_v1.h>
#include <dicomd/services/jobqueue_v1.h>
#include <dicomd/services/render_v1.h>
#include <dicomd/services/storage_v1.h>
#include <dicomd/services/validator_v1.h>

/* DICOMD_HAS_FIELD works in C on every growing struct. */
int dicomd_c11_has_publish(const dicomd_host_api* api) {
  return DICOMD_HAS_FIELD(api, dicomd_host_api, publish);
}
