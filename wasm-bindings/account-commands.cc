// Commands of the account's figures (Cloudflare's GraphQL Analytics API, every bucket): the
// collector's runs (the query of each window, the verdict on each answer, the rows to store),
// its health, the account's usage for the cost commands, the reconciliation with r2watch's own
// counts and the bucket list. The one JSON codec of this domain: core/account/ takes and
// returns plain structs.
//
// Row arrays (compact, as D1 stores them):
//   operations hour rows  [hour_ms, bucket, action_type, action_status, status_code, requests,
//   response_bytes] operations day rows   [date, bucket, action_type, status_code, requests,
//   response_bytes] storage day rows      [date, bucket, storage_class, payload_bytes,
//   metadata_bytes, objects, pending_uploads] last-day counts       [bucket, action_type,
//   action_status, requests] r2watch's own counts  [date, bucket, operation, calls]
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "core/account/action-class.h"
#include "core/account/collector.h"
#include "core/account/figures.h"
#include "core/common/civil-date.h"
#include "core/common/json-fields.h"
#include "core/cost/money.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using account::Dataset;
using nlohmann::json;

namespace {

// ---- small readers -----------------------------------------------------------------------

std::optional<uint64_t> whole(const json& v) {
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

std::optional<TimePoint> ms_of(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null() || !it->is_number_integer()) return std::nullopt;
  return from_epoch_ms(it->get<int64_t>());
}

json ms_json(const std::optional<TimePoint>& t) {
  return t ? json(to_epoch_ms(*t)) : json(nullptr);
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
Result<account::CollectorOptions> options_of(const json& in) {
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

account::CollectorState state_of(const json& in) {
  account::CollectorState s;
  auto it = in.find("state");
  if (it == in.end() || !it->is_object()) return s;  // none stored yet: a first run
  const json& j = *it;
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

json state_json(const account::CollectorState& s) {
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

Result<account::CollectorRun> run_of(const json& in) {
  account::CollectorRun run;
  auto it = in.find("run");
  if (it == in.end() || !it->is_object()) return invalid_field("run", "run must be an object");
  const json& j = *it;
  auto q = j.find("queue");
  if (q == j.end() || !q->is_array()) return invalid_field("run.queue", "run.queue must be a list");
  for (const json& w : *q) {
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

json run_json(const account::CollectorRun& run) {
  json q = json::array();
  for (const account::Window& w : run.queue) {
    q.push_back({account::dataset_key(w.dataset), to_epoch_ms(w.start), to_epoch_ms(w.end)});
  }
  return {{"queue", q}, {"queries_left", run.queries_left}, {"error", run.error}};
}

// The GraphQL request of a window, as Cloudflare's API takes it: {"query", "variables"}.
json query_json(const account::Window& w, const std::string& account_id, uint32_t limit) {
  std::string query;
  if (w.dataset == Dataset::kOperations) {
    query =
        "query R2Operations($accountTag: string!, $start: Time!, $end: Time!, $limit: uint64!) "
        "{ viewer { accounts(filter: {accountTag: $accountTag}) { "
        "r2OperationsAdaptiveGroups(limit: $limit, filter: {datetime_geq: $start, datetime_lt: "
        "$end}, orderBy: [datetimeHour_ASC]) { sum { requests responseObjectSize } dimensions { "
        "datetimeHour bucketName actionType actionStatus responseStatusCode } } } } }";
  } else {
    query =
        "query R2Storage($accountTag: string!, $start: Time!, $end: Time!, $limit: uint64!) "
        "{ viewer { accounts(filter: {accountTag: $accountTag}) { "
        "r2StorageAdaptiveGroups(limit: $limit, filter: {datetime_geq: $start, datetime_lt: "
        "$end}, orderBy: [date_ASC]) { max { payloadSize metadataSize objectCount uploadCount } "
        "dimensions { date bucketName } } } } }";
  }
  json body = {{"query", query},
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

json next_query(const account::CollectorRun& run, const std::string& account_id, uint32_t limit) {
  if (run.queue.empty()) return nullptr;
  return query_json(run.queue.front(), account_id, limit);
}

// ---- reading an answer ---------------------------------------------------------------------

struct Parsed {
  std::string problem;
  size_t groups = 0;
  json rows = json::array();
};

// Reads a window's answer in one pass (nlohmann's SAX interface: no document is built, a
// group's fields are checked as they stream by and become one row): the GraphQL `errors`, the
// dataset's groups under data.viewer.accounts[0], and the first thing wrong as the problem.
class AnswerReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  AnswerReader(const account::Window& w, uint32_t limit, Parsed& out)
      : window_(w),
        ops_(w.dataset == Dataset::kOperations),
        dataset_(account::dataset_name(w.dataset)),
        limit_(limit),
        out_(out) {}

  bool null() { return scalar(Value{}); }
  bool boolean(bool) { return scalar(Value{.kind = Value::kOther}); }
  bool number_integer(number_integer_t n) {
    return scalar(n < 0 ? Value{.kind = Value::kNegative}
                        : Value{.kind = Value::kWhole, .whole = static_cast<uint64_t>(n)});
  }
  bool number_unsigned(number_unsigned_t n) {
    return scalar(Value{.kind = Value::kWhole, .whole = n});
  }
  bool number_float(number_float_t d, const string_t&) {
    if (std::isfinite(d) && d >= 0 && std::floor(d) == d && d <= 9.007199254740992e15) {
      return scalar(Value{.kind = Value::kWhole, .whole = static_cast<uint64_t>(d)});
    }
    return scalar(Value{.kind = d < 0 ? Value::kNegative : Value::kOther});
  }
  bool string(string_t& s) { return scalar(Value{.kind = Value::kString, .text = &s}); }
  bool binary(binary_t&) { return scalar(Value{.kind = Value::kOther}); }

  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool key(string_t& k) {
    frames_.back().key = k;
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    syntax_error_ = true;
    return false;
  }

  // After sax_parse: the problem, if any, in the order the DOM reader checked them.
  void finish(bool parsed) {
    if (!parsed || syntax_error_ || !root_object_) {
      out_ = Parsed{.problem = "the answer is not a JSON object"};
    } else if (errors_) {
      if (error_message_.size() > 200) error_message_ = error_message_.substr(0, 200) + "...";
      out_ = Parsed{.problem = "the answer has GraphQL errors" +
                               (error_message_.empty() ? "" : ": " + error_message_)};
    } else if (!groups_found_ || accounts_ != 1) {
      out_ = Parsed{.problem = "data.viewer.accounts[0]." + std::string(dataset_) + " is missing"};
    } else {
      out_.groups = groups_;
      if (!problem_.empty()) {
        out_.problem = problem_;
        out_.rows = json::array();
      } else if (groups_ >= limit_) {
        out_.rows = json::array();  // cut off: split and asked again, never stored
      }
    }
  }

 private:
  enum class Zone : uint8_t {
    kIgnore,
    kRoot,
    kErrors,
    kFirstError,
    kData,
    kViewer,
    kAccounts,
    kAccount,
    kGroups,
    kGroup,
    kFigures,
    kDimensions
  };
  struct Frame {
    Zone zone;
    bool array;
    std::string key;
    size_t count = 0;
  };
  struct Value {
    enum Kind : uint8_t { kNull, kWhole, kNegative, kString, kOther } kind = kNull;
    uint64_t whole = 0;
    const std::string* text = nullptr;
  };

  // The zone of a container opened at the top frame's current key (or element).
  Zone child_zone(bool array) {
    if (frames_.empty()) return array ? Zone::kIgnore : Zone::kRoot;
    Frame& f = frames_.back();
    const std::string& k = f.key;
    switch (f.zone) {
      case Zone::kRoot:
        if (k == "errors") return Zone::kErrors;
        if (k == "data" && !array) return Zone::kData;
        return Zone::kIgnore;
      case Zone::kErrors:
        return f.count++ == 0 && !array ? Zone::kFirstError : Zone::kIgnore;
      case Zone::kData:
        return k == "viewer" && !array ? Zone::kViewer : Zone::kIgnore;
      case Zone::kViewer:
        return k == "accounts" && array ? Zone::kAccounts : Zone::kIgnore;
      case Zone::kAccounts:
        ++accounts_;
        return accounts_ == 1 && !array ? Zone::kAccount : Zone::kIgnore;
      case Zone::kAccount:
        if (k == dataset_ && array) {
          groups_found_ = true;
          return Zone::kGroups;
        }
        return Zone::kIgnore;
      case Zone::kGroups:
        ++groups_;
        if (array) fail_group("is not an object");
        return array ? Zone::kIgnore : begin_group();
      case Zone::kGroup:
        if (k == (ops_ ? "sum" : "max") && !array) {
          has_figures_ = true;
          return Zone::kFigures;
        }
        if (k == "dimensions" && !array) {
          has_dimensions_ = true;
          return Zone::kDimensions;
        }
        return Zone::kIgnore;
      default:
        return Zone::kIgnore;
    }
  }

  bool open(bool array) {
    if (frames_.empty() && !array) root_object_ = true;
    Zone z = child_zone(array);
    if (z == Zone::kErrors) errors_ = true;
    frames_.push_back(Frame{.zone = z, .array = array, .key = {}});
    return true;
  }

  bool close() {
    Zone z = frames_.back().zone;
    frames_.pop_back();
    if (z == Zone::kGroup) end_group();
    return true;
  }

  bool scalar(const Value& v) {
    if (frames_.empty()) return true;  // a bare scalar document: not an object
    Frame& f = frames_.back();
    switch (f.zone) {
      case Zone::kRoot:
        if (f.key == "errors" && v.kind != Value::kNull) errors_ = true;
        break;
      case Zone::kFirstError:
        if (f.key == "message" && v.kind == Value::kString && error_message_.empty()) {
          error_message_ = *v.text;
        }
        break;
      case Zone::kAccounts:
        ++accounts_;
        break;
      case Zone::kGroups:
        ++groups_;
        fail_group("is not an object");
        break;
      case Zone::kFigures:
        figure(f.key, v);
        break;
      case Zone::kDimensions:
        dimension(f.key, v);
        break;
      default:
        break;
    }
    return true;
  }

  bool building() const { return problem_.empty() && groups_ < limit_; }

  Zone begin_group() {
    has_figures_ = has_dimensions_ = false;
    figures_.fill(std::nullopt);
    figure_bad_.clear();
    hour_.clear();
    date_.clear();
    bucket_.clear();
    action_.clear();
    status_.clear();
    storage_class_ = "standard";
    code_.reset();
    code_bad_ = false;
    return Zone::kGroup;
  }

  void fail_group(const std::string& what) {
    if (problem_.empty()) {
      problem_ = std::string(dataset_) + "[" + std::to_string(groups_ - 1) + "]." + what;
    }
  }

  std::span<const char* const> figure_names() const {
    static constexpr const char* kOps[] = {"requests", "responseObjectSize"};
    static constexpr const char* kStorage[] = {"payloadSize", "metadataSize", "objectCount",
                                               "uploadCount"};
    return ops_ ? std::span<const char* const>(kOps) : std::span<const char* const>(kStorage);
  }

  void figure(const std::string& name, const Value& v) {
    if (!building()) return;
    auto names = figure_names();
    for (size_t i = 0; i < names.size(); ++i) {
      if (name != names[i]) continue;
      if (v.kind == Value::kWhole) {
        figures_[i] = v.whole;
      } else if (figure_bad_.empty()) {
        figure_bad_ = name;
      }
    }
  }

  void dimension(const std::string& name, const Value& v) {
    if (!building()) return;
    if (name == "responseStatusCode") {
      code_ = v.kind == Value::kWhole ? std::optional<uint64_t>(v.whole) : std::nullopt;
      if (v.kind != Value::kWhole) code_bad_ = true;
      return;
    }
    if (v.kind != Value::kString) return;
    if (name == "datetimeHour") hour_ = *v.text;
    if (name == "date") date_ = *v.text;
    if (name == "bucketName") bucket_ = *v.text;
    if (name == "actionType") action_ = *v.text;
    if (name == "actionStatus") status_ = *v.text;
    if (name == "storageClass") {
      storage_class_ = *v.text == "InfrequentAccess" || *v.text == "infrequent_access"
                           ? "infrequent_access"
                           : "standard";
    }
  }

  void end_group() {
    if (!building()) return;
    const char* figures_key = ops_ ? "sum" : "max";
    if (!has_figures_) return fail_group(std::string(figures_key) + " is missing");
    if (!has_dimensions_) return fail_group("dimensions is missing");
    json row;
    if (ops_) {
      if (hour_.empty() || bucket_.empty() || action_.empty() || status_.empty()) {
        return fail_group("dimensions lacks datetimeHour, bucketName, actionType or actionStatus");
      }
      auto t = parse_iso_time(hour_);
      if (!t || *t < window_.start || *t >= window_.end) {
        return fail_group("dimensions.datetimeHour is not an hour of the window asked for");
      }
      if (!account::parse_action_status(status_)) {
        return fail_group("dimensions.actionStatus is not success, userError or internalError");
      }
      if (code_bad_ || !code_ || *code_ > 999) {
        return fail_group("dimensions.responseStatusCode is not an HTTP status");
      }
      row = json::array({to_epoch_ms(*t), bucket_, action_, status_, *code_});
    } else {
      if (date_.empty() || bucket_.empty())
        return fail_group("dimensions lacks date or bucketName");
      auto day = parse_date(date_);
      TimePoint t = day ? from_epoch_ms(days_since_epoch(*day) * 86'400'000) : TimePoint{};
      if (!day || t < window_.start || t >= window_.end) {
        return fail_group("dimensions.date is not a day of the window asked for");
      }
      row = json::array({date_, bucket_, storage_class_});
    }
    auto names = figure_names();
    for (size_t i = 0; i < names.size(); ++i) {
      if (!figure_bad_.empty() && figure_bad_ == names[i]) {
        return fail_group(std::string(figures_key) + "." + names[i] +
                          " is not a whole non-negative number");
      }
      if (!figures_[i]) {
        return fail_group(std::string(figures_key) + "." + names[i] + " is missing");
      }
      row.push_back(*figures_[i]);
    }
    out_.rows.push_back(std::move(row));
  }

  const account::Window& window_;
  const bool ops_;
  const std::string_view dataset_;
  const uint32_t limit_;
  Parsed& out_;

  std::vector<Frame> frames_;
  bool syntax_error_ = false;
  bool root_object_ = false;
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
  std::string figure_bad_;
  std::string hour_, date_, bucket_, action_, status_, storage_class_;
  std::optional<uint64_t> code_;
  bool code_bad_ = false;
};

Parsed read_answer(std::string_view text, const account::Window& w, uint32_t limit) {
  Parsed p;
  AnswerReader reader(w, limit, p);
  bool parsed = json::sax_parse(text, &reader);
  reader.finish(parsed);
  return p;
}

// ---- the collector's commands ------------------------------------------------------------

struct Common {
  account::CollectorOptions options;
  account::CollectorState state;
  std::string account_id;
};

Result<Common> common_of(const json& in) {
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
Result<json> account_plan(Engine&, const json& in, TimePoint now) {
  auto c = common_of(in);
  if (!c.ok()) return c.error();
  account::CollectorRun run = account::plan_run(c.value().state, now, c.value().options);
  account::CollectorState state = c.value().state;
  state.last_run_at = now;
  return json{{"run", run_json(run)},
              {"state", state_json(state)},
              {"next", next_query(run, c.value().account_id, c.value().options.limit)}};
}

// The answer to the run's first window: {"account_id", "state", "options"?, "run",
// "http_status", "retry_after_s"?, "answer"?: <the body as text>} (without "answer", the body
// is the call's attachment: r2w_call_attached) -> {"verdict", "reason",
// "run", "state", "store": {"dataset", "start_ms", "end_ms", "rows"} | null, "next"}.
// `store` replaces everything the window held (late data replaces, never adds).
Result<json> account_ingest(Engine& engine, const json& in, TimePoint now) {
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
    std::string_view text = a != in.end() && a->is_string()
                                ? std::string_view(a->get_ref<const std::string&>())
                                : engine.attachment();
    if (text.empty()) {
      parsed.problem = "the answer is empty";
    } else {
      parsed = read_answer(text, w, c.value().options.limit);
    }
    summary.problem = parsed.problem;
    summary.groups = parsed.groups;
  }
  account::Step step =
      account::advance(std::move(run).value(), c.value().state, summary, now, c.value().options);
  json store = nullptr;
  if (step.verdict == account::Verdict::kStore) {
    store = {{"dataset", account::dataset_key(w.dataset)},
             {"start_ms", to_epoch_ms(w.start)},
             {"end_ms", to_epoch_ms(w.end)},
             {"rows", std::move(parsed.rows)}};
  }
  return json{{"verdict", account::verdict_name(step.verdict)},
              {"reason", step.reason},
              {"run", run_json(step.run)},
              {"state", state_json(step.state)},
              {"store", std::move(store)},
              {"next", next_query(step.run, c.value().account_id, c.value().options.limit)}};
}

// {"configured", "state"?, "options"?, "action_types": [names seen in the last 31 days]} ->
// {"status", "message", "warning", "unclassified": [names], "warnings": [text], ...}.
Result<json> account_health(Engine&, const json& in, TimePoint now) {
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
  json unclassified = json::array();
  json warnings = json::array();
  if (auto a = in.find("action_types"); a != in.end() && a->is_array()) {
    for (const json& name : *a) {
      if (!name.is_string()) continue;
      const std::string& n = name.get_ref<const std::string&>();
      if (account::classify_action(n) == account::ActionClass::kUnclassified) {
        unclassified.push_back(n);
        warnings.push_back("R2 action type " + n +
                           " is in no class of the pricing table: billed as Class A");
      }
    }
  }
  return json{{"enabled", configured},
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

Result<std::vector<account::OperationsDay>> operation_days_of(const json& list,
                                                              const std::string& field) {
  std::vector<account::OperationsDay> out;
  if (!list.is_array()) return invalid_field(field, field + " must be a list");
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const json& r = list[i];
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!r.is_array() || r.size() != 6 || !r[0].is_string() || !r[1].is_string() ||
        !r[2].is_string() || !whole(r[3]) || !whole(r[4]) || !whole(r[5])) {
      return invalid_field(at, at + " must be [date, bucket, action_type, status_code, "
                                    "requests, response_bytes]");
    }
    auto d = parse_date(r[0].get_ref<const std::string&>());
    if (!d) return invalid_field(at, at + " has no date as YYYY-MM-DD");
    out.push_back({*d, r[1].get<std::string>(), r[2].get<std::string>(),
                   static_cast<uint32_t>(std::min<uint64_t>(*whole(r[3]), 999)), *whole(r[4]),
                   *whole(r[5])});
  }
  return out;
}

Result<std::vector<account::StorageRow>> storage_rows_of(const json& list,
                                                         const std::string& field) {
  std::vector<account::StorageRow> out;
  if (!list.is_array()) return invalid_field(field, field + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& r = list[i];
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!r.is_array() || r.size() != 7 || !r[0].is_string() || !r[1].is_string() ||
        !r[2].is_string() || !whole(r[3]) || !whole(r[4]) || !whole(r[5]) || !whole(r[6])) {
      return invalid_field(at, at + " must be [date, bucket, storage_class, payload_bytes, "
                                    "metadata_bytes, objects, pending_uploads]");
    }
    auto d = parse_date(r[0].get_ref<const std::string&>());
    auto c = cost::parse_storage_class(r[2].get_ref<const std::string&>());
    if (!d || !c) return invalid_field(at, at + " has no date or storage class");
    out.push_back(
        {*d, r[1].get<std::string>(), *c, *whole(r[3]), *whole(r[4]), *whole(r[5]), *whole(r[6])});
  }
  return out;
}

// {"cloudflare": [operations day rows], "own": [[date, bucket, operation, calls]]} -> per
// bucket and day, requests by class as each counted them, and the share around r2watch.
Result<json> account_reconcile(Engine&, const json& in, TimePoint) {
  auto cf = operation_days_of(in.value("cloudflare", json::array()), "cloudflare");
  if (!cf.ok()) return cf.error();
  std::vector<account::OwnOperationsDay> own;
  const json list = in.value("own", json::array());
  if (!list.is_array()) return invalid_field("own", "own must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& r = list[i];
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
    json o = json::object();
    for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                   account::ActionClass::kFree, account::ActionClass::kUnclassified}) {
      o[std::string(account::action_class_name(k))] = c[account::class_index(k)];
    }
    return o;
  };
  auto row_json = [&](const account::ReconcileRow& r) {
    json o = {{"cloudflare", classes(r.cloudflare)},
              {"r2watch", classes(r.r2watch)},
              {"cloudflare_total", r.cloudflare_total},
              {"r2watch_total", r.r2watch_total},
              {"around_r2watch", r.around},
              {"around_r2watch_pct", r.around_bp / 100.0}};
    if (!r.bucket.empty()) {
      o["date"] = format_date(r.date);
      o["bucket"] = r.bucket;
    }
    return o;
  };
  json rows = json::array();
  for (const auto& r : rec.rows) rows.push_back(row_json(r));
  return json{{"rows", rows}, {"total", row_json(rec.total)}};
}

// {"storage": [latest storage day rows], "last_day": [[bucket, action_type, action_status,
// requests]], "costs": [{"key": bucket, "total_micro_usd"}] (cost_breakdown rows)} -> buckets.
Result<json> account_buckets(Engine&, const json& in, TimePoint) {
  auto st = storage_rows_of(in.value("storage", json::array()), "storage");
  if (!st.ok()) return st.error();
  std::vector<account::OperationsCount> last;
  const json ld = in.value("last_day", json::array());
  if (!ld.is_array()) return invalid_field("last_day", "last_day must be a list");
  for (size_t i = 0; i < ld.size(); ++i) {
    const json& r = ld[i];
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
  const json cl = in.value("costs", json::array());
  if (cl.is_array()) {
    for (const json& c : cl) {
      if (!c.is_object() || !c.contains("key") || !c["key"].is_string()) continue;
      auto m = c.find("total_micro_usd");
      if (m == c.end() || !m->is_number_integer()) continue;
      costs.push_back({c["key"].get<std::string>(), cost::Money::micro_usd(m->get<int64_t>())});
    }
  }
  json out = json::array();
  for (const account::BucketSummary& b : account::bucket_summaries(st.value(), last, costs)) {
    json ops = json::object();
    for (auto k : {account::ActionClass::kClassA, account::ActionClass::kClassB,
                   account::ActionClass::kFree, account::ActionClass::kUnclassified}) {
      ops[std::string(account::action_class_name(k))] = b.requests_24h[account::class_index(k)];
    }
    out.push_back({{"bucket", b.bucket},
                   {"storage_date", b.storage_date ? json(format_date(*b.storage_date)) : json()},
                   {"objects", b.objects},
                   {"stored_bytes", b.stored_bytes},
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
  return json{{"buckets", out}};
}

// The alert engine's figures from the account ({"hours": [[hour_ms, bucket, requests,
// internal_errors]], "storage": [storage day rows], "windows_ms": [the account rules' windows]})
// -> {"series": [{"metric", "bucket", "window_ms", "value", "samples", "detail"}]}, the
// alert round's generic `series` figures.
Result<json> account_alert_figures(Engine&, const json& in, TimePoint now) {
  std::vector<account::HourTotal> hours;
  const json hl = in.value("hours", json::array());
  if (!hl.is_array()) return invalid_field("hours", "hours must be a list");
  hours.reserve(hl.size());
  for (size_t i = 0; i < hl.size(); ++i) {
    const json& r = hl[i];
    if (!r.is_array() || r.size() != 4 || !r[0].is_number_integer() || !r[1].is_string() ||
        !whole(r[2]) || !whole(r[3])) {
      std::string at = "hours[" + std::to_string(i) + "]";
      return invalid_field(at, at + " must be [hour_ms, bucket, requests, internal_errors]");
    }
    hours.push_back(
        {from_epoch_ms(r[0].get<int64_t>()), r[1].get<std::string>(), *whole(r[2]), *whole(r[3])});
  }
  auto st = storage_rows_of(in.value("storage", json::array()), "storage");
  if (!st.ok()) return st.error();
  std::vector<Duration> windows;
  const json wl = in.value("windows_ms", json::array());
  if (!wl.is_array()) return invalid_field("windows_ms", "windows_ms must be a list");
  for (const json& w : wl) {
    if (!whole(w) || *whole(w) == 0) {
      return invalid_field("windows_ms", "windows_ms must hold windows in milliseconds");
    }
    windows.push_back(Duration(static_cast<int64_t>(*whole(w))));
  }
  json series = json::array();
  for (const account::AlertFigure& f : account::alert_figures(hours, st.value(), windows, now)) {
    series.push_back({{"metric", f.metric},
                      {"bucket", f.bucket},
                      {"window_ms", f.window.count()},
                      {"value", f.value},
                      {"samples", f.samples},
                      {"detail", f.detail}});
  }
  return json{{"series", series}};
}

// {"windows_ms": [the account rules' windows]} -> what account_alert_figures needs:
// {"hours_ms": [hours the spike compares], "hours_since_ms", "storage_since": "YYYY-MM-DD"}.
Result<json> account_alert_reach(Engine&, const json& in, TimePoint now) {
  std::vector<Duration> windows;
  const json wl = in.value("windows_ms", json::array());
  if (!wl.is_array()) return invalid_field("windows_ms", "windows_ms must be a list");
  for (const json& w : wl) {
    if (!whole(w) || *whole(w) == 0) {
      return invalid_field("windows_ms", "windows_ms must hold windows in milliseconds");
    }
    windows.push_back(Duration(static_cast<int64_t>(*whole(w))));
  }
  account::AlertReach r = account::alert_reach(windows, now);
  json hours = json::array();
  for (TimePoint h : r.hours) hours.push_back(to_epoch_ms(h));
  return json{{"hours_ms", hours},
              {"hours_since_ms", to_epoch_ms(r.hours_since)},
              {"storage_since", format_date(r.storage_since)}};
}

constexpr CommandEntry kCommands[] = {
    {"account_alert_reach", account_alert_reach},
    {"account_alert_figures", account_alert_figures},
    {"account_plan", account_plan},
    {"account_ingest", account_ingest},
    {"account_health", account_health},
    {"account_reconcile", account_reconcile},
    {"account_buckets", account_buckets},
};

}  // namespace

Result<account::AccountUsage> account_usage_from_json(const json& j, std::string_view field) {
  std::string base(field);
  if (!j.is_object()) return invalid_field(base, base + " must be {operations, storage}");
  auto ops = operation_days_of(j.value("operations", json::array()), base + ".operations");
  if (!ops.ok()) return ops.error();
  auto st = storage_rows_of(j.value("storage", json::array()), base + ".storage");
  if (!st.ok()) return st.error();
  return account::account_usage(ops.value(), st.value());
}

json account_usage_notes_json(const account::AccountUsage& u) {
  json unclassified = json::array();
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
