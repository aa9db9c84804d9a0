// dicomd import: copies the files of a storage-fs folder into the storage
// the configuration binds (storage-s3, another storage-fs), which publishes
// them to the index as any upload does. How an operator moves from one
// machine to many (docs/scale-out.md).
#pragma once

#include <string>

#include "config.h"

namespace dicomd {

// Copies FROM/<study>/<file> (folders starting with '.' skipped) with each
// file's uploader (storage-fs's user.dicomd.uploader attribute). A name the
// storage holds already is left as it is, so a cut import runs again.
// Returns the exit code: 0 when every file is there, 1 otherwise.
int import_folder(const Config& config, const std::string& self_exe, const std::string& from);

}  // namespace dicomd
