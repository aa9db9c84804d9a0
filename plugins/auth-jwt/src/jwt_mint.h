// An HS256 token for operators (`dicomd token`): the subject, the role, the
// time it was made and its expiry. RS256/ES256 tokens come from an
// identity provider, which holds the private key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomd::auth {

// Throws std::invalid_argument for a role that is not read-only, standard or
// admin, a subject that is empty, over 255 bytes or has a control character,
// or a lifetime outside 1 s – 10 years.
std::string mint_hs256(std::string_view secret, std::string_view subject, std::string_view role, int64_t now,
                       int64_t ttl_s);

}  // namespace dicomd::auth
