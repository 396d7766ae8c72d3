#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace r2w::security {

// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), in the core so that token checks are one
// deterministic, natively tested and fuzzed piece of code (no await on WebCrypto, no second
// implementation in JavaScript).
using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view message);

// Lower-case hex of bytes.
std::string to_hex(std::string_view bytes);
std::string to_hex(const Digest& d);
// The bytes of a digest as a string (for comparisons and encoders).
inline std::string_view bytes_of(const Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// Compares two byte strings in time that depends only on their lengths, never on where they
// first differ. Different lengths compare unequal (lengths of hashes and MACs are public).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace r2w::security
