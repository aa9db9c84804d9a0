/* dicomd.storage v1 — a store of files grouped in studies.
 * Provided by storage-fs (filesystem) and storage-s3 (an S3 bucket); the
 * files plugin serves the original API's routes on whichever is bound.
 * Names are checked by the caller (see API.md) and again by the provider.
 * All methods: any thread, concurrently. Since: ABI 1.0. */
#ifndef DICOMD_SERVICES_STORAGE_V1_H
#define DICOMD_SERVICES_STORAGE_V1_H

#include "../abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DICOMD_STORAGE_SERVICE "dicomd.storage"

/* Called once per name; the view is valid during the call. */
typedef void (*dicomd_name_fn)(void* ctx, dicomd_str name);
/* Called once with the whole object; the view is valid during the call. */
typedef void (*dicomd_bytes_fn)(void* ctx, dicomd_str bytes);

/* Judges bytes put_checked has just written, before they become visible:
 * `fd` reads them (read-only; valid during the call), `size` is their
 * length. Returns DICOMD_OK to store them, DICOMD_E_INVALID to refuse them
 * (the reason written to `refusal`), or another status to fail the put with
 * it (nothing stored). Since: 1.7. */
typedef dicomd_status (*dicomd_written_check_fn)(void* ctx, int32_t fd, uint64_t size, dicomd_sink refusal);

typedef struct dicomd_object_info {
  uint64_t size;
  int64_t modified_ns; /* last change, ns since the epoch; with size, it tells
                        * a stored object from one stored again under its name
                        * (caches and ETags rely on it) */
} dicomd_object_info;

typedef struct dicomd_storage_v1 {
  uint32_t struct_size;
  void* self; /* passed back as the first argument of every method */
  /* Stores bytes under study/name. The object becomes visible only once it
   * is complete and durable, and never replaces one: DICOMD_E_EXISTS if the
   * name is taken (also when two puts race: exactly one wins).
   * DICOMD_E_IO on a write failure, with nothing left behind. */
  dicomd_status (*put)(void* self, dicomd_str study, dicomd_str name, dicomd_str bytes);
  /* Calls consume once with a view of the whole object (no copy where the
   * backend can map it). DICOMD_E_NOT_FOUND if absent. */
  dicomd_status (*read)(void* self, dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx);
  dicomd_status (*stat)(void* self, dicomd_str study, dicomd_str name, dicomd_object_info* info);
  /* Sorted by byte value. */
  dicomd_status (*list_studies)(void* self, dicomd_name_fn each, void* ctx);
  /* Sorted; DICOMD_E_NOT_FOUND for an unknown study. */
  dicomd_status (*list_files)(void* self, dicomd_str study, dicomd_name_fn each, void* ctx);
  dicomd_status (*remove)(void* self, dicomd_str study, dicomd_str name);
  /* Removes the study and all its files. */
  dicomd_status (*remove_study)(void* self, dicomd_str study);

  /* Since 1.1 (check struct_size): how many removals this store has made.
   * It grows before a remove or remove_study returns; puts never replace an
   * object, so while the count is unchanged every object seen earlier is
   * still the same object. Caches rely on it to skip a stat per lookup (the
   * store's folder belongs to dicomd: a change made by hand is not seen). */
  uint64_t (*removal_count)(void* self);

  /* Since 1.2 (check with DICOMD_HAS_FIELD): a hash of the object's content,
   * computed when it was stored, written to `hash` (nothing when the backend
   * keeps none). Unlike size and time it changes whenever the content does,
   * also for a same-size replacement within a timestamp tick: ETags and cache
   * keys use it. DICOMD_E_NOT_FOUND if absent. */
  dicomd_status (*content_hash)(void* self, dicomd_str study, dicomd_str name, dicomd_sink hash);

  /* Since 1.4 (check with DICOMD_HAS_FIELD; NULL when the backend has no
   * file to give): a read-only descriptor of the object and its size, for
   * handing its bytes to a worker process without copying them (host.h
   * isolate_file). The caller closes *fd. The object behind it never
   * changes: a stored object is replaced by a new one, never rewritten.
   * DICOMD_E_NOT_FOUND if absent. */
  dicomd_status (*open)(void* self, dicomd_str study, dicomd_str name, int32_t* fd, uint64_t* size);

  /* Since 1.7 (check with DICOMD_HAS_FIELD): what a plugin serving uploads
   * for any backend needs (plugins/files).
   *
   * put, recording `uploader` (a signed-in subject; empty for none) with
   * the object, and storing only what `check` accepts when it is not NULL:
   * a refusal returns DICOMD_E_INVALID with the reason in `refusal` (an
   * invalid name returns DICOMD_E_INVALID and writes nothing there). The
   * backend runs the check where the bytes were written (storage-fs: the
   * temporary file, while the disk writes it back). */
  dicomd_status (*put_checked)(void* self, dicomd_str study, dicomd_str name, dicomd_str bytes, dicomd_str uploader,
                               dicomd_written_check_fn check, void* check_ctx, dicomd_sink refusal);
  /* open, with the object's info, content hash (to `hash`; nothing when the
   * backend keeps none) and uploader (to `uploader`; nothing when unknown),
   * all of the version the descriptor reads. The caller closes *fd. With
   * `fd` NULL, the info, hash and uploader only, the object not opened
   * (storage-s3: a HEAD, not a GET of the whole object). */
  dicomd_status (*open_described)(void* self, dicomd_str study, dicomd_str name, int32_t* fd, dicomd_object_info* info,
                                  dicomd_sink hash, dicomd_sink uploader);
  /* remove_study, counting the files it removed. */
  dicomd_status (*remove_study_counted)(void* self, dicomd_str study, uint64_t* removed_files);
  /* Calls consume once with up to `length` bytes of the object from
   * `offset` (fewer at its end, none from past it) and writes the object's
   * whole size to *total_size: what a header parse needs from a store where
   * open() fetches the whole object (storage-s3: one ranged GET).
   * DICOMD_E_NOT_FOUND if absent. */
  dicomd_status (*read_range)(void* self, dicomd_str study, dicomd_str name, uint64_t offset, uint64_t length,
                              uint64_t* total_size, dicomd_bytes_fn consume, void* ctx);
} dicomd_storage_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
