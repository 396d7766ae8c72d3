#include "core/health/status-page.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <utility>

namespace r2w::health::status {

namespace {

constexpr std::pair<ProbeTrigger, std::string_view> kTriggerNames[] = {
    {ProbeTrigger::kScheduled, "scheduled"},
    {ProbeTrigger::kManual, "manual"},
};
constexpr std::pair<TallyPeriod, std::string_view> kPeriodNames[] = {
    {TallyPeriod::kHour, "hour"},
    {TallyPeriod::kDay, "day"},
};
constexpr std::pair<PublicState, std::string_view> kStateNames[] = {
    {PublicState::kOperational, "operational"},
    {PublicState::kDegraded, "degraded"},
    {PublicState::kOutage, "outage"},
};
constexpr std::pair<Level, std::string_view> kLevelNames[] = {
    {Level::kHealthy, "healthy"},
    {Level::kDegraded, "degraded"},
    {Level::kUnhealthy, "unhealthy"},
};
constexpr std::pair<IncidentStatus, std::string_view> kIncidentStatusNames[] = {
    {IncidentStatus::kInvestigating, "investigating"},
    {IncidentStatus::kIdentified, "identified"},
    {IncidentStatus::kMonitoring, "monitoring"},
    {IncidentStatus::kResolved, "resolved"},
};
constexpr std::pair<IncidentImpact, std::string_view> kImpactNames[] = {
    {IncidentImpact::kNone, "none"},
    {IncidentImpact::kMinor, "minor"},
    {IncidentImpact::kMajor, "major"},
    {IncidentImpact::kCritical, "critical"},
};

template <class E, size_t N>
std::string_view name_in(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

template <class E, size_t N>
std::optional<E> parse_in(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

template <class E, size_t N>
std::string names_of(const std::pair<E, std::string_view> (&table)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += table[i].second;
  }
  return out;
}

// Length of the UTF-8 sequence at s[i] (1..4), or 0 when it is malformed (overlong forms,
// surrogates and code points past U+10FFFF included).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  constexpr uint32_t kMinOf[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinOf[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

enum class LineBreaks : uint8_t { kRefused, kAllowed };

// Public text an admin wrote: 1..max characters of valid UTF-8, no control characters (line
// breaks allowed in messages), not only spaces.
std::optional<Error> check_text(std::string_view text, std::string_view field, size_t max,
                                LineBreaks breaks) {
  std::string f(field);
  size_t chars = 0;
  bool blank = true;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_length(text, i);
    if (len == 0) return invalid_field(f, f + " must be valid UTF-8");
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool line_break = c == '\n' || c == '\r';
    if (len == 1 && (c < 0x20 || c == 0x7F) && !(line_break && breaks == LineBreaks::kAllowed)) {
      return invalid_field(f, f + " must not hold control characters");
    }
    if (!(len == 1 && (c == ' ' || line_break || c == '\t'))) blank = false;
    ++chars;
    i += len;
  }
  if (blank) return invalid_field(f, f + " must not be empty");
  if (chars > max) {
    return invalid_field(f, f + " must be at most " + std::to_string(max) + " characters");
  }
  return std::nullopt;
}

Result<IncidentStatus> status_field(const std::optional<std::string>& text, IncidentStatus fallback,
                                    bool required) {
  if (!text) {
    if (required) return invalid_field("status", "status is required");
    return fallback;
  }
  auto s = parse_incident_status(*text);
  if (!s) {
    return invalid_field("status", "status must be " + names_of(kIncidentStatusNames));
  }
  return *s;
}

void apply(Incident& incident, const IncidentUpdate& update) {
  incident.status = update.status;
  incident.updated_at = update.posted_at;
  if (update.status == IncidentStatus::kResolved) {
    if (!incident.resolved_at) incident.resolved_at = update.posted_at;
  } else {
    incident.resolved_at.reset();
  }
}

}  // namespace

std::string_view trigger_name(ProbeTrigger t) { return name_in(kTriggerNames, t); }
std::optional<ProbeTrigger> parse_trigger(std::string_view name) {
  return parse_in(kTriggerNames, name);
}
std::string_view period_name(TallyPeriod p) { return name_in(kPeriodNames, p); }
std::optional<TallyPeriod> parse_period(std::string_view name) {
  return parse_in(kPeriodNames, name);
}
Duration period_length(TallyPeriod p) { return p == TallyPeriod::kHour ? kHour : kDay; }

UptimeCount count_of(ProbeTrigger trigger, ProbeStatus status) {
  if (trigger != ProbeTrigger::kScheduled) return UptimeCount::kNotCounted;
  switch (status) {
    case ProbeStatus::kOk:
    case ProbeStatus::kSlow:
      return UptimeCount::kUp;
    case ProbeStatus::kUnexpected:
    case ProbeStatus::kError:
    case ProbeStatus::kTimeout:
    case ProbeStatus::kCircuitOpen:
      return UptimeCount::kDown;
  }
  return UptimeCount::kNotCounted;
}

TimePoint period_start(TallyPeriod period, TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t len = period_length(period).count();
  // Floor division: a time before the epoch still lands at the start of its period.
  int64_t q = ms / len - (ms % len < 0 ? 1 : 0);
  return from_epoch_ms(q * len);
}

TimePoint window_start(const UptimeWindow& window, TimePoint now) {
  return period_start(window.period, now) -
         period_length(window.period) * static_cast<int64_t>(window.periods - 1);
}

TallyRange tally_range(TimePoint now) {
  TallyRange r{.hours_from = now, .days_from = now};
  for (const UptimeWindow& w : kUptimeWindows) {
    TimePoint& from = w.period == TallyPeriod::kHour ? r.hours_from : r.days_from;
    from = std::min(from, window_start(w, now));
  }
  return r;
}

std::optional<double> uptime_pct(uint64_t up, uint64_t counted) {
  if (counted == 0) return std::nullopt;
  up = std::min(up, counted);
  if (up == counted) return 100.0;
  // Thousandths of a percent, rounded down in integers (no floating-point rounding up to 100).
  // (Counts past 2^64 / 10^5, 1.8e14 probes, are scaled down first: a rounding of the last digit.)
  constexpr uint64_t kScale = 100'000;
  while (up > UINT64_MAX / kScale) {
    up /= 2;
    counted /= 2;
  }
  uint64_t milli = up * kScale / counted;
  return static_cast<double>(std::min<uint64_t>(milli, kScale - 1)) / 1000.0;
}

DayLevel day_level(std::optional<double> pct) {
  if (!pct) return DayLevel::kNone;
  if (*pct >= kDayUpPct) return DayLevel::kUp;
  if (*pct >= kDayPartialPct) return DayLevel::kPartial;
  return DayLevel::kDown;
}

std::string_view day_level_name(DayLevel level) {
  switch (level) {
    case DayLevel::kNone:
      return "none";
    case DayLevel::kUp:
      return "up";
    case DayLevel::kPartial:
      return "partial";
    case DayLevel::kDown:
      return "down";
  }
  return "none";
}

UptimeReport compute_uptime(const std::vector<ProbeTally>& tallies, TimePoint now) {
  UptimeReport report;
  for (Operation op : kAllOperations) report.operations.push_back({.operation = op});
  const UptimeWindow& days_window = kUptimeWindows.back();
  TimePoint first_day = window_start(days_window, now);
  for (uint32_t i = 0; i < days_window.periods; ++i) {
    report.days.push_back({.day = first_day + kDay * static_cast<int64_t>(i)});
  }
  TimePoint current_hour_end = period_start(TallyPeriod::kHour, now) + kHour;
  for (const ProbeTally& t : tallies) {
    UptimeCount count = count_of(t.trigger, t.status);
    if (count == UptimeCount::kNotCounted) continue;
    if (period_start(t.period, t.start) != t.start || t.start >= current_hour_end) continue;
    uint64_t up = count == UptimeCount::kUp ? t.checks : 0;
    auto& op = report.operations[static_cast<size_t>(t.operation)].windows;
    for (size_t w = 0; w < kUptimeWindows.size(); ++w) {
      const UptimeWindow& window = kUptimeWindows[w];
      if (window.period != t.period || t.start < window_start(window, now)) continue;
      op[w].counted += t.checks;
      op[w].up += up;
      report.overall[w].counted += t.checks;
      report.overall[w].up += up;
    }
    if (t.period == TallyPeriod::kDay && t.start >= first_day) {
      auto index = static_cast<size_t>((t.start - first_day) / kDay);
      if (index < report.days.size()) {
        report.days[index].uptime.counted += t.checks;
        report.days[index].uptime.up += up;
      }
    }
  }
  return report;
}

std::string_view public_state_name(PublicState s) { return name_in(kStateNames, s); }

PublicState public_state_of(Level level) {
  switch (level) {
    case Level::kHealthy:
      return PublicState::kOperational;
    case Level::kDegraded:
      return PublicState::kDegraded;
    case Level::kUnhealthy:
      return PublicState::kOutage;
  }
  return PublicState::kOutage;
}

std::optional<Level> parse_level(std::string_view name) { return parse_in(kLevelNames, name); }

std::vector<PublicComponent> public_components(const std::vector<VerdictComponent>& verdict) {
  static constexpr std::pair<std::string_view, std::string_view> kPublic[] = {
      {"storage", "Storage API"},
      {"database", "Database"},
      {"jobs", "Monitoring and alerting"},
  };
  std::vector<PublicComponent> out;
  for (const auto& shown : kPublic) {
    for (const VerdictComponent& c : verdict) {
      if (c.name != shown.first) continue;
      out.push_back(
          {.name = shown.first, .title = shown.second, .state = public_state_of(c.level)});
      break;
    }
  }
  return out;
}

PublicState overall_state(const std::vector<PublicComponent>& components) {
  PublicState worst = PublicState::kOperational;
  for (const PublicComponent& c : components) worst = std::max(worst, c.state);
  return worst;
}

std::string_view incident_status_name(IncidentStatus s) { return name_in(kIncidentStatusNames, s); }
std::optional<IncidentStatus> parse_incident_status(std::string_view name) {
  return parse_in(kIncidentStatusNames, name);
}
std::string_view impact_name(IncidentImpact i) { return name_in(kImpactNames, i); }
std::optional<IncidentImpact> parse_impact(std::string_view name) {
  return parse_in(kImpactNames, name);
}

Result<Publication> publish(const PublishRequest& request, const std::optional<Incident>& current,
                            std::string_view id, TimePoint now) {
  Incident incident;
  if (current) {
    incident = *current;
  } else {
    incident.id = std::string(id);
    incident.started_at = now;
  }
  if (request.title) {
    if (auto e = check_text(*request.title, "title", kMaxTitleChars, LineBreaks::kRefused)) {
      return *e;
    }
    incident.title = *request.title;
  } else if (!current) {
    return invalid_field("title", "title is required: the words the public reads");
  }
  if (request.impact) {
    auto impact = parse_impact(*request.impact);
    if (!impact) return invalid_field("impact", "impact must be " + names_of(kImpactNames));
    incident.impact = *impact;
  }
  if (request.status && !request.message) {
    return invalid_field("message", "message is required with status: post it as an update");
  }
  Publication out;
  if (request.message) {
    auto status = status_field(request.status, IncidentStatus::kInvestigating, false);
    if (!status.ok()) return status.error();
    if (auto e = check_text(*request.message, "message", kMaxMessageChars, LineBreaks::kAllowed)) {
      return *e;
    }
    out.update =
        IncidentUpdate{.status = status.value(), .message = *request.message, .posted_at = now};
    apply(incident, *out.update);
  }
  incident.published = true;
  incident.updated_at = now;
  out.incident = std::move(incident);
  return out;
}

Result<Publication> post_update(const UpdateRequest& request, const Incident& current,
                                TimePoint now) {
  auto status = status_field(request.status, current.status, true);
  if (!status.ok()) return status.error();
  if (!request.message) return invalid_field("message", "message is required");
  if (auto e = check_text(*request.message, "message", kMaxMessageChars, LineBreaks::kAllowed)) {
    return *e;
  }
  Publication out{.incident = current,
                  .update = IncidentUpdate{
                      .status = status.value(), .message = *request.message, .posted_at = now}};
  apply(out.incident, *out.update);
  return out;
}

std::vector<Incident> visible_incidents(std::vector<Incident> incidents, TimePoint now) {
  std::vector<Incident> out;
  for (Incident& i : incidents) {
    if (!i.published) continue;
    if (i.resolved_at && *i.resolved_at < now - kResolvedShownFor) continue;
    std::sort(i.updates.begin(), i.updates.end(),
              [](const auto& a, const auto& b) { return a.posted_at > b.posted_at; });
    if (i.updates.size() > kMaxUpdatesShown) i.updates.resize(kMaxUpdatesShown);
    out.push_back(std::move(i));
  }
  // Unresolved first, then newest first; the id breaks ties so the order never wobbles.
  std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
    bool ar = a.resolved_at.has_value(), br = b.resolved_at.has_value();
    if (ar != br) return !ar;
    if (a.started_at != b.started_at) return a.started_at > b.started_at;
    return a.id < b.id;
  });
  if (out.size() > kMaxIncidentsShown) out.resize(kMaxIncidentsShown);
  return out;
}

