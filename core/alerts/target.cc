#include "core/alerts/target.h"

#include <vector>

namespace r2w::alerts {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// One part of a WHATWG IPv4 host: decimal, octal ("0" prefix) or hex ("0x" prefix). Values
// past 2^32 are refused (no address has them).
std::optional<uint64_t> ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  unsigned base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : part) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > UINT64_C(0xFFFFFFFF)) return std::nullopt;
  }
  return v;  // "0x" alone is 0, as WHATWG reads it
}

// WHATWG's "ends in a number": the host's last label (a trailing dot ignored) is all digits or
// a hex number, so the host must be an IPv4 address or the URL is invalid.
bool ends_in_number(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  bool digits = true;
  for (char c : last) digits = digits && c >= '0' && c <= '9';
  if (digits) return true;
  return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
         ipv4_number(last).has_value();
}

bool in_v4(uint32_t a, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr uint32_t v4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}

// Why an IPv4 address is not a public unicast one ("" when it is); loopback separately.
std::string v4_refusal(uint32_t a) {
  struct Range {
    uint32_t net;
    int bits;
    const char* what;
  };
  static constexpr Range kRanges[] = {
      {v4(0, 0, 0, 0), 8, "an unspecified (0.0.0.0/8) address"},
      {v4(10, 0, 0, 0), 8, "a private (10/8) address"},
      {v4(100, 64, 0, 0), 10, "a carrier-grade NAT (100.64/10) address"},
      {v4(169, 254, 0, 0), 16, "a link-local (169.254/16) address"},
      {v4(172, 16, 0, 0), 12, "a private (172.16/12) address"},
      {v4(192, 0, 0, 0), 24, "an IETF protocol (192.0.0/24) address"},
      {v4(192, 0, 2, 0), 24, "a documentation address"},
      {v4(192, 88, 99, 0), 24, "a 6to4 relay address"},
      {v4(192, 168, 0, 0), 16, "a private (192.168/16) address"},
      {v4(198, 18, 0, 0), 15, "a benchmarking (198.18/15) address"},
      {v4(198, 51, 100, 0), 24, "a documentation address"},
      {v4(203, 0, 113, 0), 24, "a documentation address"},
      {v4(224, 0, 0, 0), 4, "a multicast address"},
      {v4(240, 0, 0, 0), 4, "a reserved or broadcast address"},
  };
  for (const Range& r : kRanges) {
    if (in_v4(a, r.net, r.bits)) return r.what;
  }
  return "";
}

bool v6_prefix(const std::array<uint8_t, 16>& a, std::initializer_list<uint8_t> bytes, int bits) {
  int i = 0;
  for (uint8_t b : bytes) {
    int take = bits - i * 8;
    if (take <= 0) break;
    uint8_t mask = take >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - take));
    if ((a[static_cast<size_t>(i)] & mask) != (b & mask)) return false;
    ++i;
  }
  return true;
}

