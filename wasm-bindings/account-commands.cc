// Commands of the account's figures (Cloudflare's GraphQL Analytics API, every bucket): the
// collector's runs (the query of each window, the verdict on each answer, the rows to store),
// its health, the account's usage for the cost commands, the reconciliation with r2watch's own
// counts and the bucket list. The one JSON codec of this domain: core/account/ takes and
// returns plain structs.
//
// Row arrays (compact, as D1 stores them):
//   operations hour rows   [hour_ms, bucket, requests, internal_errors, [[action_type,
//                          action_status, status_code, requests, response_bytes], ...]]
//                          (one per bucket and hour: written by account_ingest as JSON texts)
//   operations day rows    [date, bucket, action_type, status_code, requests, response_bytes]
//   storage day rows       [date, bucket, storage_class, payload_bytes, metadata_bytes,
//                          objects, pending_uploads]
//   last-day counts        [bucket, action_type, action_status, requests]
//   r2watch's own counts   [date, bucket, operation, calls]
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/account/action-class.h"
#include "core/account/collector.h"
#include "core/account/figures.h"
#include "core/account/storage-classes.h"
#include "core/common/civil-date.h"
#include "core/cost/money.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using account::Dataset;

namespace {

// ---- small readers -----------------------------------------------------------------------

// The member `key` of `j` as it is (a long list is not copied), or an empty list when absent.
const Json& list_member(const Json& j, std::string_view key) {
  static const Json kEmpty = Json::array();
  return j.is_object() && j.contains(key) ? j[key] : kEmpty;
}

std::optional<uint64_t> whole(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return std::nullopt;  // negative
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d >= 0 && std::floor(d) == d && d <= 9.007199254740992e15) {
      return static_cast<uint64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<TimePoint> ms_of(const Json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null() || !it->is_number_integer()) return std::nullopt;
  return from_epoch_ms(it->get<int64_t>());
}

Json ms_json(const std::optional<TimePoint>& t) {
  return t ? Json(to_epoch_ms(*t)) : Json(nullptr);
}

std::string iso_time(TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t in_day = ((ms % 86'400'000) + 86'400'000) % 86'400'000;
  char buf[16];
  auto two = [&](int64_t v, int at) {
    buf[at] = static_cast<char>('0' + v / 10);
    buf[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(in_day / 3'600'000, 0);
  buf[2] = ':';
  two(in_day / 60'000 % 60, 3);
  buf[5] = ':';
  two(in_day / 1000 % 60, 6);
  buf[8] = 0;
  return format_date(date_of(t)) + "T" + buf + "Z";
}

// "YYYY-MM-DDTHH:MM:SSZ" (GraphQL Time) -> the time point.
std::optional<TimePoint> parse_iso_time(std::string_view s) {
  if (s.size() < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s.back() != 'Z') {
    return std::nullopt;
  }
  auto d = parse_date(s.substr(0, 10));
  if (!d) return std::nullopt;
  auto num = [&](size_t at) -> int {
    if (!std::isdigit(static_cast<unsigned char>(s[at])) ||
        !std::isdigit(static_cast<unsigned char>(s[at + 1]))) {
      return -1;
    }
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
  };
  int h = num(11), m = num(14), sec = num(17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return std::nullopt;
  return from_epoch_ms(days_since_epoch(*d) * 86'400'000 + h * 3'600'000 + m * 60'000 + sec * 1000);
}

// ---- options, state, run -----------------------------------------------------------------

// "options": {"limit", "operations_window_hours", "storage_window_days", "max_queries_per_run",
// "repull_hours", "retention_days"}, all optional.
Result<account::CollectorOptions> options_of(const Json& in) {
  account::CollectorOptions o;
  auto it = in.find("options");
  if (it == in.end() || it->is_null()) return o;
  if (!it->is_object()) return invalid_field("options", "options must be an object");
  FieldReader r(*it, "options");
  uint32_t window_hours = static_cast<uint32_t>(o.operations_window.count());
  uint32_t repull = static_cast<uint32_t>(o.repull.count());
  r.read_uint("limit", o.limit, 0, 1'000'000);
  r.read_uint("operations_window_hours", window_hours, 0, 100'000);
  r.read_uint("storage_window_days", o.storage_window_days, 0, 1000);
  r.read_uint("max_queries_per_run", o.max_queries_per_run, 0, 1000);
  r.read_uint("repull_hours", repull, 0, 1000);
  r.read_uint("retention_days", o.retention_days, 0, 1000);
  if (auto err = r.finish()) return *err;
  o.operations_window = std::chrono::hours(window_hours);
  o.repull = std::chrono::hours(repull);
  auto made = account::CollectorOptions::create(o);
  if (!made.ok()) return prefixed(made.error(), "options");
  return made;
}

account::CollectorState state_of(const Json& in) {
  account::CollectorState s;
  auto it = in.find("state");
  if (it == in.end() || !it->is_object()) return s;  // none stored yet: a first run
  const Json& j = *it;
  s.operations_until = ms_of(j, "operations_until_ms");
  s.storage_until = ms_of(j, "storage_until_ms");
  s.retry_at = ms_of(j, "retry_at_ms");
  s.last_error_at = ms_of(j, "last_error_at_ms");
  s.last_stored_at = ms_of(j, "last_stored_at_ms");
  s.last_run_at = ms_of(j, "last_run_at_ms");
  if (auto f = j.find("consecutive_failures"); f != j.end() && f->is_number_unsigned()) {
    s.consecutive_failures = static_cast<uint32_t>(std::min<uint64_t>(f->get<uint64_t>(), 1000));
  }
  if (auto e = j.find("last_error"); e != j.end() && e->is_string()) {
    s.last_error = e->get<std::string>();
  }
  if (auto g = j.find("operations_groups_per_hour"); g != j.end() && g->is_number_unsigned()) {
    s.operations_groups_per_hour =
        static_cast<uint32_t>(std::min<uint64_t>(g->get<uint64_t>(), 10'000'000));
  }
  return s;
}

Json state_json(const account::CollectorState& s) {
  return {{"version", 1},
          {"operations_until_ms", ms_json(s.operations_until)},
          {"storage_until_ms", ms_json(s.storage_until)},
          {"retry_at_ms", ms_json(s.retry_at)},
          {"consecutive_failures", s.consecutive_failures},
          {"last_error", s.last_error},
          {"last_error_at_ms", ms_json(s.last_error_at)},
          {"last_stored_at_ms", ms_json(s.last_stored_at)},
          {"last_run_at_ms", ms_json(s.last_run_at)},
          {"operations_groups_per_hour", s.operations_groups_per_hour}};
}

Result<account::CollectorRun> run_of(const Json& in) {
  account::CollectorRun run;
  auto it = in.find("run");
  if (it == in.end() || !it->is_object()) return invalid_field("run", "run must be an object");
  const Json& j = *it;
  auto q = j.find("queue");
  if (q == j.end() || !q->is_array()) return invalid_field("run.queue", "run.queue must be a list");
  for (const Json& w : *q) {
    if (!w.is_array() || w.size() != 3 || !w[0].is_string() || !w[1].is_number_integer() ||
        !w[2].is_number_integer()) {
      return invalid_field("run.queue", "run.queue holds [dataset, start_ms, end_ms] windows");
    }
    auto d = account::parse_dataset_key(w[0].get<std::string>());
    if (!d) return invalid_field("run.queue", "run.queue: unknown dataset");
    run.queue.push_back(
        {*d, from_epoch_ms(w[1].get<int64_t>()), from_epoch_ms(w[2].get<int64_t>())});
  }
  if (auto n = j.find("queries_left"); n != j.end() && n->is_number_unsigned()) {
    run.queries_left = static_cast<uint32_t>(std::min<uint64_t>(n->get<uint64_t>(), 1000));
  }
  if (auto e = j.find("error"); e != j.end() && e->is_string()) run.error = e->get<std::string>();
  return run;
}

Json run_json(const account::CollectorRun& run) {
  Json q = Json::array();
  for (const account::Window& w : run.queue) {
    q.push_back({account::dataset_key(w.dataset), to_epoch_ms(w.start), to_epoch_ms(w.end)});
  }
  return {{"queue", q}, {"queries_left", run.queries_left}, {"error", run.error}};
}

// The GraphQL request of a window, as Cloudflare's API takes it: {"query", "variables"}. Every
// figure and dimension has a one-letter alias (the answer is megabytes of groups: the names
// would be most of it); AnswerReader reads them back.
Json query_json(const account::Window& w, const std::string& account_id, uint32_t limit) {
  std::string query;
  if (w.dataset == Dataset::kOperations) {
    query =
        "query R2Operations($accountTag: string!, $start: Time!, $end: Time!, $limit: uint64!) "
        "{ viewer { accounts(filter: {accountTag: $accountTag}) { "
        "r2OperationsAdaptiveGroups(limit: $limit, filter: {datetime_geq: $start, datetime_lt: "
        "$end}, orderBy: [datetimeHour_ASC]) { s: sum { r: requests b: responseObjectSize } "
        "d: dimensions { h: datetimeHour n: bucketName a: actionType t: actionStatus "
        "c: responseStatusCode } } } } }";
  } else {
    query =
        "query R2Storage($accountTag: string!, $start: Time!, $end: Time!, $limit: uint64!) "
        "{ viewer { accounts(filter: {accountTag: $accountTag}) { "
        "r2StorageAdaptiveGroups(limit: $limit, filter: {datetime_geq: $start, datetime_lt: "
        "$end}, orderBy: [date_ASC]) { m: max { p: payloadSize x: metadataSize o: objectCount "
        "u: uploadCount } d: dimensions { y: date n: bucketName k: storageClass } } } } }";
  }
  Json body = {{"query", query},
               {"variables",
                {{"accountTag", account_id},
                 {"start", iso_time(w.start)},
                 {"end", iso_time(w.end)},
                 {"limit", limit}}}};
  return {{"dataset", account::dataset_key(w.dataset)},
          {"start_ms", to_epoch_ms(w.start)},
          {"end_ms", to_epoch_ms(w.end)},
          {"body", body.dump()}};
}

Json next_query(const account::CollectorRun& run, const std::string& account_id, uint32_t limit) {
  if (run.queue.empty()) return nullptr;
  return query_json(run.queue.front(), account_id, limit);
}

// ---- reading an answer ---------------------------------------------------------------------

// Equal bytes, compared 8 at a time: std::memcmp is a call into libc in the wasm build, and
// the reader compares a few short texts per group (the layout's keys, the hour, the bucket).
inline bool same_bytes(const char* a, const char* b, size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
  }
  if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    if (x != y) return false;
    a += 4, b += 4, n -= 4;
  }
  for (; n > 0; --n) {
    if (*a++ != *b++) return false;
  }
  return true;
}
inline bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

// A value as the scanner hands it over: only what the reader needs of it.
struct Value {
  enum Kind : uint8_t { kNull, kWhole, kNegative, kString, kOther } kind = kNull;
  uint64_t whole = 0;
  std::string_view text;
};

// Reads a JSON text piece by piece for a reader that knows the shape it expects (a recursive
// descent): strings are views into the text (or, when they hold escapes, into a scratch buffer
// valid until the next string), nothing is allocated per token. Any syntax error refuses the
// text; containers nest at most kMaxDepth deep. The answers here are megabytes of small groups:
// this is the collector's hot loop.
class Lexer {
 public:
  static constexpr int kMaxDepth = 64;

  explicit Lexer(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  // Whitespace skipped, the next character is `c` (not consumed).
  bool at(char c) {
    skip();
    return p_ < end_ && *p_ == c;
  }
  bool at_end() {
    skip();
    return p_ == end_;
  }

  // Where the lexer stands, for a reader that matches an exact layout itself and then moves
  // the lexer past it (AnswerReader::compact_ops_group).
  const char* pos() const { return p_; }
  const char* end() const { return end_; }
  void seek(const char* p) { p_ = p; }
  // True for the characters that end the plain run of a string (quote, backslash, controls).
  static bool string_stop(char c) { return kStringStop[static_cast<unsigned char>(c)]; }

  // An object: `on_key(key)` reads each member's value (and returns false on a syntax error).
  template <class OnKey>
  bool object(int depth, OnKey&& on_key) {
    if (depth > kMaxDepth || !at('{')) return false;
    ++p_;
    if (at('}')) return ++p_, true;
    for (;;) {
      std::string_view k;
      if (!at('"') || !string(k)) return false;
      if (!at(':')) return false;
      ++p_;
      skip();
      if (!on_key(k)) return false;
      if (at(',')) {
        ++p_;
        continue;
      }
      if (!at('}')) return false;
      ++p_;
      return true;
    }
  }

  // An array: `on_element()` reads each element.
  template <class OnElement>
  bool array(int depth, OnElement&& on_element) {
    if (depth > kMaxDepth || !at('[')) return false;
    ++p_;
    if (at(']')) return ++p_, true;
    for (;;) {
      skip();
      if (!on_element()) return false;
      if (at(',')) {
        ++p_;
        continue;
      }
      if (!at(']')) return false;
      ++p_;
      return true;
    }
  }

  // Any value: a scalar into `v`, a container read through (and `v` = kOther).
  bool value(int depth, Value& v) {
    skip();
    if (p_ >= end_) return false;
    const char c = *p_;
    if (c == '{') {
      v = Value{.kind = Value::kOther};
      return object(depth, [&](std::string_view) {
        Value ignored;
        return value(depth + 1, ignored);
      });
    }
    if (c == '[') {
      v = Value{.kind = Value::kOther};
      return array(depth, [&] {
        Value ignored;
        return value(depth + 1, ignored);
      });
    }
    if (c == '"') {
      std::string_view text;
      if (!string(text)) return false;
      v = Value{.kind = Value::kString, .text = text};
      return true;
    }
    if (c == 't' || c == 'f' || c == 'n') {
      std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (static_cast<size_t>(end_ - p_) < word.size() ||
          std::string_view(p_, word.size()) != word) {
        return false;
      }
      p_ += word.size();
      v = Value{.kind = c == 'n' ? Value::kNull : Value::kOther};
      return true;
    }
    return number(v);
  }

 private:
  void skip() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hex_digit_value(*p_++);
      if (d < 0) return false;
      out = out * 16 + static_cast<uint32_t>(d);
    }
    return true;
  }

  void utf8(uint32_t cp) {
    if (cp < 0x80) {
      scratch_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      scratch_ += static_cast<char>(0xC0 | (cp >> 6));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      scratch_ += static_cast<char>(0xE0 | (cp >> 12));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      scratch_ += static_cast<char>(0xF0 | (cp >> 18));
      scratch_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // At an opening quote: the string's text (escapes decoded).
  bool string(std::string_view& out) {
    const char* start = ++p_;
    // Plain characters are skipped with one table look-up each; the first other one decides.
    while (p_ < end_ && !kStringStop[static_cast<unsigned char>(*p_)]) ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '"') {
      out = std::string_view(start, static_cast<size_t>(p_ - start));
      ++p_;
      return true;
    }
    if (*p_ != '\\') return false;  // a control character
    scratch_.assign(start, p_);
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') {
        out = scratch_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        scratch_ += c;
        continue;
      }
      if (p_ >= end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch_ += e;
          break;
        case 'b':
          scratch_ += '\b';
          break;
        case 'f':
          scratch_ += '\f';
          break;
        case 'n':
          scratch_ += '\n';
          break;
        case 'r':
          scratch_ += '\r';
          break;
        case 't':
          scratch_ += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          utf8(cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // A number as JSON writes it. Whole: an integer (or one with a zero fraction) up to 2^64 - 1.
  bool number(Value& v) {
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    bool overflow = false;
    uint64_t n = 0;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        const uint64_t d = static_cast<uint64_t>(*p_++ - '0');
        if (n > (UINT64_MAX - d) / 10) overflow = true;
        n = n * 10 + d;
      }
    }
    bool fraction_nonzero = false, exponent = false;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') fraction_nonzero |= *p_++ != '0';
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (negative && (n != 0 || fraction_nonzero || exponent)) {
      v = Value{.kind = Value::kNegative};
    } else if (overflow || fraction_nonzero || exponent) {
      v = Value{.kind = Value::kOther};
    } else {
      v = Value{.kind = Value::kWhole, .whole = n};
    }
    return true;
  }

  // Characters that end the plain run of a string: the quote, the backslash, control characters.
  static constexpr std::array<bool, 256> kStringStop = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();

  const char* p_;
  const char* end_;
  std::string scratch_;
};

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  bool plain = true;
  for (char c : s) plain &= c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  if (plain) {
    out += s;
    out += '"';
    return;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

// Writes n's digits at `at` (room for 20); returns the end.
char* write_digits(char* at, uint64_t n) {
  char buf[20];
  char* b = buf + sizeof buf;
  do {
    *--b = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  return std::copy(b, buf + sizeof buf, at);
}

void append_number(std::string& out, uint64_t n) {
  char buf[24];
  char* e = buf + sizeof buf;
  char* b = e;
  do {
    *--b = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  out.append(b, e);
}

void append_number(std::string& out, int64_t n) {
  if (n < 0) {
    out += '-';
    append_number(out, static_cast<uint64_t>(-(n + 1)) + 1);
  } else {
    append_number(out, static_cast<uint64_t>(n));
  }
}

// The rows of a window as D1 stores them, written as JSON texts of at most kPartBytes each
// (one INSERT ... SELECT FROM json_each(?) per part; D1 binds at most 2 MB per value):
//   operations: [hour_ms, bucket, requests, internal_errors, [[action_type, action_status,
//                status_code, requests, response_bytes], ...]]  (one row per bucket and hour)
//   storage:    [date, bucket, storage_class, payload_bytes, metadata_bytes, objects,
//                pending_uploads]
struct Parsed {
  std::string problem;
  size_t groups = 0;
  size_t rows = 0;
  std::vector<std::string> parts;
  // An operations answer cut off at the limit, in hour order: the last hour read. `parts` then
  // hold the hours before it only.
  std::optional<TimePoint> complete_until;
};
constexpr size_t kPartBytes = 512 * 1024;

// Reads a window's answer in one pass (the query's aliases: operations groups are
// {"s": {"r": requests, "b": responseObjectSize}, "d": {"h": datetimeHour, "n": bucketName,
// "a": actionType, "t": actionStatus, "c": responseStatusCode}}; storage groups are
// {"m": {"p": payloadSize, "x": metadataSize, "o": objectCount, "u": uploadCount},
// "d": {"y": date, "n": bucketName, "k": storageClass}}): the GraphQL `errors`, the dataset's
// groups under data.viewer.accounts[0], and the first thing wrong as the problem. Operations
// groups are summed per bucket and hour as they stream by.
class AnswerReader {
 public:
  AnswerReader(const account::Window& w, uint32_t limit, Parsed& out)
      : window_(w),
        ops_(w.dataset == Dataset::kOperations),
        dataset_(account::dataset_name(w.dataset)),
        limit_(limit),
        out_(out) {}

  // Reads the whole text: {"data": {"viewer": {"accounts": [{<dataset>: [groups]}]}},
  // "errors": ...}; anything else in it is read through (and must be JSON).
  void read(std::string_view text) {
    text_begin_ = text.data();
    text_end_ = text.data() + text.size();
    Lexer lx(text);
    bool parsed = lx.at('{') && lx.object(1, [&](std::string_view k) {
      if (k == "data" && lx.at('{')) return data(lx);
      if (k == "errors") return errors(lx);
      Value ignored;
      return lx.value(2, ignored);
    });
    finish(parsed && lx.at_end());
  }

 private:
  bool data(Lexer& lx) {
    return lx.object(2, [&](std::string_view k) {
      if (k != "viewer" || !lx.at('{')) return skip(lx, 3);
      return lx.object(3, [&](std::string_view k2) {
        if (k2 != "accounts" || !lx.at('[')) return skip(lx, 4);
        return lx.array(4, [&] {
          if (++accounts_ != 1 || !lx.at('{')) return skip(lx, 5);
          return lx.object(5, [&](std::string_view k3) {
            if (k3 != dataset_ || !lx.at('[')) return skip(lx, 6);
            groups_found_ = true;
            return lx.array(6, [&] { return group(lx); });
          });
        });
      });
    });
  }

  bool errors(Lexer& lx) {
    if (lx.at('n')) return skip(lx, 2);  // "errors": null
    errors_ = true;
    if (!lx.at('[')) return skip(lx, 2);
    bool first = true;
    return lx.array(2, [&] {
      if (!first || !lx.at('{')) return skip(lx, 3);
      first = false;
      return lx.object(3, [&](std::string_view k) {
        Value v;
        if (!lx.value(4, v)) return false;
        if (k == "message" && v.kind == Value::kString) error_message_ = v.text;
        return true;
      });
    });
  }

  static bool skip(Lexer& lx, int depth) {
    Value ignored;
    return lx.value(depth, ignored);
  }

  // One group: {"s" | "m": {figures}, "d": {dimensions}}.
  bool group(Lexer& lx) {
    ++groups_;
    if (ops_ && building() && compact_ops_group(lx)) return true;
    if (!lx.at('{')) {
      fail_group("is not an object");
      return skip(lx, 7);
    }
    if (!building()) return skip(lx, 7);  // past the limit, or after a problem: read through
    begin_group();
    const char figures_key = ops_ ? 's' : 'm';
    bool ok = lx.object(7, [&](std::string_view k) {
      if (k.size() == 1 && k[0] == figures_key && lx.at('{')) {
        has_figures_ = true;
        return lx.object(8, [&](std::string_view name) {
          Value v;
          if (!lx.value(9, v)) return false;
          figure(name, v);
          return true;
        });
      }
      if (k == "d" && lx.at('{')) {
        has_dimensions_ = true;
        return lx.object(8, [&](std::string_view name) {
          Value v;
          if (!lx.value(9, v)) return false;
          dimension(name, v);
          return true;
        });
      }
      return skip(lx, 8);
    });
    if (ok) end_group();
    return ok;
  }

  // The fast path of an operations group, the collector's hot loop: the exact layout that
  // Cloudflare writes for the query (a GraphQL answer keeps the selection's order, compact):
  //   {"s":{"r":N,"b":N},"d":{"h":"T","n":"B","a":"A","t":"S","c":N}}
  // with whole numbers of at most 16 digits and strings without escapes, read with plain
  // pointer steps. Anything else (whitespace, another order, an escape, a fraction, a sign, a
  // field missing or added) returns false having consumed nothing, and the general reader
  // below reads the group and judges it.
  bool compact_ops_group(Lexer& lx) {
    const char* p = lx.pos();
    const char* const e = lx.end();
    auto lit = [&](std::string_view s) {
      if (static_cast<size_t>(e - p) < s.size() || !same_bytes(p, s.data(), s.size())) {
        return false;
      }
      p += s.size();
      return true;
    };
    auto number = [&](uint64_t& out) {
      const char* const b = p;
      uint64_t n = 0;
      while (p < e && p - b < 16 && *p >= '0' && *p <= '9')
        n = n * 10 + static_cast<uint64_t>(*p++ - '0');
      if (p == b || (*b == '0' && p - b > 1)) return false;
      if (p < e && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')) return false;
      out = n;
      return true;
    };
    // A string's plain run, 8 bytes at a time: the first quote, backslash or control byte of
    // each word is found with the usual bit tricks (the lowest flag is exact).
    auto text = [&](std::string_view& out) {
      const char* const b = p;
      constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
      auto zero_byte = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
      for (;;) {
        if (e - p < 8) {
          while (p < e && !Lexer::string_stop(*p)) ++p;
          break;
        }
        uint64_t x;
        std::memcpy(&x, p, 8);
        const uint64_t stop = zero_byte(x ^ (kOnes * '"')) | zero_byte(x ^ (kOnes * '\\')) |
                              ((x - kOnes * 0x20) & ~x & kHighs);
        if (stop != 0) {
          p += std::countr_zero(stop) / 8;
          break;
        }
        p += 8;
      }
      if (p >= e || *p != '"') return false;
      out = std::string_view(b, static_cast<size_t>(p - b));
      ++p;
      return true;
    };
    // The hour and the bucket mostly repeat the group before's: compared at once with the
    // last plain text this path read (a view into the answer), scanned only when they differ.
    auto again = [&](std::string_view& last, std::string_view& out) {
      const size_t n = last.size();
      if (n > 0 && static_cast<size_t>(e - p) > n && p[n] == '"' && same_bytes(p, last.data(), n)) {
        out = std::string_view(p, n);
        p += n + 1;
        return true;
      }
      if (!text(out)) return false;
      last = out;
      return true;
    };
    uint64_t requests = 0, bytes = 0, code = 0;
    std::string_view hour, bucket, action, status;
    if (!(lit(R"({"s":{"r":)") && number(requests) && lit(R"(,"b":)") && number(bytes) &&
          lit(R"(},"d":{"h":")") && again(fast_hour_, hour) && lit(R"(,"n":")") &&
          again(fast_bucket_, bucket) && lit(R"(,"a":")") && text(action) && lit(R"(,"t":")") &&
          text(status) && lit(R"(,"c":)") && number(code) && lit("}}"))) {
      return false;
    }
    lx.seek(p);
    begin_group();
    has_figures_ = has_dimensions_ = true;
    figures_[0] = requests;
    figures_[1] = bytes;
    hour_ = hour;
    bucket_ = bucket;
    action_ = action;
    status_ = status;
    code_ = code;
    end_group();
    return true;
  }

  // After the read: the problem, if any, and the rows.
  void finish(bool parsed) {
    if (!parsed) {
      out_ = Parsed{.problem = "the answer is not a JSON object"};
    } else if (errors_) {
      if (error_message_.size() > 200) error_message_ = error_message_.substr(0, 200) + "...";
      out_ = Parsed{.problem = "the answer has GraphQL errors" +
                               (error_message_.empty() ? "" : ": " + error_message_)};
    } else if (!groups_found_ || accounts_ != 1) {
      out_ = Parsed{.problem = "data.viewer.accounts[0]." + std::string(dataset_) + " is missing"};
    } else {
      out_.groups = groups_;
      out_.problem = problem_;
      const bool cut_off = groups_ >= limit_;
      if (!problem_.empty() || cut_off) {
        // Unusable, or cut off (asked again): nothing of it is stored...
        out_.parts.clear();
        out_.rows = 0;
      }
      if (problem_.empty() && cut_off && ops_ && ordered_ && last_hour_ms_) {
        // ... but the hours before the last one of an answer in hour order are complete.
        out_.complete_until = from_epoch_ms(*last_hour_ms_);
        write_parts(*last_hour_ms_);
      } else if (problem_.empty() && !cut_off && ops_) {
        write_parts(INT64_MAX);  // storage rows were written as they came
      }
      for (std::string& p : out_.parts) p += ']';
    }
  }

  // One bucket's hour: its totals and its groups, written as the row's JSON list.
  struct BucketHour {
    uint64_t requests = 0;
    uint64_t internal_errors = 0;
    std::string groups;
  };

  bool building() const { return problem_.empty() && groups_ < limit_; }

  void begin_group() {
    has_figures_ = has_dimensions_ = false;
    figures_.fill(std::nullopt);
    figure_bad_ = -1;
    hour_ = bucket_ = action_ = status_ = {};
    storage_class_ = cost::StorageClass::kStandard;
    storage_class_bad_ = false;
    code_.reset();
    code_bad_ = false;
  }

  void fail_group(const std::string& what) {
    if (problem_.empty()) {
      problem_ = std::string(dataset_) + "[" + std::to_string(groups_ - 1) + "]." + what;
    }
  }

  // The figures' aliases in the query, and their names in Cloudflare's schema (for messages).
  static constexpr std::string_view kOpsAlias[] = {"r", "b"};
  static constexpr std::string_view kOpsName[] = {"requests", "responseObjectSize"};
  static constexpr std::string_view kStorageAlias[] = {"p", "x", "o", "u"};
  static constexpr std::string_view kStorageName[] = {"payloadSize", "metadataSize", "objectCount",
                                                      "uploadCount"};
  std::span<const std::string_view> aliases() const {
    return ops_ ? std::span<const std::string_view>(kOpsAlias)
                : std::span<const std::string_view>(kStorageAlias);
  }
  std::string_view figure_name(size_t i) const { return ops_ ? kOpsName[i] : kStorageName[i]; }

  void figure(std::string_view alias, const Value& v) {
    if (!building() || alias.size() != 1) return;
    auto names = aliases();
    for (size_t i = 0; i < names.size(); ++i) {
      if (alias[0] != names[i][0]) continue;
      if (v.kind == Value::kWhole) {
        figures_[i] = v.whole;
      } else if (figure_bad_ < 0) {
        figure_bad_ = static_cast<int>(i);
      }
    }
  }

  void dimension(std::string_view alias, const Value& v) {
    if (!building() || alias.size() != 1) return;
    const char a = alias[0];
    if (ops_ && a == 'c') {
      code_ = v.kind == Value::kWhole ? std::optional<uint64_t>(v.whole) : std::nullopt;
      if (v.kind != Value::kWhole) code_bad_ = true;
      return;
    }
    if (!ops_ && a == 'k') {
      // R2's storage classes: Standard and InfrequentAccess (the S3 API's STANDARD and
      // STANDARD_IA); none given (null) is Standard.
      if (v.kind == Value::kNull) return;
      if (v.kind == Value::kString && (v.text == "Standard" || v.text == "STANDARD")) {
        storage_class_ = cost::StorageClass::kStandard;
      } else if (v.kind == Value::kString &&
                 (v.text == "InfrequentAccess" || v.text == "STANDARD_IA")) {
        storage_class_ = cost::StorageClass::kInfrequentAccess;
      } else {
        storage_class_bad_ = true;
      }
      return;
    }
    if (v.kind != Value::kString) return;
    switch (a) {
      case 'h':
      case 'y':
        hour_ = keep(v.text, owned_hour_);
        break;
      case 'n':
        bucket_ = keep(v.text, owned_bucket_);
        break;
      case 'a':
        action_ = keep(v.text, owned_action_);
        break;
      case 't':
        status_ = keep(v.text, owned_status_);
        break;
      default:
        break;
    }
  }

  std::string_view keep(std::string_view v, std::string& owned) const {
    if (v.data() >= text_begin_ && v.data() + v.size() <= text_end_) return v;
    owned.assign(v.data(), v.size());
    return owned;
  }

  // account::parse_action_status, with the length told first (a status per group).
  static std::optional<account::ActionStatus> status_of(std::string_view s) {
    switch (s.size()) {
      case 7:
        if (same_text(s, "success")) return account::ActionStatus::kSuccess;
        break;
      case 9:
        if (same_text(s, "userError")) return account::ActionStatus::kUserError;
        break;
      case 13:
        if (same_text(s, "internalError")) return account::ActionStatus::kInternalError;
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  // The time of a group's hour; the same text as the group before reads the same.
  std::optional<TimePoint> hour_of(std::string_view text) {
    if (!same_text(text, last_hour_text_)) {
      last_hour_text_.assign(text.data(), text.size());
      last_hour_ = parse_iso_time(text);
    }
    return last_hour_;
  }

  void end_group() {
    if (!building()) return;
    if (!has_figures_) return fail_group(std::string(ops_ ? "sum" : "max") + " is missing");
    if (!has_dimensions_) return fail_group("dimensions is missing");
    auto figure_problem = [&]() -> std::string {
      if (figure_bad_ < 0 && std::all_of(figures_.begin(), figures_.begin() + aliases().size(),
                                         [](const auto& f) { return f.has_value(); })) {
        return "";
      }
      const std::string block = ops_ ? "sum." : "max.";
      if (figure_bad_ >= 0) {
        return block + std::string(figure_name(static_cast<size_t>(figure_bad_))) +
               " is not a whole non-negative number";
      }
      for (size_t i = 0; i < aliases().size(); ++i) {
        if (!figures_[i]) return block + std::string(figure_name(i)) + " is missing";
      }
      return "";
    };
    if (ops_) {
      if (hour_.empty() || bucket_.empty() || action_.empty() || status_.empty()) {
        return fail_group("dimensions lacks datetimeHour, bucketName, actionType or actionStatus");
      }
      auto t = hour_of(hour_);
      if (!t || *t < window_.start || *t >= window_.end) {
        return fail_group("dimensions.datetimeHour is not an hour of the window asked for");
      }
      auto status = status_of(status_);
      if (!status) {
        return fail_group("dimensions.actionStatus is not success, userError or internalError");
      }
      if (code_bad_ || !code_ || *code_ > 999) {
        return fail_group("dimensions.responseStatusCode is not an HTTP status");
      }
      if (auto p = figure_problem(); !p.empty()) return fail_group(p);
      const int64_t hour_ms = to_epoch_ms(*t);
      if (last_hour_ms_ && hour_ms < *last_hour_ms_) ordered_ = false;
      last_hour_ms_ = hour_ms;
      // Groups of one bucket and hour mostly come together: the last one found is tried first.
      if (!last_row_ || last_row_hour_ms_ != hour_ms || !same_text(last_row_bucket_, bucket_)) {
        last_row_ = &hours_[{hour_ms, std::string(bucket_)}];
        // A new row's groups take room for the rows' average so far and a quarter more (the
        // text grows without copying itself over as it does; the room stays within a quarter
        // of the answer's rows).
        if (last_row_->groups.empty() && !hours_.empty()) {
          last_row_->groups.reserve(group_bytes_ / hours_.size() * 5 / 4);
        }
        last_row_hour_ms_ = hour_ms;
        last_row_bucket_.assign(bucket_.data(), bucket_.size());
      }
      BucketHour& b = *last_row_;
      const uint64_t requests = *figures_[0];
      b.requests = std::min(b.requests + requests, cost::kMaxUsageFigure);
      if (*status == account::ActionStatus::kInternalError) {
        b.internal_errors = std::min(b.internal_errors + requests, cost::kMaxUsageFigure);
      }
      // [action_type, action_status, status_code, requests, response_bytes]: the figures
      // after the action type written into one buffer, appended at once.
      std::string& g = b.groups;
      // The whole group in one buffer, appended at once, when the action type needs no escape
      // (as every one does); else the action type is escaped into the text first.
      char buf[320];
      char* w = buf;
      *w++ = g.empty() ? '[' : ',';
      *w++ = '[';
      if (action_.size() <= 200 && std::none_of(action_.begin(), action_.end(), [](char c) {
            return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
          })) {
        *w++ = '"';
        w = std::copy(action_.begin(), action_.end(), w);
        *w++ = '"';
      } else {
        g.append(buf, static_cast<size_t>(w - buf));
        w = buf;
        append_json_string(g, action_);
      }
      *w++ = ',';
      *w++ = '"';
      w = std::copy(status_.begin(), status_.end(), w);  // one of the three names: checked above
      *w++ = '"';
      *w++ = ',';
      w = write_digits(w, *code_);
      *w++ = ',';
      w = write_digits(w, requests);
      *w++ = ',';
      w = write_digits(w, *figures_[1]);
      *w++ = ']';
      g.append(buf, static_cast<size_t>(w - buf));
      group_bytes_ += static_cast<size_t>(w - buf);
    } else {
      if (hour_.empty() || bucket_.empty())
        return fail_group("dimensions lacks date or bucketName");
      auto day = parse_date(hour_);
      const std::string date(hour_);
      TimePoint t = day ? from_epoch_ms(days_since_epoch(*day) * 86'400'000) : TimePoint{};
      if (!day || t < window_.start || t >= window_.end) {
        return fail_group("dimensions.date is not a day of the window asked for");
      }
      if (storage_class_bad_) {
        return fail_group("dimensions.storageClass is not Standard or InfrequentAccess");
      }
      if (auto p = figure_problem(); !p.empty()) return fail_group(p);
      std::string row = "[";
      append_json_string(row, date);
      row += ',';
      append_json_string(row, bucket_);
      row += ",\"";
      row += cost::storage_class_name(storage_class_);
      row += '"';
      for (size_t i = 0; i < 4; ++i) {
        row += ',';
        append_number(row, *figures_[i]);
      }
      row += ']';
      add_row(row);
    }
  }

  // The part the next row of `size` bytes goes into (a new one when it would pass kPartBytes),
  // with the separator before the row written.
  std::string& next_part(size_t size) {
    if (out_.parts.empty() || out_.parts.back().size() + size + 2 > kPartBytes) {
      out_.parts.emplace_back("[");
    } else {
      out_.parts.back() += ',';
    }
    return out_.parts.back();
  }

  void add_row(std::string_view row) {
    next_part(row.size()) += row;
    ++out_.rows;
  }

  // The operations rows of the hours before `until_ms`.
  void write_parts(int64_t until_ms) {
    std::string head;
    for (const auto& [key, b] : hours_) {
      if (key.first >= until_ms) break;
      head = "[";
      append_number(head, key.first);
      head += ',';
      append_json_string(head, key.second);
      head += ',';
      append_number(head, b.requests);
      head += ',';
      append_number(head, b.internal_errors);
      head += ',';
      // [head..., groups] written straight into the part.
      std::string& part = next_part(head.size() + b.groups.size() + 2);
      part += head;
      part += b.groups;
      part += "]]";
      ++out_.rows;
    }
  }

  const account::Window& window_;
  const bool ops_;
  const std::string_view dataset_;
  const uint32_t limit_;
  Parsed& out_;

  bool errors_ = false;
  std::string error_message_;
  bool groups_found_ = false;
  size_t accounts_ = 0;
  size_t groups_ = 0;
  std::string problem_;
  // The group being read.
  bool has_figures_ = false;
  bool has_dimensions_ = false;
  std::array<std::optional<uint64_t>, 4> figures_{};
  int figure_bad_ = -1;
  // Views into the answer's text, or into owned_* when the string held escapes (the lexer's
  // scratch buffer is reused by the next string).
  std::string_view hour_, bucket_, action_, status_;
  std::string owned_hour_, owned_bucket_, owned_action_, owned_status_;
  const char* text_begin_ = nullptr;
  const char* text_end_ = nullptr;
  cost::StorageClass storage_class_ = cost::StorageClass::kStandard;
  bool storage_class_bad_ = false;
  std::optional<uint64_t> code_;
  bool code_bad_ = false;
  std::string last_hour_text_;
  std::optional<TimePoint> last_hour_;
  std::map<std::pair<int64_t, std::string>, BucketHour> hours_;
  BucketHour* last_row_ = nullptr;  // the row of the last group stored (map nodes stay put)
  int64_t last_row_hour_ms_ = 0;
  std::string last_row_bucket_;
  size_t group_bytes_ = 0;  // the groups' text written so far (to size new rows)
  // The last hour and bucket texts the fast path read: plain views into the answer.
  std::string_view fast_hour_, fast_bucket_;
  std::optional<int64_t> last_hour_ms_;  // of the last group read
  bool ordered_ = true;                  // every group's hour no earlier than the one before
};

Parsed read_answer(std::string_view text, const account::Window& w, uint32_t limit) {
  Parsed p;
  AnswerReader(w, limit, p).read(text);
  return p;
}

// ---- the collector's commands ------------------------------------------------------------

struct Common {
  account::CollectorOptions options;
  account::CollectorState state;
  std::string account_id;
};

Result<Common> common_of(const Json& in) {
  Common c;
  auto o = options_of(in);
  if (!o.ok()) return o.error();
  c.options = o.value();
  c.state = state_of(in);
  auto a = in.find("account_id");
  if (a == in.end() || !a->is_string() || a->get<std::string>().empty()) {
    return invalid_field("account_id", "account_id must be the Cloudflare account id");
  }
  c.account_id = a->get<std::string>();
  return c;
}

// {"account_id", "state"?, "options"?} -> {"run", "state", "next": query | null}. `next` is
// the first window's GraphQL request: {"dataset", "start_ms", "end_ms", "body"}.
Result<Json> account_plan(Engine&, const Json& in, TimePoint now) {
  auto c = common_of(in);
  if (!c.ok()) return c.error();
  account::CollectorRun run = account::plan_run(c.value().state, now, c.value().options);
  account::CollectorState state = c.value().state;
  state.last_run_at = now;
  return Json{{"run", run_json(run)},
              {"state", state_json(state)},
              {"next", next_query(run, c.value().account_id, c.value().options.limit)}};
}

// The answer to the run's first window: {"account_id", "state", "options"?, "run",
// "http_status", "retry_after_s"?, "answer"?: <the body as text>} (without "answer", the body
// is the call's attachment: r2w_call_attached) -> {"verdict", "reason",
// "run", "state", "store": {"dataset", "start_ms", "end_ms", "rows"} | null, "next"}.
// `store` replaces everything the window held (late data replaces, never adds).
Result<Json> account_ingest(Engine& engine, const Json& in, TimePoint now) {
  auto c = common_of(in);
  if (!c.ok()) return c.error();
  auto run = run_of(in);
  if (!run.ok()) return run.error();
  if (run.value().queue.empty()) return invalid_field("run.queue", "run.queue is empty");
  account::AnswerSummary summary;
  auto hs = in.find("http_status");
  if (hs == in.end() || !whole(*hs) || *whole(*hs) > 999) {
    return invalid_field("http_status", "http_status must be the answer's HTTP status");
  }
  summary.http_status = static_cast<uint32_t>(*whole(*hs));
  if (auto ra = in.find("retry_after_s"); ra != in.end() && whole(*ra)) {
    summary.retry_after = std::chrono::seconds(std::min<uint64_t>(*whole(*ra), 86'400));
  }
  const account::Window w = run.value().queue.front();
  Parsed parsed;
  if (summary.http_status >= 200 && summary.http_status < 300) {
    // The answer's text: "answer", or the call's attachment (Engine::call) without it.
    auto a = in.find("answer");
    const std::string given = a != in.end() && a->is_string() ? a->get<std::string>() : "";
    std::string_view text =
        a != in.end() && a->is_string() ? std::string_view(given) : engine.attachment();
    if (text.empty()) {
      parsed.problem = "the answer is empty";
    } else {
      parsed = read_answer(text, w, c.value().options.limit);
    }
    summary.problem = parsed.problem;
    summary.groups = parsed.groups;
    summary.complete_until = parsed.complete_until;
  }
  account::Step step =
      account::advance(std::move(run).value(), c.value().state, summary, now, c.value().options);
  Json store = nullptr;
  if (step.verdict == account::Verdict::kStore) {
    store = {{"dataset", account::dataset_key(w.dataset)},
             {"start_ms", to_epoch_ms(step.stored.start)},
             {"end_ms", to_epoch_ms(step.stored.end)},
             {"start_day", format_date(date_of(step.stored.start))},
             {"end_day", format_date(date_of(step.stored.end))},
             {"rows", parsed.rows},
             {"parts", parsed.parts.size()}};
    // The rows as JSON texts beside the answer (Engine::add_output_text), not inside it.
    for (std::string& part : parsed.parts) engine.add_output_text(std::move(part));
  }
  return Json{{"verdict", account::verdict_name(step.verdict)},
              {"reason", step.reason},
              {"run", run_json(step.run)},
              {"state", state_json(step.state)},
              {"store", std::move(store)},
              {"next", next_query(step.run, c.value().account_id, c.value().options.limit)}};
}

// {"options"?, "usage_from_ms"?, "usage_as_of"?: "YYYY-MM-DD"} -> what the Worker reads back
// at `now` (account::account_reads): {"retention_since_ms", "last_day_since_ms" (the last 24
// hours: bucket list, /metrics), "as_of": "YYYY-MM-DD", "month_start": "YYYY-MM-DD",
// "month_start_ms"}; with usage_from_ms and usage_as_of also "usage": {"since_ms", "until_ms",
// "from_day", "to_day"} (account::usage_reach: the rows of the account's usage from
// usage_from_ms to the end of the day usage_as_of).
Result<Json> account_reads(Engine&, const Json& in, TimePoint now) {
  if (!in.is_object()) return invalid_field("input", "the input must be an object");
  auto o = options_of(in);
  if (!o.ok()) return o.error();
  FieldReader fields(in);
  fields.has("options");
  Duration from_ms{-1};
  std::string as_of_text;
  fields.read_duration("usage_from_ms", from_ms, Duration(0), Duration(253'402'300'799'999));
  fields.read_string("usage_as_of", as_of_text);
  if (auto err = fields.finish()) return *err;
  account::AccountReads r = account::account_reads(now, o.value());
  Json answer = {{"retention_since_ms", to_epoch_ms(r.retention_since)},
                 {"last_day_since_ms", to_epoch_ms(r.last_day_since)},
                 {"as_of", format_date(r.as_of)},
                 {"month_start", format_date(r.month_start)},
                 {"month_start_ms", days_since_epoch(r.month_start) * 86'400'000}};
  if (from_ms.count() >= 0 || !as_of_text.empty()) {
    if (from_ms.count() < 0) {
      return invalid_field("usage_from_ms", "usage_from_ms must come with usage_as_of");
    }
    auto as_of = parse_date(as_of_text);
    if (!as_of) return invalid_field("usage_as_of", "usage_as_of must be a date as YYYY-MM-DD");
    const account::UsageReach u = account::usage_reach(from_epoch_ms(from_ms.count()), *as_of);
    // How the Worker sums the day rows (by_class): each action type's class, and the status
    // codes R2 does not bill, kept apart.
    Json classes = Json::object();
    for (const cost::OperationClassEntry& e : cost::operation_class_table()) {
      classes[std::string(e.operation)] = std::string(cost::operation_class_name(e.billed_as));
    }
    Json unbilled = Json::array();
    for (uint32_t c : account::unbilled_status_codes()) unbilled.push_back(c);
    answer["usage"] = {{"since_ms", to_epoch_ms(u.since)},
                       {"until_ms", to_epoch_ms(u.until)},
                       {"from_day", format_date(u.from_day)},
                       {"to_day", format_date(u.to_day)},
                       {"classes", classes},
                       {"unbilled_status_codes", unbilled}};
  }
  return answer;
}

// {"configured", "state"?, "options"?, "action_types": [names seen in the last 31 days]} ->
// {"status", "message", "warning", "unclassified": [names], "warnings": [text], ...}.
Result<Json> account_health(Engine&, const Json& in, TimePoint now) {
  auto o = options_of(in);
  bool configured = false;
  if (auto c = in.find("configured"); c != in.end() && c->is_boolean()) configured = c->get<bool>();
  account::CollectorState s = state_of(in);
  // Refused settings stop the collector; health says which one (it never fails itself).
  account::CollectorHealth h =
      o.ok() ? account::collector_health(configured, s, now, o.value())
             : account::CollectorHealth{"failing",
                                        "account analytics settings refused (" + o.error().field +
                                            "): " + o.error().message,
                                        true};
  Json unclassified = Json::array();
  Json warnings = Json::array();
  if (auto a = in.find("action_types"); a != in.end() && a->is_array()) {
    for (const Json& name : *a) {
      if (!name.is_string()) continue;
      const std::string n = name.get<std::string>();
      if (account::classify_action(n) == account::ActionClass::kUnclassified) {
        unclassified.push_back(n);
        warnings.push_back("R2 action type " + n +
                           " is in no class of the pricing table: billed as Class A");
      }
    }
  }
  return Json{{"enabled", configured},
              {"status", h.status},
              {"message", h.message},
              {"warning", h.warning || !unclassified.empty()},
              {"unclassified_action_types", unclassified},
              {"warnings", warnings},
              {"operations_until_ms", ms_json(s.operations_until)},
              {"storage_until_ms", ms_json(s.storage_until)},
              {"retry_at_ms", ms_json(s.retry_at)},
              {"last_stored_at_ms", ms_json(s.last_stored_at)}};
}

// ---- the account's usage, reconciliation, bucket list ------------------------------------

// Operations day rows as stored, each grouped by its class and billing as it is read.
Result<std::vector<account::ClassedOperationsDay>> operation_days_of(const Json& list,
                                                                     const std::string& field) {
  std::vector<account::ClassedOperationsDay> out;
  if (!list.is_array()) return invalid_field(field, field + " must be a list");
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    // The row's name in an error only (a month of rows reads without building one each).
    auto at = [&] { return field + "[" + std::to_string(i) + "]"; };
    if (!r.is_array() || r.size() != 6 || !r[0].is_string() || !r[1].is_string() ||
        !r[2].is_string() || !whole(r[3]) || !whole(r[4]) || !whole(r[5])) {
      return invalid_field(at(), at() +
                                     " must be [date, bucket, action_type, status_code, "
                                     "requests, response_bytes]");
    }
    auto d = parse_date(r[0].string_ref());
    if (!d) return invalid_field(at(), at() + " has no date as YYYY-MM-DD");
    out.push_back(account::classed({*d, r[1].get<std::string>(), r[2].get<std::string>(),
                                    static_cast<uint32_t>(std::min<uint64_t>(*whole(r[3]), 999)),
                                    *whole(r[4]), *whole(r[5])}));
  }
  return out;
}

// The Worker's sums of the day rows by account_reads' grouping: [date, bucket, class (a name of
// action_class_name, null when unclassified), billed (1, or 0 for the unbilled status codes),
// action_type (unclassified only, else ""), requests, response_bytes].
Result<std::vector<account::ClassedOperationsDay>> classed_days_of(const Json& list,
                                                                   const std::string& field) {
  std::vector<account::ClassedOperationsDay> out;
  if (!list.is_array()) return invalid_field(field, field + " must be a list");
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    auto at = [&] { return field + "[" + std::to_string(i) + "]"; };
    std::optional<CivilDate> d;
    std::optional<account::ActionClass> c;
    if (r.is_array() && r.size() == 7 && r[0].is_string()) {
      d = parse_date(r[0].string_ref());
      if (r[2].is_null()) c = account::ActionClass::kUnclassified;
      for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                     account::ActionClass::kFree}) {
        if (r[2].is_string() && r[2].string_ref() == account::action_class_name(k)) c = k;
      }
    }
    auto billed = r.is_array() && r.size() == 7 ? whole(r[3]) : std::nullopt;
    if (!d || !c || !r[1].is_string() || !billed || *billed > 1 || !r[4].is_string() ||
        !whole(r[5]) || !whole(r[6])) {
      return invalid_field(at(), at() +
                                     " must be [date, bucket, class or null, billed (0 or 1), "
                                     "action_type, requests, response_bytes]");
    }
    out.push_back({*d, r[1].get<std::string>(), *c,
                   *billed == 1 ? account::Billing::kBilled : account::Billing::kUnbilled,
                   *c == account::ActionClass::kUnclassified ? r[4].get<std::string>() : "",
                   *whole(r[5]), *whole(r[6])});
  }
  return out;
}

Result<std::vector<account::StorageRow>> storage_rows_of(const Json& list,
                                                         const std::string& field) {
  std::vector<account::StorageRow> out;
  if (!list.is_array()) return invalid_field(field, field + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    auto at = [&] { return field + "[" + std::to_string(i) + "]"; };
    if (!r.is_array() || r.size() != 7 || !r[0].is_string() || !r[1].is_string() ||
        !r[2].is_string() || !whole(r[3]) || !whole(r[4]) || !whole(r[5]) || !whole(r[6])) {
      return invalid_field(at(), at() +
                                     " must be [date, bucket, storage_class, payload_bytes, "
                                     "metadata_bytes, objects, pending_uploads]");
    }
    auto d = parse_date(r[0].string_ref());
    auto c = cost::parse_storage_class(r[2].string_ref());
    if (!d || !c) return invalid_field(at(), at() + " has no date or storage class");
    out.push_back(
        {*d, r[1].get<std::string>(), *c, *whole(r[3]), *whole(r[4]), *whole(r[5]), *whole(r[6])});
  }
  return out;
}

// {"cloudflare": [operations day rows] or "cloudflare_by_class": [classed day rows], "own":
// [[date, bucket, operation, calls]]} -> per bucket and day, requests by class as each counted
// them, and the share around r2watch.
Result<Json> account_reconcile(Engine&, const Json& in, TimePoint) {
  const bool by_class = in.is_object() && in.contains("cloudflare_by_class");
  auto cf = by_class ? classed_days_of(in["cloudflare_by_class"], "cloudflare_by_class")
                     : operation_days_of(list_member(in, "cloudflare"), "cloudflare");
  if (!cf.ok()) return cf.error();
  std::vector<account::OwnOperationsDay> own;
  const Json& list = list_member(in, "own");
  if (!list.is_array()) return invalid_field("own", "own must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    std::optional<CivilDate> d;
    if (r.is_array() && r.size() == 4 && r[0].is_string()) d = parse_date(r[0].get<std::string>());
    if (!d || !r[1].is_string() || !r[2].is_string() || !whole(r[3])) {
      std::string at = "own[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be [date, bucket, operation, calls]");
    }
    own.push_back({*d, r[1].get<std::string>(), r[2].get<std::string>(), *whole(r[3])});
  }
  account::Reconciliation rec = account::reconcile(cf.value(), own);
  auto classes = [](const account::ClassCounts& c) {
    Json o = Json::object();
    for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                   account::ActionClass::kFree, account::ActionClass::kUnclassified}) {
      o[std::string(account::action_class_name(k))] = c[account::class_index(k)];
    }
    return o;
  };
  // Built in place, members moved in (a month is hundreds of rows: no copy of any of them).
  auto row_json = [&](const account::ReconcileRow& r) {
    Json o = Json::object();
    o["cloudflare"] = classes(r.cloudflare);
    o["r2watch"] = classes(r.r2watch);
    o["cloudflare_total"] = r.cloudflare_total;
    o["r2watch_total"] = r.r2watch_total;
    o["around_r2watch"] = r.around;
    o["around_r2watch_pct"] = r.around_bp / 100.0;
    if (!r.bucket.empty()) {
      o["date"] = format_date(r.date);
      o["bucket"] = r.bucket;
    }
    return o;
  };
  Json out = Json::object();
  Json& rows = out["rows"] = Json::array();
  for (const auto& r : rec.rows) rows.push_back(row_json(r));
  out["total"] = row_json(rec.total);
  return out;
}

// {"storage": [latest storage day rows], "last_day": [[bucket, action_type, action_status,
// requests]], "costs": [{"key": bucket, "total_micro_usd"}] (cost_breakdown rows)} -> buckets.
Result<Json> account_buckets(Engine&, const Json& in, TimePoint) {
  auto st = storage_rows_of(list_member(in, "storage"), "storage");
  if (!st.ok()) return st.error();
  std::vector<account::OperationsCount> last;
  const Json& ld = list_member(in, "last_day");
  if (!ld.is_array()) return invalid_field("last_day", "last_day must be a list");
  for (size_t i = 0; i < ld.size(); ++i) {
    const Json& r = ld[i];
    std::optional<account::ActionStatus> s;
    if (r.is_array() && r.size() == 4 && r[2].is_string()) {
      s = account::parse_action_status(r[2].get<std::string>());
    }
    if (!s || !r[0].is_string() || !r[1].is_string() || !whole(r[3])) {
      std::string at = "last_day[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be [bucket, action_type, action_status, requests]");
    }
    last.push_back({r[0].get<std::string>(), r[1].get<std::string>(), *s, *whole(r[3])});
  }
  std::vector<account::BucketCost> costs;
  const Json& cl = list_member(in, "costs");
  if (cl.is_array()) {
    for (const Json& c : cl) {
      if (!c.is_object() || !c.contains("key") || !c["key"].is_string()) continue;
      auto m = c.find("total_micro_usd");
      if (m == c.end() || !m->is_number_integer()) continue;
      costs.push_back({c["key"].get<std::string>(), cost::Money::micro_usd(m->get<int64_t>())});
    }
  }
  Json out = Json::array();
  const auto by_class = account::stored_bytes_by_class(st.value());
  for (const account::BucketSummary& b : account::bucket_summaries(st.value(), last, costs)) {
    std::array<uint64_t, cost::kStorageClassCount> classes{};
    if (auto c = by_class.find(b.bucket); c != by_class.end()) classes = c->second;
    Json ops = Json::object();
    for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                   account::ActionClass::kFree, account::ActionClass::kUnclassified}) {
      ops[std::string(account::action_class_name(k))] = b.requests_24h[account::class_index(k)];
    }
    out.push_back(
        {{"bucket", b.bucket},
         {"storage_date", b.storage_date ? Json(format_date(*b.storage_date)) : Json()},
         {"objects", b.objects},
         {"stored_bytes", b.stored_bytes},
         {"stored_bytes_by_class",
          {{"standard", classes[cost::index_of(cost::StorageClass::kStandard)]},
           {"infrequent_access", classes[cost::index_of(cost::StorageClass::kInfrequentAccess)]}}},
         {"payload_bytes", b.payload_bytes},
         {"metadata_bytes", b.metadata_bytes},
         {"pending_multipart_uploads", b.pending_uploads},
         {"operations_24h", ops},
         {"requests_24h", b.total_24h},
         {"user_errors_24h", b.user_errors_24h},
         {"internal_errors_24h", b.internal_errors_24h},
         {"user_error_rate_pct", b.user_error_bp / 100.0},
         {"internal_error_rate_pct", b.internal_error_bp / 100.0},
         {"month_to_date_micro_usd", b.month_to_date.micro_usd()},
         {"month_to_date_usd", cost::format_usd(b.month_to_date, 2)}});
  }
  return Json{{"buckets", out}};
}

// The alert engine's figures from the account ({"hours": [[hour_ms, bucket, requests,
// internal_errors]], "storage": [storage day rows], "windows_ms": [the account rules' windows]})
// -> {"series": [{"metric", "bucket", "window_ms", "value", "samples", "detail"}]}, the
// alert round's generic `series` figures.
Result<Json> account_alert_figures(Engine&, const Json& in, TimePoint now) {
  std::vector<account::HourTotal> hours;
  const Json& hl = list_member(in, "hours");
  if (!hl.is_array()) return invalid_field("hours", "hours must be a list");
  hours.reserve(hl.size());
  for (size_t i = 0; i < hl.size(); ++i) {
    const Json& r = hl[i];
    if (!r.is_array() || r.size() != 4 || !r[0].is_number_integer() || !r[1].is_string() ||
        !whole(r[2]) || !whole(r[3])) {
      std::string at = "hours[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be [hour_ms, bucket, requests, internal_errors]");
    }
    hours.push_back(
        {from_epoch_ms(r[0].get<int64_t>()), r[1].get<std::string>(), *whole(r[2]), *whole(r[3])});
  }
  auto st = storage_rows_of(list_member(in, "storage"), "storage");
  if (!st.ok()) return st.error();
  std::vector<Duration> windows;
  const Json& wl = list_member(in, "windows_ms");
  if (!wl.is_array()) return invalid_field("windows_ms", "windows_ms must be a list");
  for (const Json& w : wl) {
    if (!whole(w) || *whole(w) == 0) {
      return invalid_field("windows_ms", "windows_ms must hold windows in milliseconds");
    }
    windows.push_back(Duration(static_cast<int64_t>(*whole(w))));
  }
  Json series = Json::array();
  for (const account::AlertFigure& f : account::alert_figures(hours, st.value(), windows, now)) {
    series.push_back({{"metric", f.metric},
                      {"bucket", f.bucket},
                      {"window_ms", f.window.count()},
                      {"value", f.value},
                      {"samples", f.samples},
                      {"detail", f.detail}});
  }
  return Json{{"series", series}};
}

// {"windows_ms": [the account rules' windows]} -> what account_alert_figures needs:
// {"hours_ms": [hours the spike compares], "hours_since_ms", "storage_since": "YYYY-MM-DD",
// "segments_ms": [span starts: a bucket's hours may be given summed per span, at its start]}.
Result<Json> account_alert_reach(Engine&, const Json& in, TimePoint now) {
  std::vector<Duration> windows;
  const Json& wl = list_member(in, "windows_ms");
  if (!wl.is_array()) return invalid_field("windows_ms", "windows_ms must be a list");
  for (const Json& w : wl) {
    if (!whole(w) || *whole(w) == 0) {
      return invalid_field("windows_ms", "windows_ms must hold windows in milliseconds");
    }
    windows.push_back(Duration(static_cast<int64_t>(*whole(w))));
  }
  account::AlertReach r = account::alert_reach(windows, now);
  Json hours = Json::array();
  for (TimePoint h : r.hours) hours.push_back(to_epoch_ms(h));
  Json segments = Json::array();
  for (TimePoint t : r.segments) segments.push_back(to_epoch_ms(t));
  return Json{{"hours_ms", hours},
              {"hours_since_ms", to_epoch_ms(r.hours_since)},
              {"storage_since", format_date(r.storage_since)},
              {"segments_ms", segments}};
}

constexpr CommandEntry kCommands[] = {
    {"account_alert_reach", account_alert_reach},
    {"account_alert_figures", account_alert_figures},
    {"account_plan", account_plan},
    {"account_ingest", account_ingest},
    {"account_health", account_health},
    {"account_reads", account_reads},
    {"account_reconcile", account_reconcile},
    {"account_buckets", account_buckets},
};

}  // namespace

Result<account::AccountUsage> account_usage_from_json(const Json& j, std::string_view field) {
  std::string base(field);
  if (!j.is_object()) return invalid_field(base, base + " must be {operations, storage}");
  auto st = storage_rows_of(list_member(j, "storage"), base + ".storage");
  if (!st.ok()) return st.error();
  // The day rows as the Worker summed them by class (by_class), or as stored (operations).
  auto ops = j.contains("by_class")
                 ? classed_days_of(j["by_class"], base + ".by_class")
                 : operation_days_of(list_member(j, "operations"), base + ".operations");
  if (!ops.ok()) return ops.error();
  return account::account_usage(ops.value(), st.value());
}

Json account_usage_notes_json(const account::AccountUsage& u) {
  Json unclassified = Json::array();
  for (const auto& a : u.unclassified) {
    unclassified.push_back(
        {{"action_type", a.action_type}, {"requests", a.requests}, {"billed_as", "class_a"}});
  }
  return {{"source", "account"},
          {"unclassified", unclassified},
          {"unbilled_auth_failures", u.unbilled_auth_failures}};
}

std::span<const CommandEntry> account_commands() { return kCommands; }

}  // namespace r2w::bindings