PublicState page_state(const std::vector<PublicComponent>& components,
                       const std::vector<Incident>& incidents) {
  PublicState worst = overall_state(components);
  for (const Incident& i : incidents) {
    if (!i.published || i.resolved_at) continue;
    if (i.impact == IncidentImpact::kCritical) worst = std::max(worst, PublicState::kOutage);
    if (i.impact == IncidentImpact::kMajor) worst = std::max(worst, PublicState::kDegraded);
  }
  return worst;
}

Duration page_refresh(Duration cache_ttl) {
  if (cache_ttl <= Duration(0)) return Duration(0);
  return std::max(cache_ttl, kMinPageRefresh);
}

Result<Duration> cache_ttl(std::optional<std::string_view> text) {
  if (!text || text->empty()) return kDefaultCacheTtl;
  bool digits = text->size() <= 5 && text->find_first_not_of("0123456789") == std::string::npos;
  int64_t seconds = 0;
  for (char c : digits ? *text : std::string_view()) seconds = seconds * 10 + (c - '0');
  if (!digits || Duration(seconds * 1000) > kMaxCacheTtl) {
    return invalid_field("CACHE_TTL", "CACHE_TTL must be whole seconds from 0 to " +
                                          std::to_string(kMaxCacheTtl.count() / 1000));
  }
  return Duration(seconds * 1000);
}

}  // namespace r2w::health::status
