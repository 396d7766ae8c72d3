#pragma once

// The public status page: uptime from the synthetic probes' tallies, which of the health
// verdict's components the public sees and in what words, and incidents (alerts an admin marked
// public, with the updates the admin posted). Plain structs in and out; `now` is an argument.
//
// Nothing private reaches the page: a component shows its state only (its reason can name
// figures), an incident shows what the admin wrote for the public (never the alert's detail,
// bucket, prefix, user or figures), and uptime is a percentage (never counts or latencies).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "core/health/health-verdict.h"
#include "core/health/probe-round.h"

namespace r2w::health::status {

inline constexpr Duration kHour = Duration(3'600'000);
inline constexpr Duration kDay = Duration(86'400'000);

// ---- uptime ---------------------------------------------------------------------------------

// Who started a probe round: the schedule (the probe scheduler's alarm or the cron), or an admin
// (POST /api/health/check).
enum class ProbeTrigger : uint8_t { kScheduled, kManual };
std::string_view trigger_name(ProbeTrigger t);
std::optional<ProbeTrigger> parse_trigger(std::string_view name);

// Tallies are kept per UTC hour (for the 24-hour window) and per UTC day (for 7 and 90 days).
enum class TallyPeriod : uint8_t { kHour, kDay };
std::string_view period_name(TallyPeriod p);
std::optional<TallyPeriod> parse_period(std::string_view name);
Duration period_length(TallyPeriod p);

// How many probes of one operation, trigger and status fell in one hour or day (stored by the
// Worker from the probe results, recomputed so a retried round never counts twice).
struct ProbeTally {
  TallyPeriod period = TallyPeriod::kHour;
  TimePoint start;  // the hour's or the UTC day's first millisecond
  Operation operation = Operation::kGet;
  ProbeTrigger trigger = ProbeTrigger::kScheduled;
  ProbeStatus status = ProbeStatus::kOk;
  uint64_t checks = 0;
};

// Which probe results count toward uptime. Only scheduled probes count: they run at a steady
// pace, while an admin's manual rounds come in bursts (often while investigating) and would
// weigh a bad minute many times over. Up: "ok" and "slow" (R2 answered, as it should). Down:
// "unexpected", "error", "timeout" and "circuit_open" (the breaker refused the call: users of
// the storage API were refused too, so that is downtime as they saw it).
enum class UptimeCount : uint8_t { kUp, kDown, kNotCounted };
UptimeCount count_of(ProbeTrigger trigger, ProbeStatus status);

// A window of whole periods ending with the current (partial) one: "24h" is the current UTC
// hour and the 23 before it, "7d" today (UTC) and the 6 days before, "90d" today and the 89
// days before.
struct UptimeWindow {
  std::string_view name;
  TallyPeriod period;
  uint32_t periods;
};
inline constexpr std::array<UptimeWindow, 3> kUptimeWindows = {
    UptimeWindow{"24h", TallyPeriod::kHour, 24},
    UptimeWindow{"7d", TallyPeriod::kDay, 7},
    UptimeWindow{"90d", TallyPeriod::kDay, 90},
};
// The first millisecond of `period` that holds `t` (UTC hours and days).
TimePoint period_start(TallyPeriod period, TimePoint t);
// The first millisecond of the window's earliest period.
TimePoint window_start(const UptimeWindow& window, TimePoint now);

// The tallies the Worker reads for the page: hour tallies from `hours_from`, day tallies from
// `days_from` (both up to now).
struct TallyRange {
  TimePoint hours_from;
  TimePoint days_from;
};
TallyRange tally_range(TimePoint now);

// Uptime as a percentage of counted probes that were up, rounded down to 3 decimals, so one
// failure among any number of probes never shows as 100. Absent when nothing was counted.
std::optional<double> uptime_pct(uint64_t up, uint64_t counted);

struct Uptime {
  uint64_t counted = 0;
  uint64_t up = 0;
  std::optional<double> pct() const { return uptime_pct(up, counted); }
};

struct OperationUptime {
  Operation operation = Operation::kGet;
  std::array<Uptime, kUptimeWindows.size()> windows;  // in kUptimeWindows order
};

struct DayUptime {
  TimePoint day;
  Uptime uptime;  // every operation together
};

struct UptimeReport {
  std::vector<OperationUptime> operations;            // every operation, canonical order
  std::array<Uptime, kUptimeWindows.size()> overall;  // every operation together
  std::vector<DayUptime> days;                        // the 90-day window's days, oldest first
};
// How a day's bar is drawn: "up" at or above 99.9%, "partial" at or above 95%, "down" below,
// "none" without counted probes.
enum class DayLevel : uint8_t { kNone, kUp, kPartial, kDown };
inline constexpr double kDayUpPct = 99.9;
inline constexpr double kDayPartialPct = 95;
DayLevel day_level(std::optional<double> pct);
std::string_view day_level_name(DayLevel level);

// Tallies outside their window, or of a period a window does not read, are ignored; so are
// tallies from the future (a clock ahead of now).
UptimeReport compute_uptime(const std::vector<ProbeTally>& tallies, TimePoint now);

// ---- components ---------------------------------------------------------------------------

// What the public reads about a component.
enum class PublicState : uint8_t { kOperational, kDegraded, kOutage };
std::string_view public_state_name(PublicState s);
PublicState public_state_of(Level level);
std::optional<Level> parse_level(std::string_view name);

struct PublicComponent {
  std::string_view name;   // the verdict's component
  std::string_view title;  // what the page calls it
  PublicState state = PublicState::kOperational;
};
// The verdict's components the public sees, in this order: storage ("Storage API"), database
// ("Database"), jobs ("Monitoring and alerting"). Analytics (r2watch's own raw event stream)
// is internal. A public component missing from the verdict (jobs when their heartbeats could
// not be read) is left out rather than guessed. Reasons are never shown.
struct VerdictComponent {
  std::string name;
  Level level = Level::kHealthy;
};
std::vector<PublicComponent> public_components(const std::vector<VerdictComponent>& verdict);
// The page's overall state: the worst public component (operational with none).
PublicState overall_state(const std::vector<PublicComponent>& components);

// ---- incidents ----------------------------------------------------------------------------

enum class IncidentStatus : uint8_t { kInvestigating, kIdentified, kMonitoring, kResolved };
std::string_view incident_status_name(IncidentStatus s);
std::optional<IncidentStatus> parse_incident_status(std::string_view name);

enum class IncidentImpact : uint8_t { kNone, kMinor, kMajor, kCritical };
std::string_view impact_name(IncidentImpact i);
std::optional<IncidentImpact> parse_impact(std::string_view name);

// Limits of what an admin writes for the public.
inline constexpr size_t kMaxTitleChars = 120;
inline constexpr size_t kMaxMessageChars = 2000;
// Incidents shown: every unresolved one, and those resolved within the last 14 days; unresolved
// first, then newest first, at most 20, each with its newest 20 updates.
inline constexpr Duration kResolvedShownFor = Duration(14 * kDay);
inline constexpr size_t kMaxIncidentsShown = 20;
inline constexpr size_t kMaxUpdatesShown = 20;

struct IncidentUpdate {
  IncidentStatus status = IncidentStatus::kInvestigating;
  std::string message;
  TimePoint posted_at;
};

struct Incident {
  std::string id;
  std::string title;
  IncidentImpact impact = IncidentImpact::kMinor;
  IncidentStatus status = IncidentStatus::kInvestigating;
  TimePoint started_at;  // when it was made public
  TimePoint updated_at;
  std::optional<TimePoint> resolved_at;
  bool published = true;                // false: the admin took it off the page
  std::vector<IncidentUpdate> updates;  // any order
};

// An admin marks an alert public: the title the public reads (required when the alert has no
// incident yet), the impact (default minor) and optionally a first update (`message`, with
// `status`, default investigating). Text: 1..limit characters of UTF-8 without control
// characters (a message may hold line breaks).
struct PublishRequest {
  std::optional<std::string> title;
  std::optional<std::string> impact;
  std::optional<std::string> status;
  std::optional<std::string> message;
};
struct Publication {
  Incident incident;
  std::optional<IncidentUpdate> update;  // the update to store, when a message came
};
// `current`: the alert's incident, if it has one (published again, it keeps its id, start and
// updates); `id` names a new one. Every error names the field.
Result<Publication> publish(const PublishRequest& request, const std::optional<Incident>& current,
                            std::string_view id, TimePoint now);

struct UpdateRequest {
  std::optional<std::string> status;
  std::optional<std::string> message;
};
// An admin posts an update: its status (required) becomes the incident's; "resolved" marks it
// resolved now, any other status after that reopens it.
Result<Publication> post_update(const UpdateRequest& request, const Incident& current,
                                TimePoint now);

// The incidents the page shows, in the order it shows them (see kResolvedShownFor), each with
// its updates newest first. Incidents taken off the page are never shown.
std::vector<Incident> visible_incidents(std::vector<Incident> incidents, TimePoint now);

// The page's overall state: the worst of the public components and of the unresolved incidents
// (impact major: degraded, critical: outage; minor and none leave it as the components say).
PublicState page_state(const std::vector<PublicComponent>& components,
                       const std::vector<Incident>& incidents);

// ---- caching ------------------------------------------------------------------------------

// How long the page and its JSON are cached (the CACHE_TTL var, whole seconds 0..3600; 0: not
// cached). Absent or empty: 60 s.
inline constexpr Duration kDefaultCacheTtl = Duration(60'000);
inline constexpr Duration kMaxCacheTtl = Duration(3'600'000);
Result<Duration> cache_ttl(std::optional<std::string_view> text);
// The HTML page reloads itself as often as its cache turns over, but no more often than every
// kMinPageRefresh; a page that is not cached does not reload (zero).
inline constexpr Duration kMinPageRefresh = Duration(30'000);
Duration page_refresh(Duration cache_ttl);

}  // namespace r2w::health::status
