#include "core/security/credentials.h"

#include <cmath>

#include "core/security/sha256.h"
#include "core/storage/object-key.h"

namespace r2w::security {

using json = r2w::Json;

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Error refuse(std::string message) {
  return Error{.code = std::string(kUnauthenticated), .message = std::move(message), .field = ""};
}

// Collects every bad field of a request (like FieldReader, but reports them all at once).
class Problems {
 public:
  void add(std::optional<Error> e) {
    if (e) list_.push_back(FieldProblem{e->field, e->message});
  }
  void add(std::string field, std::string message) {
    list_.push_back(FieldProblem{std::move(field), std::move(message)});
  }
  std::optional<Error> error() const {
    if (list_.empty()) return std::nullopt;
    return Error{.code = "invalid_field",
                 .message = list_.front().message +
                            (list_.size() > 1 ? " (and " + std::to_string(list_.size() - 1) +
                                                    " more invalid fields)"
                                              : ""),
                 .field = list_.front().field,
                 .problems = list_};
  }

 private:
  std::vector<FieldProblem> list_;
};

void refuse_unknown(const json& request, std::initializer_list<std::string_view> known,
                    Problems& problems) {
  for (const auto& item : request.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || item.key() == k;
    if (!found) problems.add(item.key(), item.key() + " is not a known field");
  }
}

}  // namespace

bool looks_like_api_token(std::string_view token) { return token.starts_with(kApiTokenPrefix); }

std::optional<std::string> api_token_id(std::string_view token) {
  const size_t expected = kApiTokenPrefix.size() + kApiTokenIdHex + 1 + kApiTokenSecretHex;
  if (token.size() != expected || !token.starts_with(kApiTokenPrefix)) return std::nullopt;
  std::string_view id = token.substr(kApiTokenPrefix.size(), kApiTokenIdHex);
  std::string_view secret = token.substr(kApiTokenPrefix.size() + kApiTokenIdHex + 1);
  if (token[kApiTokenPrefix.size() + kApiTokenIdHex] != '_' || !is_lower_hex(id) ||
      !is_lower_hex(secret)) {
    return std::nullopt;
  }
  return std::string(id);
}

std::string api_token_hash(std::string_view token) { return to_hex(sha256(token)); }

Result<Principal> check_api_token(std::string_view token, const StoredToken& row, TimePoint now) {
  auto id = api_token_id(token);
  if (!id) return refuse("API token is malformed");
  // Constant time: the comparison does not reveal how much of the hash matched.
  if (!constant_time_equal(api_token_hash(token), row.hash) || row.id != *id) {
    return refuse("API token is not valid");
  }
  if (row.revoked_at) return refuse("API token has been revoked");
  if (row.expires_at && now >= *row.expires_at) return refuse("API token has expired");
  if (row.user_disabled) return refuse("the token's user is disabled");
  return Principal{.user = row.user_id,
                   .role = row.role,
                   .scopes = row.scopes,
                   .via = "api_token",
                   .token_id = row.id};
}

bool last_used_due(std::optional<TimePoint> last_used, TimePoint now) {
  return !last_used || now - *last_used >= kLastUsedGranularity;
}

bool token_row_fresh(TimePoint fetched_at, TimePoint now) {
  return fetched_at <= now && now - fetched_at < kTokenCacheTtl;
}

std::optional<Error> validate_label(std::string_view text, std::string_view field) {
  std::string f(field);
  if (text.empty() || text.size() > 100) {
    return invalid_field(f, f + " must be 1 to 100 bytes long");
  }
  // The key checker knows UTF-8 and control characters; a label has no path rules of its own,
  // so slashes are replaced before asking it.
  std::string probe(text);
  for (char& c : probe) {
    if (c == '/' || c == '.') c = '_';
  }
  if (auto e = storage::validate_key(probe, field)) return e;
  return std::nullopt;
}

