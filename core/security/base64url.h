#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace r2w::security {

// Base64url without padding (RFC 4648 section 5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
// Strict: only the url-safe alphabet, no padding, no whitespace, no length of 1 mod 4, and the
// unused low bits of the last character must be zero (so every byte string has exactly one
// encoding and a token cannot be altered without changing its bytes). nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace r2w::security
