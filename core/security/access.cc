#include "core/security/access.h"

#include <algorithm>

namespace r2w::security {

std::optional<Role> role_from_name(std::string_view name) {
  if (name == "readonly") return Role::kReadonly;
  if (name == "user") return Role::kUser;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kReadonly:
      return "readonly";
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
  }
  return "readonly";
}

bool is_known_scope(std::string_view scope) {
  return scope == kAllScopes || std::find(std::begin(kKnownScopes), std::end(kKnownScopes),
                                          scope) != std::end(kKnownScopes);
}

bool is_restricted_scope(std::string_view scope) { return scope == "metrics"; }

std::optional<Error> validate_user_id(std::string_view id, std::string_view field) {
  std::string f(field);
  if (id.empty() || id.size() > kMaxUserIdLength) {
    return invalid_field(f, f + " must be 1 to 64 characters long");
  }
  if (id == "." || id == "..") return invalid_field(f, f + " must not be . or ..");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return invalid_field(f, f + " may contain only letters, digits, '.', '_' and '-'");
  }
  return std::nullopt;
}

namespace {

bool holds(const Principal& p, std::string_view scope) {
  for (const std::string& s : p.scopes) {
    if (s == scope) return true;
    if (s == kAllScopes && (!is_restricted_scope(scope) || p.role == Role::kAdmin)) return true;
  }
  return false;
}

Error forbidden(std::string message, std::string field = "") {
  return Error{.code = std::string(kForbidden), .message = std::move(message), .field = field};
}

}  // namespace

std::optional<Error> authorize(const Principal& p, const Access& need) {
  if (static_cast<int>(p.role) < static_cast<int>(need.role)) {
    return forbidden("this needs the " + std::string(role_name(need.role)) + " role; " + p.user +
                     " has " + std::string(role_name(p.role)));
  }
  if (!need.scope.empty() && !holds(p, need.scope)) {
    return forbidden("this needs the " + need.scope + " scope, which this credential lacks");
  }
  return std::nullopt;
}

Result<Scope> scope_of(const Principal& p, std::optional<std::string_view> requested) {
  if (requested) {
    if (auto e = validate_user_id(*requested, "user")) {
      Error q = *e;
      q.code = "invalid_query";
      return q;
    }
    if (p.role != Role::kAdmin && *requested != p.user) {
      return forbidden("only an admin may see another user's data", "user");
    }
    return Scope{.subject = std::string(*requested), .filter = std::string(*requested)};
  }
  if (p.role == Role::kAdmin) return Scope{.subject = p.user, .filter = std::nullopt};
  return Scope{.subject = p.user, .filter = p.user};
}

}  // namespace r2w::security
