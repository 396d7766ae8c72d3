// Commands that check storage API input (object keys, listing queries, upload bodies, custom
// metadata, multipart parts) and decide how a read is answered (ranges, conditional requests).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics/inventory.h"
#include "core/security/access.h"
#include "core/storage/content-type.h"
#include "core/storage/object-http.h"
#include "core/storage/object-key.h"
#include "core/storage/reconcile.h"
#include "core/storage/upload-policy.h"
#include "core/storage/user-namespace.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;

namespace {

// The namespace of "user" when the input names one (checked), else "" (r2watch's own calls).
Result<std::string> namespace_of(FieldReader& r) {
  std::string user;
  if (!r.has("user")) return std::string();
  r.read_string("user", user);
  if (!r.ok()) return std::string();
  if (auto err = security::validate_user_id(user, "user")) return *err;
  return storage::user_namespace(user);
}

// A request has at most this many query parameters worth naming (workerd bounds the URL).
constexpr size_t kMaxQueryNames = 64;

// "query"?: the names of the request's query parameters (the Worker's, as they came), read for
// `route`'s check (core/storage/object-key.h: which parameters each route takes). Absent: no
// check (r2watch's own calls). Read before `r.finish()`, checked after it.
struct QueryNames {
  std::vector<std::string> names;
  storage::StorageRoute route;

