#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/cost/attribution.h"
#include "core/cost/month.h"
#include "core/cost/usage.h"

namespace r2w::cost {

// What one user stored through the API under one of their prefixes on one day (its peak), in
// a bucket. The API stores Standard objects only.
struct UserStorage {
  CivilDate date;
  std::string bucket;
  std::string user;
  std::string prefix;  // the first segment of the key as the user wrote it
  uint64_t peak_bytes = 0;
};

// The account's usage rows with the storage of the users' namespace attributed to its users.
// The bucket-wide rows of prefix `namespace_prefix` (Standard) hold every user's objects at
// once, as R2 counts them; each such row is split among that day's users' own peaks in that
// bucket: each user-prefix gets its recorded bytes and the rest stays unattributed (user ""),
// or, when the users' peaks add up to more than the row (peaks at different times of the
// day), the row is shared among them in proportion with allocate()'s largest remainder. The
// day's total stored bytes never change, so the account's bill is the same with either rows.
std::vector<UsageRow> attribute_user_storage(std::span<const UsageRow> rows,
                                             std::span<const UserStorage> users,
                                             std::string_view namespace_prefix);

// One user's part of the account's month: each line of the account's bill (to date, and each
// month-end scenario) split in proportion to usage to date, so the free tier and the rounding
// are shared the same way as in every other breakdown. `rows` are the attributed rows the
// report was made from. By prefix, the user's parts add up exactly to `to_date`.
struct UserShare {
  std::string user;
  std::vector<Share> by_prefix;                       // the user's prefixes, sorted
  Share to_date;                                      // the sum of by_prefix
  std::array<Share, kAllScenarios.size()> month_end;  // by Scenario
  Money daily_average;                                // to_date / days elapsed, half up
  std::vector<DayPoint> trend;  // the user's usage at list price per day (bill_to_date unset)
};
UserShare user_share(const MonthReport& report, const MonthInput& in, std::string_view user);

// The user's month to date (`share.to_date`) split across the buckets the user used: each line
// in proportion to the user's usage of it in each bucket (allocate()'s largest remainder, so
// the buckets add up exactly to to_date). Keys are buckets, sorted; a bucket the user did not
// use has no entry (its part is zero).
std::vector<Share> user_share_by_bucket(const MonthInput& in, const UserShare& share);

// The part of `shares` (a split by bucket: MonthReport::bucket_shares, user_share_by_bucket)
// that is `bucket`'s; zero for a bucket without one. What a usage summary narrowed to one
// bucket shows as its month to date.
Share bucket_part(std::span<const Share> shares, std::string_view bucket);

}  // namespace r2w::cost
