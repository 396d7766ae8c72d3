#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w {

// The one JSON value type of r2watch. It lives here, in the bindings: the core works on plain
// structs, and each domain's codec (wasm-bindings/codec/<domain>.{h,cc}) reads and writes them.
using Json = nlohmann::json;

// The deepest nesting of arrays and objects that untrusted JSON may have. The parser and
// every walk over a parsed value recurse once per level, and the wasm stack is small: text
// nested deeper is refused before any recursive code sees it.
inline constexpr uint32_t kMaxJsonDepth = 64;

// How deeply `text` nests arrays and objects, found in one pass without recursion (brackets
// inside strings do not count). Stops counting past `limit` and answers limit + 1 then.
uint32_t json_nesting_depth(std::string_view text, uint32_t limit = kMaxJsonDepth);

// Parses untrusted text without exceptions: a syntax error becomes an "invalid_json" Error,
// text nested deeper than kMaxJsonDepth a "json_too_deep" Error (both HTTP 400), and
// `parse_json_object` refuses anything but a JSON object.
Result<nlohmann::json> parse_json(std::string_view text);
Result<nlohmann::json> parse_json_object(std::string_view text);

// Reads optional, typed fields out of one JSON object. A field that is absent leaves the
// target untouched (so a partial update merges over current values); a field of the wrong
// type or outside its range records an "invalid_field" Error naming it (with `prefix`), and
// later reads are skipped. `finish()` also refuses fields that no read asked for, so a typo
// in a config is an error rather than a silently ignored setting.
class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& object, std::string prefix = "");

  // A non-negative integer in [min, max]; fractions, negatives and strings are refused.
  void read_uint(std::string_view name, uint32_t& out, uint64_t min, uint64_t max);
  // Milliseconds as a non-negative integer in [min, max].
  void read_duration(std::string_view name, Duration& out, Duration min, Duration max);
  // A finite number in [min, max]; `min_exclusive` makes the lower bound open.
  void read_number(std::string_view name, double& out, double min, double max, bool min_exclusive);
  void read_string(std::string_view name, std::string& out);
  void read_bool(std::string_view name, bool& out);
  // Marks a field as known without reading it (it is handled by the caller).
  bool has(std::string_view name);

  void fail(std::string_view name, std::string message);
  bool ok() const { return !error_.has_value(); }
  // The first error, or an error for an unknown field, or nothing.
  std::optional<Error> finish();

 private:
  const nlohmann::json* find(std::string_view name);
  std::string qualified(std::string_view name) const;

  const nlohmann::json& object_;
  std::string prefix_;
  std::set<std::string, std::less<>> seen_;
  std::optional<Error> error_;
};

}  // namespace r2w