// Why an IPv6 address may not be a target ("" when it may); loopback separately.
std::string v6_refusal(const std::array<uint8_t, 16>& a) {
  bool first12_zero = true;
  for (size_t i = 0; i < 12; ++i) first12_zero = first12_zero && a[i] == 0;
  bool mapped = a[10] == 0xFF && a[11] == 0xFF;
  for (size_t i = 0; i < 10; ++i) mapped = mapped && a[i] == 0;
  if (mapped) return "an IPv4-mapped IPv6 address";
  if (first12_zero) {
    bool unspecified = true;
    for (size_t i = 12; i < 16; ++i) unspecified = unspecified && a[i] == 0;
    return unspecified ? "the unspecified address" : "an IPv4-compatible IPv6 address";
  }
  // ::ffff:0:a.b.c.d (SIIT).
  bool siit = a[8] == 0xFF && a[9] == 0xFF && a[10] == 0 && a[11] == 0;
  for (size_t i = 0; i < 8; ++i) siit = siit && a[i] == 0;
  if (siit) return "an IPv4-translated IPv6 address";
  if (v6_prefix(a, {0x00, 0x64, 0xff, 0x9b}, 32)) return "a NAT64 (64:ff9b::/32) address";
  if (v6_prefix(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64)) return "a discard (100::/64) address";
  if (v6_prefix(a, {0x20, 0x01, 0x0d, 0xb8}, 32)) return "a documentation address";
  if (v6_prefix(a, {0x20, 0x01, 0x00, 0x00}, 32)) return "a Teredo (2001::/32) address";
  if (v6_prefix(a, {0x20, 0x01, 0x00, 0x10}, 28)) return "an ORCHID (2001:10::/28) address";
  if (v6_prefix(a, {0x20, 0x02}, 16)) return "a 6to4 (2002::/16) address";
  if (v6_prefix(a, {0xfc}, 7)) return "a unique-local (fc00::/7) address";
  if (v6_prefix(a, {0xfe, 0x80}, 10)) return "a link-local (fe80::/10) address";
  if (v6_prefix(a, {0xfe, 0xc0}, 10)) return "a site-local (fec0::/10) address";
  if (v6_prefix(a, {0xff}, 8)) return "a multicast address";
  return "";
}

bool is_v6_loopback(const std::array<uint8_t, 16>& a) {
  for (size_t i = 0; i < 15; ++i) {
    if (a[i] != 0) return false;
  }
  return a[15] == 1;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::optional<Ipv4Host> parse_ipv4_host(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::vector<std::string_view> parts = split(host, '.');
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  std::vector<uint64_t> numbers;
  bool canonical = parts.size() == 4;
  for (std::string_view p : parts) {
    auto n = ipv4_number(p);
    if (!n) return std::nullopt;
    numbers.push_back(*n);
    bool plain = !p.empty() && (p == "0" || p[0] != '0');
    for (char c : p) plain = plain && c >= '0' && c <= '9';
    canonical = canonical && plain && *n <= 255;
  }
  uint64_t address = 0;
  for (size_t i = 0; i + 1 < numbers.size(); ++i) {
    if (numbers[i] > 255) return std::nullopt;
    address |= numbers[i] << (8 * (3 - i));
  }
  uint64_t last = numbers.back();
  if (last >= (UINT64_C(1) << (8 * (5 - numbers.size())))) return std::nullopt;
  address |= last;
  return Ipv4Host{.address = static_cast<uint32_t>(address), .canonical = canonical};
}

std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view text) {
  std::array<uint8_t, 16> out{};
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::vector<uint16_t> head, tail;
  bool compressed = false;
  std::string_view rest = text;
  size_t gap = text.find("::");
  if (gap != std::string_view::npos) {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    compressed = true;
  }
  // Reads the groups of one side; a dotted IPv4 may end the address (two groups).
  enum class Side : uint8_t { kFirst, kLast };
  auto groups = [](std::string_view side, std::vector<uint16_t>& into, Side which) {
    const bool last_side = which == Side::kLast;
    if (side.empty()) return true;
    std::vector<std::string_view> parts = split(side, ':');
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string_view p = parts[i];
      if (last_side && i + 1 == parts.size() && p.find('.') != std::string_view::npos) {
        auto v = parse_ipv4_host(p);
        if (!v || !v->canonical || p.back() == '.') return false;
        into.push_back(static_cast<uint16_t>(v->address >> 16));
        into.push_back(static_cast<uint16_t>(v->address & 0xFFFF));
        continue;
      }
      if (p.empty() || p.size() > 4) return false;
      uint16_t g = 0;
      for (char c : p) {
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return false;
        g = static_cast<uint16_t>(g * 16 + d);
      }
      into.push_back(g);
    }
    return true;
  };
  if (compressed) {
    if (!groups(rest.substr(0, gap), head, Side::kFirst)) return std::nullopt;
    if (!groups(rest.substr(gap + 2), tail, Side::kLast)) return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;
  } else {
    if (!groups(rest, head, Side::kLast)) return std::nullopt;
    if (head.size() != 8) return std::nullopt;
  }
  size_t i = 0;
  for (uint16_t g : head) {
    out[i++] = static_cast<uint8_t>(g >> 8);
    out[i++] = static_cast<uint8_t>(g & 0xFF);
  }
  i = 16 - tail.size() * 2;
  for (uint16_t g : tail) {
    out[i++] = static_cast<uint8_t>(g >> 8);
    out[i++] = static_cast<uint8_t>(g & 0xFF);
  }
  return out;
}

