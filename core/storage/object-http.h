#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::storage {

// How a read of one object is answered, as HTTP says (RFC 9110 sections 13 and 14): conditional
// requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range) and
// single byte ranges. Pure functions of the request's header values and the object's version.

// The largest offset or length a range carries through: 2^53 - 1, which JSON numbers hold
// exactly in JavaScript, far above R2's largest object (5 TiB). Larger digits saturate here.
inline constexpr uint64_t kMaxRangeNumber = (uint64_t{1} << 53) - 1;
// A Range or validator header longer than this is ignored (no client needs more).
inline constexpr size_t kMaxConditionalHeaderBytes = 8 * 1024;

// One range of a Range header: "bytes=first-last", "bytes=first-" or "bytes=-suffix".
struct RangeSpec {
  enum class Kind : uint8_t { kFromTo, kFrom, kSuffix };
  Kind kind = Kind::kFrom;
  uint64_t first = 0;   // kFromTo, kFrom
  uint64_t last = 0;    // kFromTo (inclusive)
  uint64_t suffix = 0;  // kSuffix: the last `suffix` bytes
};

// A Range header value parsed. nullopt when the header must be ignored (RFC 9110 14.2): not
// the "bytes" unit, malformed (last < first, no digits, junk), or more than one range (serving
// the whole object answers a multi-range request correctly). Whitespace around the range is
// allowed; the unit is case-insensitive.
std::optional<RangeSpec> parse_range(std::string_view header);

// What R2 is asked for (its `range` option): offset and length, offset alone, or a suffix.
struct R2Range {
  std::optional<uint64_t> offset;
  std::optional<uint64_t> length;
  std::optional<uint64_t> suffix;
};
R2Range r2_range(const RangeSpec& spec);

// Bytes [first, first + length) of an object.
struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
  auto operator<=>(const ByteRange&) const = default;
};

// The bytes `spec` selects of an object of `size` bytes; nullopt when unsatisfiable (first at
// or past the end, a zero suffix, or any range of an empty object). A last byte past the end
// is the end.
std::optional<ByteRange> resolve_range(const RangeSpec& spec, uint64_t size);

// An HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
// "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994" forms that a
// recipient must accept) as seconds since the epoch; nullopt when it is not a valid date.
// A two-digit RFC 850 year is 19yy from 70 and 20yy below.
std::optional<int64_t> parse_http_date(std::string_view text);
// IMF-fixdate of `seconds` since the epoch.
std::string format_http_date(int64_t seconds);

// The version of an object a read found.
struct ObjectVersion {
  std::string etag;  // R2's etag, unquoted
  uint64_t size = 0;
  TimePoint uploaded{};
};

enum class ReadMethod : uint8_t { kGet, kHead };

// The header values of a read that bear on its answer (absent: nullopt).
struct ReadRequest {
  ReadMethod method = ReadMethod::kGet;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
  std::optional<std::string> if_modified_since;
  std::optional<std::string> if_unmodified_since;
  std::optional<std::string> if_range;
  std::optional<std::string> range;
};

enum class ReadOutcome : uint8_t {
  kWhole,               // 200, the whole object
  kPartial,             // 206, `range`
  kNotModified,         // 304, no body
  kPreconditionFailed,  // 412
  kRangeNotSatisfiable  // 416, Content-Range: bytes */size
};

struct ReadAnswer {
  ReadOutcome outcome = ReadOutcome::kWhole;
  int status = 200;
  std::optional<ByteRange> range;  // kPartial
  // Response headers every answer carries (etag, last-modified, accept-ranges) and those of
  // its outcome (content-length, content-range), lowercase names.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Evaluates the preconditions in RFC 9110 13.2.2's order (If-Match, else If-Unmodified-Since;
// then If-None-Match, else If-Modified-Since; then If-Range and Range for a GET) against
// `object`. Dates compare at one-second granularity (Last-Modified's); an invalid date is
// ignored; If-Match and If-Range compare entity tags strongly, If-None-Match weakly.
ReadAnswer answer_read(const ReadRequest& request, const ObjectVersion& object);

// The preconditions of a write (If-Match, If-None-Match on a PUT), checked and normalized: R2
// applies them atomically with the write ("If-None-Match: *" creates only; "If-Match: <etag>"
// replaces only that version). Each is "*" or a list of entity tags; anything else is refused
// (422 naming the header) rather than turned into an unconditional write.
struct WriteConditions {
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};
Result<WriteConditions> write_conditions(const std::optional<std::string>& if_match,
                                         const std::optional<std::string>& if_none_match);

// The R2 range a read asks for before it knows the object: the Range of a GET (nullopt for a
// HEAD, for no or an ignorable Range).
std::optional<R2Range> range_to_fetch(const ReadRequest& request);

}  // namespace r2w::storage