Result<UserRecord> validate_new_user(const json& request) {
  Problems problems;
  UserRecord user;
  refuse_unknown(request, {"id", "name", "email", "role"}, problems);
  auto text = [&](const char* name, std::string& out, bool required) {
    auto it = request.find(name);
    if (it == request.end() || it->is_null()) {
      if (required) problems.add(name, std::string(name) + " is required");
      return false;
    }
    if (!it->is_string()) {
      problems.add(name, std::string(name) + " must be a string");
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  if (text("id", user.id, true)) problems.add(validate_user_id(user.id, "id"));
  if (text("name", user.name, false)) problems.add(validate_label(user.name, "name"));
  if (text("email", user.email, false)) {
    if (user.email.size() > 254 || user.email.find('@') == std::string::npos ||
        validate_label(user.email.substr(0, 100), "email")) {
      problems.add("email", "email must be an address like name@example.com");
    }
  }
  std::string role;
  if (text("role", role, true)) {
    if (auto r = role_from_name(role)) {
      user.role = *r;
    } else {
      problems.add("role", "role must be admin, user or readonly");
    }
  }
  if (auto e = problems.error()) return *e;
  if (user.name.empty()) user.name = user.id;
  return user;
}

Result<IssuedToken> issue_api_token(const json& request, const std::optional<UserRecord>& user,
                                    std::string_view random_hex, TimePoint now) {
  if (random_hex.size() != kTokenRandomHex || !is_lower_hex(random_hex)) {
    return Error{
        .code = "invalid_field",
        .message = "random must be " + std::to_string(kTokenRandomHex) + " lower-case hex digits",
        .field = "random"};
  }
  Problems problems;
  IssuedToken t;
  refuse_unknown(request, {"user_id", "name", "role", "scopes", "expires_in_days"}, problems);
  auto user_id = request.find("user_id");
  if (user_id == request.end() || !user_id->is_string()) {
    problems.add("user_id", "user_id is required (a string)");
  } else if (auto e = validate_user_id(user_id->get<std::string>(), "user_id")) {
    problems.add(e);
  } else if (!user) {
    problems.add("user_id", "user_id names no user");
  } else if (user->disabled) {
    problems.add("user_id", "user " + user->id + " is disabled");
  } else {
    t.user_id = user->id;
    t.role = user->role;
  }
  auto name = request.find("name");
  if (name == request.end() || !name->is_string()) {
    problems.add("name", "name is required (a string)");
  } else {
    t.name = name->get<std::string>();
    problems.add(validate_label(t.name, "name"));
  }
  if (auto role = request.find("role"); role != request.end()) {
    std::optional<Role> r =
        role->is_string() ? role_from_name(role->get<std::string>()) : std::nullopt;
    if (!r) {
      problems.add("role", "role must be admin, user or readonly");
    } else if (user && static_cast<int>(*r) > static_cast<int>(user->role)) {
      problems.add("role", "role must not be above the user's own role (" +
                               std::string(role_name(user->role)) + ")");
    } else {
      t.role = *r;
    }
  }
  if (auto scopes = request.find("scopes"); scopes != request.end()) {
    if (!scopes->is_array() || scopes->empty() || scopes->size() > 16) {
      problems.add("scopes", "scopes must be a list of 1 to 16 scopes");
    } else {
      for (size_t i = 0; i < scopes->size(); ++i) {
        const json& s = (*scopes)[i];
        std::string field = "scopes[" + std::to_string(i) + "]";
        if (!s.is_string() || !is_known_scope(s.get<std::string>())) {
          problems.add(field, field +
                                  " must be one of *, storage, usage, costs, health, alerts, "
                                  "admin, metrics");
        } else {
          t.scopes.push_back(s.get<std::string>());
        }
      }
    }
  } else {
    t.scopes = {std::string(kAllScopes)};
  }
  if (auto days = request.find("expires_in_days"); days != request.end() && !days->is_null()) {
    bool whole = days->is_number_integer() ||
                 (days->is_number_float() && std::isfinite(days->get<double>()) &&
                  std::floor(days->get<double>()) == days->get<double>());
    double d = days->is_number() ? days->get<double>() : 0;
    if (!whole || d < 1 || d > 3650) {
      problems.add("expires_in_days", "expires_in_days must be a whole number from 1 to 3650");
    } else {
      t.expires_at = now + std::chrono::hours(24) * static_cast<int64_t>(d);
    }
  }
  if (auto e = problems.error()) return *e;
  t.id = std::string(random_hex.substr(0, kApiTokenIdHex));
  t.token =
      std::string(kApiTokenPrefix) + t.id + "_" + std::string(random_hex.substr(kApiTokenIdHex));
  t.hash = api_token_hash(t.token);
  t.created_at = now;
  return t;
}

}  // namespace r2w::security
