// How a request's answer travels back to the connection that asked.
#pragma once

#include <functional>

#include "http/response.h"

namespace dicomd {

// Writes the answer; called exactly once per request.
using Reply = std::function<void(http::Response&&)>;
// Work that answers a request on a handler thread, where it may block.
using Deferred = std::function<void(const Reply&)>;

}  // namespace dicomd