  QueryNames(FieldReader& r, storage::StorageRoute route) : route(route) {
    r.read_strings("query", names, kMaxQueryNames);
  }
  std::optional<Error> check() const { return storage::check_query_names(route, names); }
};

// {"key": "...", "user"?: id, "query"?: [names]} -> the key when it is acceptable for the storage
// API, and "r2_key": where it lives in the bucket (under the user's namespace when a user is
// named), and "prefix": the key's first path segment, as the metrics series and the cost
// attribution name it.
Result<json> storage_check_key(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string key;
  r.read_string("key", key);
  QueryNames query(r, storage::StorageRoute::kObject);
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  if (!ns.ok()) return ns.error();
  if (auto err = storage::validate_key(key)) return *err;
  return json{{"key", key}, {"r2_key", ns.value() + key}, {"prefix", metrics::key_prefix(key)}};
}

// Query-string values (all strings, all optional), "user"? and "query"?: [names] (every query
// parameter, checked) -> {"prefix", "cursor", "limit", "namespace", "r2_prefix"} (the listing
// prefix inside the user's namespace).
Result<json> storage_list_query(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::optional<std::string> fields[3];
  const char* names[3] = {"prefix", "cursor", "limit"};
  for (int i = 0; i < 3; ++i) {
    if (r.has(names[i])) {
      std::string value;
      r.read_string(names[i], value);
      fields[i] = value;
    }
  }
  QueryNames query(r, storage::StorageRoute::kList);
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  if (!ns.ok()) return ns.error();
  auto q = storage::parse_list_query(fields[0], fields[1], fields[2]);
  if (!q.ok()) return q.error();
  return json{{"prefix", q.value().prefix},
              {"cursor", q.value().cursor},
              {"limit", q.value().limit},
              {"namespace", ns.value()},
              {"r2_prefix", ns.value() + q.value().prefix}};
}

// A string or null member of `in` (absent counts as null).
Result<std::optional<std::string>> optional_string(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return invalid_field(name, std::string(name) + " must be a string or null");
  return std::optional<std::string>(it->get<std::string>());
}

Result<uint64_t> count_member(const json& o, const char* name, const std::string& at) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid_field(at + "." + name, at + "." + name + " must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

json fixes_json(const std::vector<storage::RecordFix>& fixes, bool with_size) {
  json out = json::array();
  for (const auto& f : fixes) {
    json j = {{"user_id", f.user_id}, {"key", f.key}, {"r2_key", f.r2_key}};
    if (with_size) {
      j["size"] = f.size;
      j["prefix"] = f.prefix;
    }
    out.push_back(std::move(j));
  }
  return out;
}

// One page of the inventory against the stored-object records of its key range:
// {"objects": [{"key", "size"}], "records": [{"user_id", "key", "size", "updated_at_ms"}],
//  "after": key|null, "through": key|null, "listed_at_ms"} -> {"upserts": [{"user_id", "key",
// "r2_key", "size", "prefix"}], "deletes": [{"user_id", "key", "r2_key"}], "users": [...]}.
Result<json> storage_reconcile_page(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  bool has_objects = r.has("objects");
  bool has_records = r.has("records");
  r.has("after");
  r.has("through");
  Duration listed_at{0};
  r.read_duration("listed_at_ms", listed_at, Duration(0), Duration(INT64_C(8'640'000'000'000'000)));
  if (auto err = r.finish()) return *err;
  if (!has_objects || !in["objects"].is_array()) {
    return invalid_field("objects", "objects must be a list");
  }
  if (!has_records || !in["records"].is_array()) {
    return invalid_field("records", "records must be a list");
  }
  storage::ListingRange range;
  auto after = optional_string(in, "after");
  if (!after.ok()) return after.error();
  auto through = optional_string(in, "through");
  if (!through.ok()) return through.error();
  range.after = after.value();
  range.through = through.value();
  std::vector<storage::ListedObject> listed;
  for (size_t i = 0; i < in["objects"].size(); ++i) {
    const json& o = in["objects"][i];
    std::string at = "objects[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at + ".key", at + ".key must be a string");
    }
    auto size = count_member(o, "size", at);
    if (!size.ok()) return size.error();
    listed.push_back({.r2_key = o["key"].get<std::string>(), .size = size.value()});
  }
  std::vector<storage::ObjectRecord> records;
  for (size_t i = 0; i < in["records"].size(); ++i) {
    const json& o = in["records"][i];
    std::string at = "records[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("user_id") || !o["user_id"].is_string() ||
        !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at, at + " must have user_id and key strings");
    }
    auto size = count_member(o, "size", at);
    if (!size.ok()) return size.error();
    auto updated = count_member(o, "updated_at_ms", at);
    if (!updated.ok()) return updated.error();
    records.push_back({.user_id = o["user_id"].get<std::string>(),
                       .key = o["key"].get<std::string>(),
                       .size = size.value(),
                       .updated_at = from_epoch_ms(static_cast<int64_t>(updated.value()))});
  }
  auto plan = storage::reconcile_page(listed, records, range, TimePoint(listed_at));
  return json{{"upserts", fixes_json(plan.upserts, true)},
              {"deletes", fixes_json(plan.deletes, false)},
              {"users", plan.users}};
}

// {"content_type": text | null} -> {"active", "headers"}: the headers every object response
// adds: X-Content-Type-Options: nosniff always, Content-Disposition: attachment for an active
// type (core/storage/content-type.h; no type at all counts as active).
Result<json> storage_object_headers(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string type;
  bool given = r.has("content_type") && !in["content_type"].is_null();
  if (given) r.read_string("content_type", type);
  if (auto err = r.finish()) return *err;
  bool active = storage::is_active_content_type(type);
  json headers = {{"x-content-type-options", "nosniff"}};
  if (active) headers["content-disposition"] = "attachment";
  return json{{"active", active}, {"headers", headers}};
}

// At most this many request headers cross into a command (workerd itself bounds their size).
constexpr size_t kMaxHeaders = 256;

// "headers": {name: value} (names lowercase, as the Headers API gives them) -> pairs.
Result<storage::Metadata> headers_member(const json& in, const char* field) {
  storage::Metadata out;
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) return out;
  if (!it->is_object() || it->size() > kMaxHeaders) {
    return invalid_field(field, std::string(field) + " must be an object of at most " +
                                    std::to_string(kMaxHeaders) + " strings");
  }
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return invalid_field(std::string(field) + "." + name, "header values must be strings");
    }
    out.emplace_back(name, value.get<std::string>());
  }
  return out;
}

