// Commands of the public status page (core/health/status-page.h): what to read and how long to
// cache it, the page itself from probe tallies, the health verdict and incidents, and an
// admin's publishing of an alert as an incident and posting updates to it. The one JSON codec
// of the status domain. The Worker keeps tallies and incidents in D1 and hands them in.
#include <optional>
#include <string>
#include <vector>

#include "core/common/civil-date.h"
#include "core/health/status-page.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;
namespace st = health::status;

namespace {

// Bounds on what the Worker hands in (the page reads at most these many rows).
constexpr size_t kMaxTallies = 20'000;
constexpr size_t kMaxIncidents = 500;
constexpr size_t kMaxUpdates = 10'000;

Result<int64_t> epoch_ms(const json& v, const std::string& field) {
  if (!v.is_number_integer()) return invalid_field(field, field + " must be a time in ms");
  int64_t ms = v.get<int64_t>();
  if (ms < 0 || ms > kMaxEpochMs) return invalid_field(field, field + " is out of range");
  return ms;
}

// [period, start_ms, operation, trigger, status, checks] rows, as D1 answers `.raw()`.
Result<std::vector<st::ProbeTally>> tallies_input(const json* list) {
  std::vector<st::ProbeTally> out;
  if (!list) return out;
  const json& rows = *list;
  if (!rows.is_array() || rows.size() > kMaxTallies) {
    return invalid_field(
        "tallies", "tallies must be an array of at most " + std::to_string(kMaxTallies) + " rows");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string f = "tallies[" + std::to_string(i) + "]";
    const json& r = rows[i];
    if (!r.is_array() || r.size() != 6 || !r[0].is_string() || !r[2].is_string() ||
        !r[3].is_string() || !r[4].is_string() || !r[5].is_number_integer() || r[5] < 0) {
      return invalid_field(f,
                           f + " must be [period, start_ms, operation, trigger, status, checks]");
    }
    auto period = st::parse_period(r[0].get<std::string>());
    auto start = epoch_ms(r[1], f + ".start_ms");
    auto op = parse_operation(r[2].get<std::string>());
    auto trigger = st::parse_trigger(r[3].get<std::string>());
    auto status = health::parse_probe_status(r[4].get<std::string>());
    if (!start.ok()) return start.error();
    if (!period || !op || !trigger || !status) {
      return invalid_field(f, f + " names an unknown period, operation, trigger or status");
    }
    out.push_back({.period = *period,
                   .start = from_epoch_ms(start.value()),
                   .operation = *op,
                   .trigger = *trigger,
                   .status = *status,
                   .checks = r[5].get<uint64_t>()});
  }
  return out;
}

// The health verdict's components as health_verdict answered them ({name: {status, reason}}).
Result<std::vector<st::VerdictComponent>> components_input(const json* c) {
  std::vector<st::VerdictComponent> out;
  if (!c || c->is_null()) return out;
  if (!c->is_object() || c->size() > 16) {
    return invalid_field("components", "components must be health_verdict's components");
  }
  for (const auto& item : c->items()) {
    std::string f = "components." + item.key();
    FieldReader r(item.value(), f);
    std::string status;
    r.read_string("status", status);
    r.has("reason");
    if (auto e = r.finish()) return *e;
    if (status.empty()) return invalid_field(f, f + ".status is required");
    auto level = st::parse_level(status);
    if (!level) return invalid_field(f + ".status", f + ".status is not a health level");
    out.push_back({.name = item.key(), .level = *level});
  }
  return out;
}

// A stored incident (as incident_to_json wrote it, from its D1 row) under `field`.
// Its id, title, impact, status, started_at_ms and updated_at_ms are required.
Result<st::Incident> incident_from_json(const json& j, const std::string& field) {
  if (!j.is_object()) return invalid_field(field, field + " must be an object");
  st::Incident i;
  FieldReader r(j, field);
  std::string impact, status;
  for (const char* name : {"id", "title", "impact", "status", "started_at_ms", "updated_at_ms"}) {
    r.require(name);
  }
  r.read_string("id", i.id);
  r.read_string("title", i.title);
  r.read_string("impact", impact);
  r.read_string("status", status);
  r.read_time("started_at_ms", i.started_at);
  r.read_time("updated_at_ms", i.updated_at);
  r.read_time("resolved_at_ms", i.resolved_at);
  // D1 keeps the flag as 0 or 1.
  int64_t published = -1;
  if (const json* p = r.read_json("published"); p && p->is_boolean()) {
    published = p->get<bool>() ? 1 : 0;
  } else if (p) {
    r.read_int("published", published, 0, 1);
  }
  if (auto e = r.finish()) return *e;
  if (published >= 0) i.published = published == 1;
  auto im = st::parse_impact(impact);
  auto s = st::parse_incident_status(status);
  if (!im || !s) return invalid_field(field, field + " has an unknown impact or status");
  i.impact = *im;
  i.status = *s;
  return i;
}

json update_to_json(const st::IncidentUpdate& u) {
  return {{"status", st::incident_status_name(u.status)},
          {"message", u.message},
          {"posted_at_ms", to_epoch_ms(u.posted_at)}};
}

// What is stored of an incident (the row), or, `public_view`, what the page shows.
json incident_to_json(const st::Incident& i, bool with_updates) {
  json j = {{"id", i.id},
            {"title", i.title},
            {"impact", st::impact_name(i.impact)},
            {"status", st::incident_status_name(i.status)},
            {"started_at_ms", to_epoch_ms(i.started_at)},
            {"updated_at_ms", to_epoch_ms(i.updated_at)},
            {"resolved_at_ms", i.resolved_at ? json(to_epoch_ms(*i.resolved_at)) : json(nullptr)}};
  if (with_updates) {
    j["updates"] = json::array();
    for (const auto& u : i.updates) j["updates"].push_back(update_to_json(u));
  } else {
    j["published"] = i.published;
  }
  return j;
}

// Stored incidents and their updates.
Result<std::vector<st::Incident>> incidents_input(const json* incidents, const json* updates) {
  std::vector<st::Incident> out;
  if (incidents) {
    const json& list = *incidents;
    if (!list.is_array() || list.size() > kMaxIncidents) {
      return invalid_field(
          "incidents", "incidents must be an array of at most " + std::to_string(kMaxIncidents));
    }
    for (size_t k = 0; k < list.size(); ++k) {
      auto i = incident_from_json(list[k], "incidents[" + std::to_string(k) + "]");
      if (!i.ok()) return i.error();
      out.push_back(std::move(i).value());
    }
  }
  if (!updates) return out;
  // [incident_id, status, message, posted_at_ms] rows.
  const json& rows = *updates;
  if (!rows.is_array() || rows.size() > kMaxUpdates) {
    return invalid_field(
        "updates", "updates must be an array of at most " + std::to_string(kMaxUpdates) + " rows");
  }
  for (size_t k = 0; k < rows.size(); ++k) {
    std::string f = "updates[" + std::to_string(k) + "]";
    const json& r = rows[k];
    if (!r.is_array() || r.size() != 4 || !r[0].is_string() || !r[1].is_string() ||
        !r[2].is_string()) {
      return invalid_field(f, f + " must be [incident_id, status, message, posted_at_ms]");
    }
    auto status = st::parse_incident_status(r[1].get<std::string>());
    auto at = epoch_ms(r[3], f + ".posted_at_ms");
    if (!status) return invalid_field(f, f + " has an unknown status");
    if (!at.ok()) return at.error();
    for (st::Incident& i : out) {
      if (i.id != r[0].get<std::string>()) continue;
      i.updates.push_back({.status = *status,
                           .message = r[2].get<std::string>(),
                           .posted_at = from_epoch_ms(at.value())});
    }
  }
  return out;
}

json uptime_windows_json(const std::array<st::Uptime, st::kUptimeWindows.size()>& windows) {
  json j = json::object();
  for (size_t w = 0; w < windows.size(); ++w) {
    auto pct = windows[w].pct();
    j[std::string(st::kUptimeWindows[w].name)] = pct ? json(*pct) : json(nullptr);
  }
  return j;
}

// {"cache_ttl": text|null} -> what the page reads ({hours,days}_from_ms: tallies;
// incidents_from_ms: incidents resolved since, or unresolved) and how long it is
// cached (cache_ttl_s) and how often the HTML page reloads (page_refresh_s, 0: never); a CACHE_TTL
// that does not read falls back to the default, named in configuration_error (the public page stays
// up).
Result<json> status_plan(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  std::optional<std::string> text;
  r.read_optional_string("cache_ttl", text);
  if (auto e = r.finish()) return *e;
  auto ttl = st::cache_ttl(text ? std::optional<std::string_view>(*text) : std::nullopt);
  Duration ttl_used = ttl.ok() ? ttl.value() : st::kDefaultCacheTtl;
  st::TallyRange range = st::tally_range(now);
  return json{{"hours_from_ms", to_epoch_ms(range.hours_from)},
              {"days_from_ms", to_epoch_ms(range.days_from)},
              {"incidents_from_ms", to_epoch_ms(now - st::kResolvedShownFor)},
              {"cache_ttl_s", ttl_used.count() / 1000},
              {"page_refresh_s", st::page_refresh(ttl_used).count() / 1000},
              {"configuration_error", ttl.ok() ? json(nullptr) : json(ttl.error().message)}};
}

// {"components", "tallies", "incidents", "updates"} -> the public page: state per component,
// uptime per operation and window, the 90 days, incidents with their updates. Nothing else.
Result<json> status_page(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  const json* components_json = r.read_json("components");
  const json* tallies_json = r.read_json("tallies");
  const json* incidents_json = r.read_json("incidents");
  const json* updates_json = r.read_json("updates");
  if (auto e = r.finish()) return *e;
  auto components = components_input(components_json);
  if (!components.ok()) return components.error();
  auto tallies = tallies_input(tallies_json);
  if (!tallies.ok()) return tallies.error();
  auto incidents = incidents_input(incidents_json, updates_json);
  if (!incidents.ok()) return incidents.error();

  std::vector<st::PublicComponent> shown = st::public_components(components.value());
  json comps = json::array();
  for (const auto& c : shown) {
    comps.push_back(
        {{"name", c.name}, {"title", c.title}, {"state", st::public_state_name(c.state)}});
  }
  st::UptimeReport report = st::compute_uptime(tallies.value(), now);
  json windows = json::array();
  for (const auto& w : st::kUptimeWindows) windows.push_back(w.name);
  json operations = json::array();
  for (const auto& op : report.operations) {
    operations.push_back({{"operation", operation_name(op.operation)},
                          {"uptime_pct", uptime_windows_json(op.windows)}});
  }
  json days = json::array();
  for (const auto& d : report.days) {
    auto pct = d.uptime.pct();
    days.push_back({{"date", format_date(date_of(d.day))},
                    {"uptime_pct", pct ? json(*pct) : json(nullptr)},
                    {"level", st::day_level_name(st::day_level(pct))}});
  }
  json incidents_out = json::array();
  std::vector<st::Incident> visible = st::visible_incidents(std::move(incidents).value(), now);
  for (const auto& i : visible) incidents_out.push_back(incident_to_json(i, true));
  return json{{"status", st::public_state_name(st::page_state(shown, visible))},
              {"generated_at_ms", to_epoch_ms(now)},
              {"components", comps},
              {"uptime",
               {{"windows", windows},
                {"overall_pct", uptime_windows_json(report.overall)},
                {"operations", operations},
                {"days", days}}},
              {"incidents", incidents_out}};
}

Result<std::optional<st::Incident>> current_input(const json* current) {
  if (!current || current->is_null()) return std::optional<st::Incident>{};
  auto i = incident_from_json(*current, "current");
  if (!i.ok()) return i.error();
  return std::optional<st::Incident>(std::move(i).value());
}

json publication_json(const st::Publication& p) {
  return {{"incident", incident_to_json(p.incident, false)},
          {"update", p.update ? update_to_json(*p.update) : json(nullptr)}};
}

// The request body, which must be an object.
std::optional<Error> check_request(const json* request) {
  if (request && request->is_object()) return std::nullopt;
  return Error{
      .code = "invalid_json", .message = "request body must be a JSON object", .field = ""};
}

// {"request": {title?, impact?, status?, message?}, "current": incident|null, "id"} -> the
// incident to store and its first update, if any.
Result<json> status_incident_publish(Engine&, const json& in, TimePoint now) {
  FieldReader in_reader(in);
  const json* request = in_reader.read_json("request");
  const json* current_json = in_reader.read_json("current");
  std::string id;
  in_reader.read_string("id", id);
  if (auto e = in_reader.finish()) return *e;
  if (auto e = check_request(request)) return *e;
  FieldReader r(*request);
  st::PublishRequest req;
  r.read_optional_string("title", req.title);
  r.read_optional_string("impact", req.impact);
  r.read_optional_string("status", req.status);
  r.read_optional_string("message", req.message);
  if (auto e = r.finish()) return *e;
  auto current = current_input(current_json);
  if (!current.ok()) return current.error();
  auto p = st::publish(req, current.value(), id, now);
  if (!p.ok()) return p.error();
  return publication_json(p.value());
}

// {"request": {status, message}, "current": incident} -> the incident after the update, and
// the update to store.
Result<json> status_incident_update(Engine&, const json& in, TimePoint now) {
  FieldReader in_reader(in);
  const json* request = in_reader.read_json("request");
  const json* current_json = in_reader.read_json("current");
  if (auto e = in_reader.finish()) return *e;
  if (auto e = check_request(request)) return *e;
  FieldReader r(*request);
  st::UpdateRequest req;
  r.read_optional_string("status", req.status);
  r.read_optional_string("message", req.message);
  if (auto e = r.finish()) return *e;
  auto current = current_input(current_json);
  if (!current.ok()) return current.error();
  if (!current.value()) return invalid_field("current", "current incident is required");
  auto p = st::post_update(req, *current.value(), now);
  if (!p.ok()) return p.error();
  return publication_json(p.value());
}

}  // namespace

std::span<const CommandEntry> status_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"status_plan", &status_plan},
      {"status_page", &status_page},
      {"status_incident_publish", &status_incident_publish},
      {"status_incident_update", &status_incident_update},
  };
  return kCommands;
}

}  // namespace r2w::bindings
