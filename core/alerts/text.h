#pragma once

#include <string>
#include <string_view>

#include "core/common/time.h"

namespace r2w::alerts {

// Text for notifications, the same in both builds (no locale, no printf of doubles).
std::string format_number(double v);     // at most 2 decimals, trailing zeros dropped: "5", "12.35"
std::string format_usd(double usd);      // "$100.00"
std::string format_bytes(double bytes);  // "1.5 GB" (10^9), "512 B"
std::string format_duration(Duration d);  // "5 min", "2 h", "90 s", "1 d"
std::string format_iso8601(TimePoint t);  // "2026-06-01T12:00:00.000Z"
std::string format_rfc5322(TimePoint t);  // "Mon, 01 Jun 2026 12:00:00 +0000" (email Date)
// 64-bit FNV-1a of the text, as 16 lowercase hex digits.
std::string fnv1a_hex(std::string_view text);
// Escapes &, <, >, " for HTML.
std::string html_escape(std::string_view text);
// Standard base64 (RFC 4648, with padding), in lines of at most 76 characters joined by CRLF
// when `wrap_lines` says so (a MIME body part's Content-Transfer-Encoding: base64).
enum class Wrap { kNone, kMimeLines };
std::string base64(std::string_view bytes, Wrap wrap = Wrap::kNone);
// A header value as RFC 2047 encoded words (=?UTF-8?B?...?=, each at most 75 characters, split
// between UTF-8 characters, joined by CRLF and a space) when it holds anything but printable
// ASCII; otherwise the value itself.
std::string encode_header_value(std::string_view value);
// Whether `address` is a plain email address: local@domain, ASCII, no spaces, quotes, brackets
// or control characters, a local part of 1 to 64 characters, a domain of dot-separated labels
// (letters, digits, inner hyphens) with at least one dot; 254 characters at most.
bool is_email_address(std::string_view address);

}  // namespace r2w::alerts
