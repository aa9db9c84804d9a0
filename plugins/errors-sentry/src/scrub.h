// What must never leave the server in an error event: a token, a cookie, a
// password, a server path. Events carry no headers, no bodies and no raw
// URLs at all (only route patterns); the scrubber cleans the free text
// that remains (log lines, failure reasons):
//   - the data folder and any absolute path ("/var/lib/x/y") -> "[path]"
//   - "Bearer <token>" -> "Bearer [token]", a JWT (eyJ….….…) -> "[token]"
//   - token=, access_token=, password=, secret=, cookie=, authorization=
//     and the same with ':' -> the name, then "[scrubbed]"
#pragma once

#include <string>
#include <string_view>

namespace dicomd::sentry {

std::string scrub(std::string_view text);

}  // namespace dicomd::sentry
