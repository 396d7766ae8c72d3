#pragma once

#include <string>
#include <string_view>

namespace r2w::storage {

// Every user's objects live under their own prefix in the bucket, "users/<user id>/": the
// user's key "photos/cat.jpg" is stored as "users/alice/photos/cat.jpg". A user id cannot
// contain "/" (security::validate_user_id), so no key of one user can reach into another's
// namespace, and listing with the namespace as prefix returns that user's objects only. Keys
// outside "users/" (r2watch's own ".r2watch/") belong to no user.
inline constexpr std::string_view kUsersPrefix = "users/";

inline std::string user_namespace(std::string_view user) {
  return std::string(kUsersPrefix) + std::string(user) + "/";
}

}  // namespace r2w::storage