std::optional<Environment> parse_environment(std::string_view name) {
  if (name == "production") return Environment::kProduction;
  if (name == "development") return Environment::kDevelopment;
  return std::nullopt;
}

TargetCheck check_target(std::string_view url, Environment environment) {
  const bool production = environment == Environment::kProduction;
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return {false, "the URL may not hold spaces or control characters"};
    }
    if (c == '\\') return {false, "the URL may not hold a backslash"};
  }
  std::string u = lower(url);
  std::string_view rest;
  bool https = false;
  if (u.starts_with("https://")) {
    https = true;
    rest = std::string_view(u).substr(8);
  } else if (u.starts_with("http://")) {
    rest = std::string_view(u).substr(7);
  } else {
    return {false, "the URL must start with https://"};
  }
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos)
    return {false, "the URL may not hold credentials"};
  std::string host;
  std::string_view port;
  bool v6_literal = false;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return {false, "the URL's host is not valid"};
    host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return {false, "the URL's host is not valid"};
    if (!after.empty()) port = after.substr(1);
    v6_literal = true;
  } else {
    size_t colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (port.size() > 5) return {false, "the URL's port is not valid"};
  for (char c : port) {
    if (c < '0' || c > '9') return {false, "the URL's port is not valid"};
  }
  if (host.empty()) return {false, "the URL has no host"};

  bool loopback = false;
  std::string refusal;
  if (v6_literal) {
    if (host.find('%') != std::string::npos) return {false, "IPv6 zone ids are refused"};
    auto a = parse_ipv6(host);
    if (!a) return {false, "the URL's IPv6 address is not valid"};
    loopback = is_v6_loopback(*a);
    if (!loopback) refusal = v6_refusal(*a);
  } else {
    for (char c : host) {
      if (!host_char(c)) {
        return {false,
                "the URL's host may hold only ASCII letters, digits, '-', '_' and '.' (use the "
                "punycode form of an international name)"};
      }
    }
    if (ends_in_number(host)) {
      auto v4 = parse_ipv4_host(host);
      if (!v4) return {false, "the URL's IPv4 address is not valid"};
      if (!v4->canonical) {
        return {false,
                "an IPv4 address must be written as four decimal numbers (a.b.c.d): single-number, "
                "octal and hex forms are refused"};
      }
      loopback = (v4->address >> 24) == 127;
      if (!loopback) refusal = v4_refusal(v4->address);
    } else {
      std::string name = host;
      if (name.ends_with(".")) name.pop_back();
      if (name.empty() || name.ends_with(".") || name.starts_with(".") ||
          name.find("..") != std::string::npos) {
        return {false, "the URL's host is not valid"};
      }
      if (name == "localhost" || name.ends_with(".localhost")) {
        loopback = true;
      } else if (name.ends_with(".local") || name.ends_with(".internal") ||
                 name.ends_with(".home.arpa") || name.ends_with(".localdomain") ||
                 name.find('.') == std::string::npos) {
        refusal = "a name that resolves only inside a network";
      }
    }
  }
  if (loopback) {
    if (production) return {false, "loopback targets are refused in production"};
    return {true, ""};
  }
  if (!refusal.empty()) {
    return {false,
            "private, link-local and internal addresses are refused: the host is " + refusal};
  }
  if (!https && production) return {false, "targets must be https in production"};
  if (!https) return {false, "http is allowed only to localhost in development"};
  return {true, ""};
}

}  // namespace r2w::alerts
