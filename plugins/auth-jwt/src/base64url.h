// Base64url without padding (RFC 4648 §5), as JWS writes a token's parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dicomd::auth {

// nullopt for any byte outside the alphabet, padding, or a length no
// encoding has (4k + 1).
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

}  // namespace dicomd::auth
