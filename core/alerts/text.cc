#include "core/alerts/text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/common/civil-date.h"

namespace r2w::alerts {

namespace {

std::string two_digits(int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

}  // namespace

std::string format_number(double v) {
  if (!std::isfinite(v)) return "0";
  bool negative = v < 0;
  double a = std::fabs(v);
  if (a >= 1e15) return (negative ? "-" : "") + std::to_string(static_cast<int64_t>(a));
  int64_t cents = static_cast<int64_t>(std::llround(a * 100.0));
  std::string out = (negative && cents ? "-" : "") + std::to_string(cents / 100);
  int64_t frac = cents % 100;
  if (frac) {
    out += "." + two_digits(frac);
    if (out.back() == '0') out.pop_back();
  }
  return out;
}

std::string format_usd(double usd) {
  int64_t cents = static_cast<int64_t>(std::llround(std::fabs(usd) * 100.0));
  return std::string(usd < 0 ? "-$" : "$") + std::to_string(cents / 100) + "." +
         two_digits(cents % 100);
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  return format_number(bytes) + " " + units[u];
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms % 86'400'000 == 0 && ms > 0) return std::to_string(ms / 86'400'000) + " d";
  if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + " h";
  if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + " min";
  if (ms % 1'000 == 0) return std::to_string(ms / 1'000) + " s";
  return std::to_string(ms) + " ms";
}

std::string format_iso8601(TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t days = ms >= 0 ? ms / 86'400'000 : -((-ms + 86'399'999) / 86'400'000);
  int64_t rest = ms - days * 86'400'000;
  CivilDate d = date_from_days(days);
  std::string millis = std::to_string(rest % 1000);
  while (millis.size() < 3) millis = "0" + millis;
  return format_date(d) + "T" + two_digits(rest / 3'600'000) + ":" +
         two_digits(rest / 60'000 % 60) + ":" + two_digits(rest / 1000 % 60) + "." + millis + "Z";
}

std::string format_rfc5322(TimePoint t) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t ms = to_epoch_ms(t);
  int64_t days = ms >= 0 ? ms / 86'400'000 : -((-ms + 86'399'999) / 86'400'000);
  int64_t rest = ms - days * 86'400'000;
  CivilDate d = date_from_days(days);
  return std::string(kDays[((days % 7) + 7) % 7]) + ", " + two_digits(d.day) + " " +
         kMonths[d.month - 1] + " " + std::to_string(d.year) + " " + two_digits(rest / 3'600'000) +
         ":" + two_digits(rest / 60'000 % 60) + ":" + two_digits(rest / 1000 % 60) + " +0000";
}

std::string fnv1a_hex(std::string_view text) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (unsigned char c : text) {
    h ^= c;
    h *= UINT64_C(1099511628211);
  }
  const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = digits[h & 0xf];
    h >>= 4;
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes, Wrap wrap) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t line = 0;
  auto put = [&](char c) {
    if (wrap == Wrap::kMimeLines && line == 76) {
      out += "\r\n";
      line = 0;
    }
    out += c;
    ++line;
  };
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    put(kAlphabet[(n >> 18) & 63]);
    put(kAlphabet[(n >> 12) & 63]);
    put(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    put(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

std::string encode_header_value(std::string_view value) {
  bool plain = true;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) plain = false;
  }
  if (plain) return std::string(value);
  // 45 bytes of text become 60 base64 characters: with "=?UTF-8?B?" and "?=", 72 <= 75.
  constexpr size_t kChunk = 45;
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t end = std::min(value.size(), i + kChunk);
    // Never split a UTF-8 character: back off over continuation bytes.
    while (end < value.size() && end > i + 1 &&
           (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) {
      --end;
    }
    std::string chunk(value.substr(i, end - i));
    // Control characters (CR, LF, ...) never reach a header, even encoded.
    for (char& ch : chunk) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(chunk) + "?=";
    i = end;
  }
  return out;
}

bool is_email_address(std::string_view address) {
  if (address.size() > 254) return false;
  size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = address.substr(0, at), domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return false;
  }
  for (char ch : local) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-/=?^_`{|}~.").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  if (local.find("..") != std::string_view::npos) return false;
  if (domain.empty() || domain.find('.') == std::string_view::npos) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char ch : label) {
      bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace r2w::alerts
