// dicomd reindex: rebuilds the search index from the storage, with a
// progress bar, and exits.
#pragma once

#include <string>

#include "config.h"

namespace dicomd {

// Starts the configured plugins (no HTTP server), asks the dicomd.index
// provider for a rebuild, prints progress on stderr. Returns the exit code;
// throws with a one-line reason (no index plugin, the folder in use).
int reindex(const Config& config, const std::string& self_exe);

}  // namespace dicomd
