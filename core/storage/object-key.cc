#include "core/storage/object-key.h"

namespace r2w::storage {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

std::optional<Error> check_text(std::string_view text, std::string_view field) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      return invalid_field(std::string(field),
                           std::string(field) + " must not contain control characters");
    }
    size_t len = utf8_sequence(text, i);
    if (len == 0) {
      return invalid_field(std::string(field), std::string(field) + " must be valid UTF-8");
    }
    i += len;
  }
  return std::nullopt;
}

std::optional<Error> check_path(std::string_view text, std::string_view field) {
  std::string f(field);
  if (text.size() > kMaxKeyBytes) {
    return invalid_field(f, f + " must be at most 1024 bytes long");
  }
  if (auto e = check_text(text, field)) return e;
  if (text.starts_with("/")) return invalid_field(f, f + " must not start with /");
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return invalid_field(f, f + " must not contain . or .. path segments");
    }
    start = end + 1;
  }
  if (text.starts_with(kReservedPrefix) ||
      text == kReservedPrefix.substr(0, kReservedPrefix.size() - 1)) {
    return invalid_field(
        f, f + " must not be under the reserved prefix " + std::string(kReservedPrefix));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> validate_key(std::string_view key, std::string_view field) {
  if (key.empty()) return invalid_field(std::string(field), std::string(field) + " is required");
  return check_path(key, field);
}

Result<ListQuery> parse_list_query(std::optional<std::string_view> prefix,
                                   std::optional<std::string_view> cursor,
                                   std::optional<std::string_view> limit) {
  ListQuery q;
  if (prefix && !prefix->empty()) {
    if (auto e = check_path(*prefix, "prefix")) return *e;
    q.prefix = std::string(*prefix);
  }
  if (cursor && !cursor->empty()) {
    if (cursor->size() > 4096) return invalid_field("cursor", "cursor must be at most 4096 bytes");
    if (auto e = check_text(*cursor, "cursor")) return *e;
    q.cursor = std::string(*cursor);
  }
  if (limit) {
    bool digits = !limit->empty() && limit->size() <= 4;
    for (char c : *limit) digits = digits && c >= '0' && c <= '9';
    uint32_t value = 0;
    for (char c : *limit) value = digits ? value * 10 + static_cast<uint32_t>(c - '0') : 0;
    if (!digits || value < 1 || value > kMaxListLimit) {
      return invalid_field("limit", "limit must be a whole number from 1 to 1000");
    }
    q.limit = value;
  }
  return q;
}

namespace {

// The query parameters `route` takes.
std::span<const std::string_view> query_names_of(StorageRoute route) {
  static constexpr std::string_view kObject[] = {"user"};
  static constexpr std::string_view kList[] = {"prefix", "cursor", "limit", "user"};
  static constexpr std::string_view kUploadStart[] = {"uploads", "user"};
  switch (route) {
    case StorageRoute::kList:
      return kList;
    case StorageRoute::kUploadStart:
      return kUploadStart;
    case StorageRoute::kObject:
    case StorageRoute::kUploads:
      break;
  }
  return kObject;
}

}  // namespace

std::optional<Error> check_query_names(StorageRoute route, std::span<const std::string> names) {
  std::span<const std::string_view> allowed = query_names_of(route);
  for (const std::string& name : names) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      return Error{
          .code = "invalid_query", .message = "unknown query parameter " + name, .field = name};
    }
  }
  return std::nullopt;
}

}  // namespace r2w::storage
