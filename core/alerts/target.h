#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace r2w::alerts {

// Where a notification may be sent. The check reads only the URL (no DNS: the core does no
// I/O), so it refuses every literal or name that reaches the Worker's own network:
// - IPv4 in any spelling a URL parser accepts (WHATWG: 1 to 4 parts, decimal, octal with a
//   leading 0, hex with 0x: "2130706433", "0x7f.1", "017700000001" are 127.0.0.1); only plain
//   dotted decimal is taken at all, and then not in 0/8, 10/8, 100.64/10 (CGNAT), 127/8,
//   169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15,
//   198.51.100/24, 203.0.113/24, 224/4 (multicast) or 240/4 (reserved, broadcast);
// - IPv6 literals: unspecified, loopback (in any spelling: "[0:0:0:0:0:0:0:1]"), IPv4-mapped
//   and -compatible (::ffff:0:0/96, ::/96), translated (64:ff9b::/96, 64:ff9b:1::/48,
//   ::ffff:0:0:0/96), 6to4 (2002::/16), Teredo (2001::/32), documentation (2001:db8::/32),
//   discard (100::/64), unique-local (fc00::/7), link-local (fe80::/10), site-local
//   (fec0::/10), multicast (ff00::/8), and zone ids;
// - names: localhost and *.localhost (loopback), *.local, *.internal, *.home.arpa,
//   *.localdomain, single-label names, non-ASCII or percent-encoded hosts;
// - URLs with credentials, whitespace or control characters, a backslash, or a bad port.
// Production takes https only and no loopback. Development (ENVIRONMENT=development, the local
// Worker) also takes http, and loopback written plainly (127.0.0.0/8 dotted, [::1] in any
// spelling, localhost, *.localhost), so a receiver on 127.0.0.1 can be tested.
struct TargetCheck {
  bool allowed = false;
  std::string reason;  // why not
};
enum class Environment : uint8_t { kProduction, kDevelopment };
// "production" or "development"; unset for anything else.
std::optional<Environment> parse_environment(std::string_view name);
TargetCheck check_target(std::string_view url, Environment environment);

// An IPv4 host as a WHATWG URL parser reads it (1 to 4 parts; each decimal, octal with a
// leading "0" or hex with "0x"; the last part fills the remaining bytes); unset when the host
// is not an IPv4 address. `canonical` is set when it was written as plain dotted decimal.
struct Ipv4Host {
  uint32_t address = 0;
  bool canonical = false;
};
std::optional<Ipv4Host> parse_ipv4_host(std::string_view host);

// An IPv6 literal (without brackets; RFC 4291 text, "::" and a trailing dotted IPv4 allowed).
std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view text);

}  // namespace r2w::alerts
