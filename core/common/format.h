#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace r2w {

// Digits written by hand, so neither build links printf (the wasm module stays small and the
// text is the same everywhere, without locale).

// `v` in decimal, zero-padded to `width` characters (printf's %0*d: a minus sign counts).
inline void append_padded(std::string& out, int64_t v, int width) {
  char buf[24];
  uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  auto r = std::to_chars(buf, buf + sizeof buf, magnitude);
  int len = static_cast<int>(r.ptr - buf) + (v < 0 ? 1 : 0);
  if (v < 0) out.push_back('-');
  if (len < width) out.append(static_cast<size_t>(width - len), '0');
  out.append(buf, r.ptr);
}

// `v` with `decimals` (0 to 3) digits after the point, rounded as printf's %.*f rounds: from
// the exact binary value, ties to even ("%.1f" of 0.25 is "0.2", of 0.35 "0.3").
inline std::string format_fixed(double v, int decimals) {
  std::string out;
  if (std::isnan(v)) return "nan";
  if (std::signbit(v)) {
    out.push_back('-');
    v = -v;
  }
  if (std::isinf(v)) return out + "inf";
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  uint64_t scaled = 0;  // round(v * scale), computed exactly
  if (v >= 9007199254740992.0) {
    // Integral already: its exact digits, then zeros.
    int exp = 0;
    double m = std::frexp(v, &exp);
    auto mantissa = static_cast<uint64_t>(std::ldexp(m, 53));  // v = mantissa * 2^(exp - 53)
    std::string digits;                                        // least significant first
    for (; mantissa > 0; mantissa /= 10) digits.push_back(static_cast<char>(mantissa % 10));
    for (int i = 0; i < exp - 53; ++i) {
      int carry = 0;
      for (char& d : digits) {
        int x = d * 2 + carry;
        d = static_cast<char>(x % 10);
        carry = x / 10;
      }
      if (carry) digits.push_back(static_cast<char>(carry));
    }
    for (auto it = digits.rbegin(); it != digits.rend(); ++it)
      out.push_back(static_cast<char>('0' + *it));
    if (decimals > 0) out.append(".").append(static_cast<size_t>(decimals), '0');
    return out;
  } else {
    int exp = 0;
    double m = std::frexp(v, &exp);                            // v = m * 2^exp, m in [0.5, 1)
    auto mantissa = static_cast<uint64_t>(std::ldexp(m, 53));  // v = mantissa * 2^(exp - 53)
    int shift = 53 - exp;                                      // v = mantissa / 2^shift
    if (shift <= 0) {
      scaled = (mantissa << -shift) * scale;
    } else if (shift >= 64) {
      scaled = 0;  // v * scale < 2^57 / 2^64 < 1/2
    } else {
      uint64_t product = mantissa * scale;  // < 2^53 * 1000 < 2^63
      uint64_t q = product >> shift;
      uint64_t rem = product & ((uint64_t{1} << shift) - 1);
      uint64_t half = uint64_t{1} << (shift - 1);
      if (rem > half || (rem == half && (q & 1))) ++q;
      scaled = q;
    }
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, scaled / scale);
  out.append(buf, r.ptr);
  if (decimals > 0) {
    out.push_back('.');
    append_padded(out, static_cast<int64_t>(scaled % scale), decimals);
  }
  return out;
}

}  // namespace r2w
