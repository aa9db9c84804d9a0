/* dicomd.render v1 — a stored image rendered for display as PNG.
 * Any thread, concurrently. Since: ABI 1.0; etag_png since 1.8. */
#ifndef DICOMD_SERVICES_RENDER_V1_H
#define DICOMD_SERVICES_RENDER_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_RENDER_SERVICE "dicomd.render"

typedef struct dicomd_render_options {
  uint32_t struct_size;
  uint32_t frame;     /* 0-based */
  uint32_t size;      /* fit into size x size; 0 = natural size */
  uint32_t bits;      /* 8, or 16 for modality values without VOI */
  int32_t has_window; /* 1: use window_center/width instead of the file's */
  double window_center;
  double window_width;
} dicomd_render_options;

typedef struct dicomd_render_v1 {
  uint32_t struct_size;
  void* self;
  /* Writes the PNG to `png`. DICOMD_E_NOT_FOUND: no such file;
   * DICOMD_E_INVALID: bad options (frame out of range...);
   * DICOMD_E_UNSUPPORTED: no or undecodable pixel data. */
  dicomd_status (*render_png)(void* self, dicomd_str study, dicomd_str file, const dicomd_render_options* options,
                              dicomd_sink png);

  /* Since 1.8. Optional (NULL in older providers): the strong ETag
   * render_png's answer for these options has, without rendering (the
   * stored file's version, the renderer's, the options). Stored renders are
   * looked up by it. DICOMD_E_NOT_FOUND: no such file. */
  dicomd_status (*etag_png)(void* self, dicomd_str study, dicomd_str file, const dicomd_render_options* options,
                            dicomd_sink etag);
} dicomd_render_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
