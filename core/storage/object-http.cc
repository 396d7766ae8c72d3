#include "core/storage/object-http.h"

#include <array>

#include "core/common/civil-date.h"

namespace r2w::storage {

namespace {

constexpr std::string_view kOws = " \t";

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(kOws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kOws);
  return s.substr(b, e - b + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Decimal digits (checked by the caller), saturating at kMaxRangeNumber.
uint64_t saturating_number(std::string_view digits) {
  uint64_t v = 0;
  for (char c : digits) {
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > kMaxRangeNumber) return kMaxRangeNumber;
  }
  return v;
}

std::optional<RangeSpec> parse_one_range(std::string_view r) {
  size_t dash = r.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a = r.substr(0, dash), b = r.substr(dash + 1);
  RangeSpec spec;
  if (a.empty()) {
    if (!all_digits(b)) return std::nullopt;
    spec.kind = RangeSpec::Kind::kSuffix;
    spec.suffix = saturating_number(b);
    return spec;
  }
  if (!all_digits(a)) return std::nullopt;
  spec.first = saturating_number(a);
  if (b.empty()) {
    spec.kind = RangeSpec::Kind::kFrom;
    return spec;
  }
  if (!all_digits(b)) return std::nullopt;
  spec.kind = RangeSpec::Kind::kFromTo;
  spec.last = saturating_number(b);
  if (spec.last < spec.first) return std::nullopt;
  return spec;
}

// An entity tag of a validator list: "W/" and the opaque tag between its quotes.
struct EntityTag {
  bool weak = false;
  std::string_view opaque;
};

std::optional<EntityTag> parse_entity_tag(std::string_view s) {
  EntityTag tag;
  if (s.starts_with("W/")) {
    tag.weak = true;
    s.remove_prefix(2);
  }
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  tag.opaque = s.substr(1, s.size() - 2);
  for (char c : tag.opaque) {
    auto u = static_cast<unsigned char>(c);
    if (u == '"' || u < 0x21 || u == 0x7F) return std::nullopt;
  }
  return tag;
}

enum class Comparison : uint8_t { kStrong, kWeak };

// Whether a validator list ("*" or entity tags separated by commas) names `etag`. Elements
// that are not entity tags never match.
bool list_matches(std::string_view header, std::string_view etag, Comparison how) {
  std::string_view list = trim(header);
  if (list == "*") return true;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    auto tag = parse_entity_tag(item);
    if (!tag || tag->opaque != etag) continue;
    if (how == Comparison::kWeak || !tag->weak) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

std::optional<uint32_t> month_number(std::string_view m) {
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == m) return static_cast<uint32_t>(i + 1);
  }
  return std::nullopt;
}

bool one_of(std::string_view s, const auto& names) {
  for (std::string_view n : names) {
    if (n == s) return true;
  }
  return false;
}

std::optional<uint32_t> fixed_number(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

// "HH:MM:SS" -> seconds into the day (leap second 60 accepted as HTTP allows).
std::optional<int64_t> time_of_day(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = fixed_number(s.substr(0, 2)), m = fixed_number(s.substr(3, 2)),
       sec = fixed_number(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return int64_t{*h} * 3600 + int64_t{*m} * 60 + int64_t{*sec};
}

std::optional<int64_t> to_seconds(int32_t year, std::optional<uint32_t> month,
                                  std::optional<uint32_t> day, std::optional<int64_t> tod) {
  if (!month || !day || !tod || year < 1970 || year > 9999) return std::nullopt;
  if (*day < 1 || *day > days_in_month(YearMonth{year, *month})) return std::nullopt;
  return days_since_epoch(CivilDate{year, *month, *day}) * 86400 + *tod;
}

}  // namespace

std::optional<RangeSpec> parse_range(std::string_view header) {
  if (header.size() > kMaxConditionalHeaderBytes) return std::nullopt;
  std::string_view h = trim(header);
  size_t eq = h.find('=');
  if (eq == std::string_view::npos || !iequals(trim(h.substr(0, eq)), "bytes")) {
    return std::nullopt;
  }
  std::string_view set = h.substr(eq + 1);
  std::optional<RangeSpec> only;
  int count = 0;
  while (true) {
    size_t comma = set.find(',');
    std::string_view item = trim(set.substr(0, comma));
    if (!item.empty()) {
      only = parse_one_range(item);
      if (!only) return std::nullopt;
      ++count;
    }
    if (comma == std::string_view::npos) break;
    set = set.substr(comma + 1);
  }
  if (count != 1) return std::nullopt;
  return only;
}

R2Range r2_range(const RangeSpec& spec) {
  switch (spec.kind) {
    case RangeSpec::Kind::kSuffix:
      return R2Range{.suffix = spec.suffix};
    case RangeSpec::Kind::kFrom:
      return R2Range{.offset = spec.first};
    case RangeSpec::Kind::kFromTo:
      return R2Range{.offset = spec.first, .length = spec.last - spec.first + 1};
  }
  return R2Range{};
}

std::optional<ByteRange> resolve_range(const RangeSpec& spec, uint64_t size) {
  if (size == 0) return std::nullopt;
  switch (spec.kind) {
    case RangeSpec::Kind::kSuffix:
      if (spec.suffix == 0) return std::nullopt;
      return spec.suffix >= size ? ByteRange{0, size} : ByteRange{size - spec.suffix, spec.suffix};
    case RangeSpec::Kind::kFrom:
      if (spec.first >= size) return std::nullopt;
      return ByteRange{spec.first, size - spec.first};
    case RangeSpec::Kind::kFromTo: {
      if (spec.first >= size) return std::nullopt;
      uint64_t last = spec.last < size ? spec.last : size - 1;
      return ByteRange{spec.first, last - spec.first + 1};
    }
  }
  return std::nullopt;
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  std::string_view s = trim(text);
  if (s.size() > 64) return std::nullopt;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (s.size() == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
      s[25] == ' ' && s.substr(26) == "GMT" && one_of(s.substr(0, 3), kDays)) {
    auto year = fixed_number(s.substr(12, 4));
    if (!year) return std::nullopt;
    return to_seconds(static_cast<int32_t>(*year), month_number(s.substr(8, 3)),
                      fixed_number(s.substr(5, 2)), time_of_day(s.substr(17, 8)));
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ' &&
      one_of(s.substr(0, 3), kDays)) {
    std::string_view day = s.substr(8, 2);
    if (day[0] == ' ') day.remove_prefix(1);
    auto year = fixed_number(s.substr(20, 4));
    if (!year) return std::nullopt;
    return to_seconds(static_cast<int32_t>(*year), month_number(s.substr(4, 3)), fixed_number(day),
                      time_of_day(s.substr(11, 8)));
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  size_t comma = s.find(',');
  if (comma != std::string_view::npos && one_of(s.substr(0, comma), kLongDays)) {
    std::string_view rest = s.substr(comma + 1);
    if (rest.size() != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' ||
        rest[10] != ' ' || rest[19] != ' ' || rest.substr(20) != "GMT") {
      return std::nullopt;
    }
    auto yy = fixed_number(rest.substr(8, 2));
    if (!yy) return std::nullopt;
    int32_t year = static_cast<int32_t>(*yy < 70 ? 2000 + *yy : 1900 + *yy);
    return to_seconds(year, month_number(rest.substr(4, 3)), fixed_number(rest.substr(1, 2)),
                      time_of_day(rest.substr(11, 8)));
  }
  return std::nullopt;
}

std::string format_http_date(int64_t seconds) {
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t tod = seconds - days * 86400;
  CivilDate d = date_from_days(days);
  auto two = [](int64_t v) {
    return std::string(1, static_cast<char>('0' + v / 10)) +
           std::string(1, static_cast<char>('0' + v % 10));
  };
  std::string out(kDays[static_cast<size_t>(((days % 7) + 11) % 7)]);
  out += ", " + two(d.day) + " " + std::string(kMonths[d.month - 1]) + " " +
         std::to_string(d.year) + " " + two(tod / 3600) + ":" + two(tod / 60 % 60) + ":" +
         two(tod % 60) + " GMT";
  return out;
}

Result<WriteConditions> write_conditions(const std::optional<std::string>& if_match,
                                         const std::optional<std::string>& if_none_match) {
  WriteConditions out;
  auto normalize = [](const std::optional<std::string>& value,
                      const char* name) -> Result<std::optional<std::string>> {
    if (!value) return std::optional<std::string>();
    std::string_view list = trim(*value);
    if (list == "*") return std::optional<std::string>("*");
    std::string joined;
    bool any = false;
    while (value->size() <= kMaxConditionalHeaderBytes) {
      size_t comma = list.find(',');
      std::string_view item = trim(list.substr(0, comma));
      if (!item.empty()) {
        if (!parse_entity_tag(item)) break;
        if (any) joined += ", ";
        joined += item;
        any = true;
      }
      if (comma == std::string_view::npos) {
        if (any) return std::optional<std::string>(joined);
        break;
      }
      list = list.substr(comma + 1);
    }
    return invalid_field(
        name, std::string(name) + " must be * or a list of entity tags (\"etag\" or W/\"etag\")");
  };
  auto m = normalize(if_match, "if-match");
  if (!m.ok()) return m.error();
  auto n = normalize(if_none_match, "if-none-match");
  if (!n.ok()) return n.error();
  out.if_match = m.value();
  out.if_none_match = n.value();
  return out;
}

std::optional<R2Range> range_to_fetch(const ReadRequest& request) {
  if (request.method != ReadMethod::kGet || !request.range) return std::nullopt;
  auto spec = parse_range(*request.range);
  if (!spec) return std::nullopt;
  return r2_range(*spec);
}

ReadAnswer answer_read(const ReadRequest& request, const ObjectVersion& object) {
  int64_t ms = to_epoch_ms(object.uploaded);
  int64_t modified = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  ReadAnswer answer;
  answer.headers = {{"etag", "\"" + object.etag + "\""},
                    {"last-modified", format_http_date(modified)},
                    {"accept-ranges", "bytes"}};
  auto date_of = [](const std::optional<std::string>& v) -> std::optional<int64_t> {
    if (!v || v->size() > kMaxConditionalHeaderBytes) return std::nullopt;
    return parse_http_date(*v);
  };
  auto usable = [](const std::optional<std::string>& v) {
    return v && v->size() <= kMaxConditionalHeaderBytes;
  };
  auto finish = [&](ReadOutcome outcome, int status) {
    answer.outcome = outcome;
    answer.status = status;
    return answer;
  };
  // 1. If-Match, else If-Unmodified-Since.
  if (usable(request.if_match)) {
    if (!list_matches(*request.if_match, object.etag, Comparison::kStrong)) {
      return finish(ReadOutcome::kPreconditionFailed, 412);
    }
  } else if (auto since = date_of(request.if_unmodified_since); since && modified > *since) {
    return finish(ReadOutcome::kPreconditionFailed, 412);
  }
  // 2. If-None-Match, else If-Modified-Since (GET and HEAD answer 304).
  if (usable(request.if_none_match)) {
    if (list_matches(*request.if_none_match, object.etag, Comparison::kWeak)) {
      return finish(ReadOutcome::kNotModified, 304);
    }
  } else if (auto since = date_of(request.if_modified_since); since && modified <= *since) {
    return finish(ReadOutcome::kNotModified, 304);
  }
  // 3. Range (GET only), unless If-Range names another version.
  std::optional<RangeSpec> spec;
  if (request.method == ReadMethod::kGet && request.range) spec = parse_range(*request.range);
  if (spec && request.if_range) {
    std::string_view v = trim(*request.if_range);
    bool same = false;
    if (v.starts_with("\"") || v.starts_with("W/")) {
      auto tag = parse_entity_tag(v);
      same = tag && !tag->weak && tag->opaque == object.etag;
    } else if (auto date = date_of(request.if_range)) {
      same = *date == modified;
    }
    if (!same) spec.reset();
  }
  if (spec) {
    auto range = resolve_range(*spec, object.size);
    if (!range) {
      answer.headers.push_back({"content-range", "bytes */" + std::to_string(object.size)});
      return finish(ReadOutcome::kRangeNotSatisfiable, 416);
    }
    answer.range = range;
    answer.headers.push_back(
        {"content-range", "bytes " + std::to_string(range->first) + "-" +
                              std::to_string(range->first + range->length - 1) + "/" +
                              std::to_string(object.size)});
    answer.headers.push_back({"content-length", std::to_string(range->length)});
    return finish(ReadOutcome::kPartial, 206);
  }
  answer.headers.push_back({"content-length", std::to_string(object.size)});
  return finish(ReadOutcome::kWhole, 200);
}

}  // namespace r2w::storage