std::optional<std::string> header(const storage::Metadata& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

json error_json(const Error& e) {
  return json{{"code", e.code}, {"message", e.message}, {"field", e.field}};
}

json metadata_json(const storage::Metadata& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// {"key", "user"?, "headers", "mode": "put" | "multipart"} -> what an upload (a PUT, or the
// creation of a multipart upload) stores: {"key", "r2_key", "prefix", "content_type" (the
// header's, else application/octet-stream), "custom_metadata" (x-r2watch-meta-* headers)} and,
// for a PUT, "body": {"declared_bytes": n|null, "buffer_limit_bytes", "over_limit": error} and
// "only_if": the If-Match / If-None-Match R2 applies with the write (normalized) or null;
// for a multipart upload "expires_at_ms" (R2 aborts it 7 days after its creation).
// A PUT whose body declares its length may carry "quota_state": quota_check's input (the
// reservation read from D1, "new_size" the declared length), checked after the plan: one
// engine call answers both (a refusal is quota_check's).
Result<json> storage_write_plan(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string key, mode = "put";
  r.read_string("key", key);
  r.read_string("mode", mode);
  r.has("headers");
  const bool with_quota = r.has("quota_state");
  QueryNames query(r, mode == "multipart" ? storage::StorageRoute::kUploadStart
                                          : storage::StorageRoute::kObject);
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  if (!ns.ok()) return ns.error();
  if (mode != "put" && mode != "multipart") {
    return invalid_field("mode", "mode must be put or multipart");
  }
  if (auto err = storage::validate_key(key)) return *err;
  auto headers = headers_member(in, "headers");
  if (!headers.ok()) return headers.error();
  auto custom = storage::metadata_from_headers(headers.value());
  if (!custom.ok()) return custom.error();
  json out = {{"key", key},
              {"r2_key", ns.value() + key},
              {"prefix", metrics::key_prefix(key)},
              {"content_type",
               header(headers.value(), "content-type").value_or("application/octet-stream")},
              {"custom_metadata", metadata_json(custom.value())}};
  if (mode == "multipart") {
    if (with_quota) return invalid_field("quota_state", "quota_state is for mode put only");
    out["expires_at_ms"] = to_epoch_ms(now + storage::kMultipartUploadLifetime);
    return out;
  }
  auto conditions = storage::write_conditions(header(headers.value(), "if-match"),
                                              header(headers.value(), "if-none-match"));
  if (!conditions.ok()) return conditions.error();
  json only_if = nullptr;
  if (conditions.value().if_match || conditions.value().if_none_match) {
    only_if = json::object();
    if (conditions.value().if_match) only_if["if-match"] = *conditions.value().if_match;
    if (conditions.value().if_none_match) {
      only_if["if-none-match"] = *conditions.value().if_none_match;
    }
  }
  out["only_if"] = only_if;
  auto length = header(headers.value(), "content-length");
  auto body =
      storage::plan_upload_body(length ? std::optional<std::string_view>(*length) : std::nullopt,
                                e.security_settings().max_upload_bytes);
  if (!body.ok()) return body.error();
  const auto& b = body.value();
  if (with_quota) {
    // The upload's reservation, read from D1 before the plan (a streamed PUT asks the engine
    // once before R2): checked here as quota_check would, for the size the body declares.
    const json& state = in["quota_state"];
    if (!state.is_object()) return invalid_field("quota_state", "quota_state must be an object");
    const json* size = state.find_member("new_size");
    if (!b.declared_bytes || !size || !size->is_number_integer() || size->get<int64_t>() < 0 ||
        size->get<uint64_t>() != *b.declared_bytes) {
      return invalid_field("quota_state.new_size",
                           "quota_state.new_size must be the content-length of the body");
    }
    auto checked = find_command("quota_check")(e, state, now);
    if (!checked.ok()) return checked.error();
  }
  out["body"] = {{"declared_bytes", b.declared_bytes ? json(*b.declared_bytes) : json(nullptr)},
                 {"buffer_limit_bytes", b.buffer_limit_bytes},
                 {"over_limit", b.declared_bytes ? json(nullptr) : error_json(b.over_limit)}};
  return out;
}

Result<storage::ReadRequest> read_request(const json& in) {
  storage::ReadRequest req;
  auto method = in.find("method");
  if (method == in.end() || !method->is_string() || (*method != "GET" && *method != "HEAD")) {
    return invalid_field("method", "method must be GET or HEAD");
  }
  req.method = *method == "GET" ? storage::ReadMethod::kGet : storage::ReadMethod::kHead;
  auto headers = headers_member(in, "headers");
  if (!headers.ok()) return headers.error();
  req.if_match = header(headers.value(), "if-match");
  req.if_none_match = header(headers.value(), "if-none-match");
  req.if_modified_since = header(headers.value(), "if-modified-since");
  req.if_unmodified_since = header(headers.value(), "if-unmodified-since");
  req.if_range = header(headers.value(), "if-range");
  req.range = header(headers.value(), "range");
  return req;
}

json r2_range_json(const storage::R2Range& r) {
  json out = json::object();
  if (r.offset) out["offset"] = *r.offset;
  if (r.length) out["length"] = *r.length;
  if (r.suffix) out["suffix"] = *r.suffix;
  return out;
}

// {"key", "user"?, "method": "GET"|"HEAD", "headers"} -> {"key", "r2_key", "range": the R2
// range option to read with (the Range of a GET that is worth asking for) or null}.
Result<json> storage_read_plan(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string key;
  r.read_string("key", key);
  r.has("method");
  r.has("headers");
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (!ns.ok()) return ns.error();
  if (auto err = storage::validate_key(key)) return *err;
  auto req = read_request(in);
  if (!req.ok()) return req.error();
  auto range = storage::range_to_fetch(req.value());
  return json{{"key", key},
              {"r2_key", ns.value() + key},
              {"range", range ? r2_range_json(*range) : json(nullptr)}};
}

constexpr const char* kOutcomes[] = {"whole", "partial", "not_modified", "precondition_failed",
                                     "range_not_satisfiable"};

// {"method", "headers", "object": {"etag", "size", "uploaded_ms", "content_type": text|null,
// "custom_metadata": {name: value}}} -> {"status", "outcome", "range": {"offset", "length"} |
// null, "headers": {...} (validators, lengths, Content-Range, nosniff, a download for active
// types, x-r2watch-meta-*), "error": {code, message} | null (412 and 416 answer with it)}.
Result<json> storage_read_answer(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  r.has("method");
  r.has("headers");
  r.has("object");
  if (auto err = r.finish()) return *err;
  auto req = read_request(in);
  if (!req.ok()) return req.error();
  auto obj_it = in.find("object");
  if (obj_it == in.end() || !obj_it->is_object()) {
    return invalid_field("object", "object must be an object");
  }
  const json& o = *obj_it;
  FieldReader ro(o, "object");
  std::string etag, content_type;
  if (!o.contains("etag")) return invalid_field("object.etag", "object.etag is required");
  ro.read_string("etag", etag);
  ro.has("size");
  ro.has("uploaded_ms");
  auto type_it = o.find("content_type");
  bool typed = ro.has("content_type") && type_it != o.end() && !type_it->is_null();
  if (typed) ro.read_string("content_type", content_type);
  ro.has("custom_metadata");
  if (auto err = ro.finish()) return *err;
  auto size = count_member(o, "size", "object");
  if (!size.ok()) return size.error();
  auto uploaded = count_member(o, "uploaded_ms", "object");
  if (!uploaded.ok()) return uploaded.error();
  auto custom = headers_member(o, "custom_metadata");
  if (!custom.ok()) return custom.error();
  storage::ObjectVersion version{.etag = etag,
                                 .size = size.value(),
                                 .uploaded = from_epoch_ms(static_cast<int64_t>(uploaded.value()))};
  auto answer = storage::answer_read(req.value(), version);
  json headers = json::object();
  for (const auto& [name, value] : answer.headers) headers[name] = value;
  headers["x-content-type-options"] = "nosniff";
  // Only an answer that carries (or, for a HEAD, describes) the object is a download.
  bool object_answer = answer.outcome == storage::ReadOutcome::kWhole ||
                       answer.outcome == storage::ReadOutcome::kPartial;
  if (object_answer && storage::is_active_content_type(content_type)) {
    headers["content-disposition"] = "attachment";
  }
  for (const auto& [name, value] : storage::metadata_headers(custom.value())) {
    headers[name] = value;
  }
  json error = nullptr;
  if (answer.outcome == storage::ReadOutcome::kPreconditionFailed) {
    error = {{"code", "precondition_failed"},
             {"message",
              "a precondition (If-Match or If-Unmodified-Since) does not hold for "
              "the stored object"}};
  } else if (answer.outcome == storage::ReadOutcome::kRangeNotSatisfiable) {
    error = {{"code", "range_not_satisfiable"},
             {"message", "the range starts at or past the end of the object of " +
                             std::to_string(version.size) + " bytes"},
             {"field", "range"}};
  }
  return json{{"status", answer.status},
              {"outcome", kOutcomes[static_cast<size_t>(answer.outcome)]},
              {"range", answer.range ? json{{"offset", answer.range->first},
                                            {"length", answer.range->length}}
                                     : json(nullptr)},
              {"headers", headers},
              {"error", error}};
}

// {"part_number": text (the path segment), "headers", "expires_at_ms" (the upload's)} ->
// {"part_number", "size_bytes"}: 400 for a part number outside 1..10,000, 411 without
// content-length, 413 above 5 GiB or MAX_UPLOAD_BYTES, 404 once the upload has expired.
Result<json> storage_part_plan(Engine& e, const json& in, TimePoint now) {
  FieldReader r(in);
  std::string number;
  Duration expires{0};
  r.read_string("part_number", number);
  r.has("headers");
  r.read_duration("expires_at_ms", expires, Duration(0), Duration(INT64_C(8'640'000'000'000'000)));
  QueryNames query(r, storage::StorageRoute::kUploads);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  auto part = storage::parse_part_number(number);
  if (!part.ok()) return part.error();
  if (auto err = storage::check_upload_open(TimePoint(expires), now)) return *err;
  auto headers = headers_member(in, "headers");
  if (!headers.ok()) return headers.error();
  auto length = header(headers.value(), "content-length");
  auto size = storage::part_bytes(length ? std::optional<std::string_view>(*length) : std::nullopt,
                                  e.security_settings().max_upload_bytes);
  if (!size.ok()) return size.error();
  return json{{"part_number", part.value()}, {"size_bytes", size.value()}};
}

// {"parts": [{"part_number", "etag"}] (the client's; absent or null: every uploaded part, in
// order), "uploaded": [{"part_number", "etag",
// "size_bytes"}] (recorded), "expires_at_ms"} -> {"parts": [{"part_number", "etag"}] for R2,
// "size_bytes"}: the order, the etags and the sizes checked (core/storage/upload-policy.h).
Result<json> storage_multipart_complete(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  Duration expires{0};
  r.has("parts");
  r.has("uploaded");
  r.read_duration("expires_at_ms", expires, Duration(0), Duration(INT64_C(8'640'000'000'000'000)));
  QueryNames query(r, storage::StorageRoute::kUploads);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  if (auto err = storage::check_upload_open(TimePoint(expires), now)) return *err;
  auto parts_it = in.find("parts");
  bool all = parts_it == in.end() || parts_it->is_null();
  if (!all && !parts_it->is_array()) {
    return invalid_field("parts", "parts must be a list of {part_number, etag}");
  }
  if (!all && parts_it->size() > storage::kMaxPartNumber) {
    return Error{
        .code = "invalid_part", .message = "parts may name at most 10000", .field = "parts"};
  }
  std::vector<storage::PartRef> requested;
  for (size_t i = 0; !all && i < parts_it->size(); ++i) {
    const json& p = (*parts_it)[i];
    std::string at = "parts[" + std::to_string(i) + "]";
    if (!p.is_object()) return invalid_field(at, at + " must be {part_number, etag}");
    auto n = p.find("part_number");
    if (n == p.end() || !n->is_number_integer()) {
      return Error{.code = "invalid_part",
                   .message = at + ".part_number must be a whole number from 1 to 10000",
                   .field = at + ".part_number"};
    }
    int64_t number = n->get<int64_t>();
    auto tag = p.find("etag");
    if (tag == p.end() || !tag->is_string() || tag->get<std::string>().size() > 256) {
      return Error{.code = "invalid_part",
                   .message = at + ".etag must be the etag its upload answered with",
                   .field = at + ".etag"};
    }
    requested.push_back({.part_number = number < 1 || number > storage::kMaxPartNumber
                                            ? 0u
                                            : static_cast<uint32_t>(number),
                         .etag = tag->get<std::string>()});
  }
  auto up_it = in.find("uploaded");
  if (up_it == in.end() || !up_it->is_array()) {
    return invalid_field("uploaded", "uploaded must be a list");
  }
  std::vector<storage::UploadedPart> uploaded;
  for (size_t i = 0; i < up_it->size(); ++i) {
    const json& p = (*up_it)[i];
    std::string at = "uploaded[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("etag") || !p["etag"].is_string()) {
      return invalid_field(at, at + " must have an etag");
    }
    auto n = count_member(p, "part_number", at);
    if (!n.ok()) return n.error();
    auto size = count_member(p, "size_bytes", at);
    if (!size.ok()) return size.error();
    uploaded.push_back(
        {.part_number = static_cast<uint32_t>(std::min<uint64_t>(n.value(), UINT32_MAX)),
         .etag = p["etag"].get<std::string>(),
         .size = size.value()});
  }
  if (all) {
    std::sort(uploaded.begin(), uploaded.end(),
              [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
    for (const auto& p : uploaded)
      requested.push_back({.part_number = p.part_number, .etag = p.etag});
  }
  auto plan = storage::plan_complete(requested, uploaded);
  if (!plan.ok()) return plan.error();
  json parts = json::array();
  for (const auto& p : plan.value().parts) {
    parts.push_back({{"part_number", p.part_number}, {"etag", p.etag}});
  }
  return json{{"parts", parts}, {"size_bytes", plan.value().size}};
}

// {"expires_at_ms", "query"?: [names]} -> {"open": bool}: whether a multipart upload is still
// open at `now` (R2 aborts one left incomplete for 7 days; aborting an expired one needs no R2
// call).
Result<json> storage_upload_open(Engine&, const json& in, TimePoint now) {
  FieldReader r(in);
  Duration expires{0};
  r.read_duration("expires_at_ms", expires, Duration(0), Duration(INT64_C(8'640'000'000'000'000)));
  QueryNames query(r, storage::StorageRoute::kUploads);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  return json{{"open", !storage::check_upload_open(TimePoint(expires), now).has_value()}};
}

// GET /api/storage/uploads and /api/storage/uploads/{id}: {"query": [names]} -> {"limit": how
// many open uploads a listing shows at most} (the parameters checked).
Result<json> storage_uploads_query(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  QueryNames query(r, storage::StorageRoute::kUploads);
  if (auto err = r.finish()) return *err;
  if (auto err = query.check()) return *err;
  return json{{"limit", storage::kMaxListedUploads}};
}

}  // namespace

std::span<const CommandEntry> storage_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"storage_check_key", &storage_check_key},
      {"storage_list_query", &storage_list_query},
#ifdef R2W_TEST_COMMANDS  // only tests call it (testdata/golden/test-only-commands.txt)
      {"storage_object_headers", &storage_object_headers},
#endif
      {"storage_write_plan", &storage_write_plan},
      {"storage_read_plan", &storage_read_plan},
      {"storage_read_answer", &storage_read_answer},
      {"storage_part_plan", &storage_part_plan},
      {"storage_multipart_complete", &storage_multipart_complete},
      {"storage_upload_open", &storage_upload_open},
      {"storage_uploads_query", &storage_uploads_query},
  };
  return kCommands;
}

// The inventory job's (r2watch-console.wasm, wasm-bindings/modules.cc).
std::span<const CommandEntry> storage_inventory_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"storage_reconcile_page", &storage_reconcile_page},
  };
  return kCommands;
}

}  // namespace r2w::bindings
