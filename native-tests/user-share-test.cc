// A user's part of the account's month: the users' namespace storage split among its users
// (the day's total never changes), and the shares of the bill adding up exactly, against
// hand-worked figures.
#include "core/cost/user-share.h"

#include <gtest/gtest.h>

#include "core/cost/month.h"

namespace r2w::cost {
namespace {

constexpr uint64_t GB = kBytesPerGb;

UsageRow storage_row(uint32_t day, std::string prefix, uint64_t bytes, std::string user = "",
                     StorageClass cls = StorageClass::kStandard) {
  return UsageRow{.date = {2026, 6, day},
                  .bucket = "data",
                  .prefix = std::move(prefix),
                  .user = std::move(user),
                  .storage_class = cls,
                  .storage_peak_bytes = bytes};
}

UserStorage mine(uint32_t day, std::string user, std::string prefix, uint64_t bytes) {
  return UserStorage{.date = {2026, 6, day},
                     .bucket = "data",
                     .user = std::move(user),
                     .prefix = std::move(prefix),
                     .peak_bytes = bytes};
}

uint64_t stored_on(const std::vector<UsageRow>& rows, uint32_t day, const std::string& user) {
  uint64_t n = 0;
  for (const UsageRow& r : rows) {
    if (r.date.day == day && r.user == user) n += r.storage_peak_bytes;
  }
  return n;
}

uint64_t stored_on(const std::vector<UsageRow>& rows, uint32_t day) {
  uint64_t n = 0;
  for (const UsageRow& r : rows) {
    if (r.date.day == day) n += r.storage_peak_bytes;
  }
  return n;
}

TEST(UserStorage, UsersGetWhatTheyStoredAndTheRestStaysUnattributed) {
  std::vector<UsageRow> rows{storage_row(1, "users", 1000), storage_row(1, "logs", 500)};
  std::vector<UserStorage> users{mine(1, "alice", "photos", 600), mine(1, "bob", "(root)", 300)};
  auto out = attribute_user_storage(rows, users, "users");
  EXPECT_EQ(stored_on(out, 1, "alice"), 600u);
  EXPECT_EQ(stored_on(out, 1, "bob"), 300u);
  EXPECT_EQ(stored_on(out, 1, ""), 600u);  // 100 of the namespace + the 500 of logs
  EXPECT_EQ(stored_on(out, 1), 1500u);
  bool alice_prefix = false;
  for (const UsageRow& r : out) alice_prefix |= r.user == "alice" && r.prefix == "photos";
  EXPECT_TRUE(alice_prefix);
}

TEST(UserStorage, PeaksAboveTheBucketsAreSharedInProportionExactly) {
  // Peaks at different times of the day add up to more than the namespace held at once.
  std::vector<UsageRow> rows{storage_row(2, "users", 1001)};
  std::vector<UserStorage> users{mine(2, "alice", "a", 1000), mine(2, "bob", "b", 1000),
                                 mine(2, "carol", "c", 1000)};
  auto out = attribute_user_storage(rows, users, "users");
  EXPECT_EQ(stored_on(out, 2), 1001u);
  EXPECT_EQ(stored_on(out, 2, ""), 0u);
  EXPECT_EQ(stored_on(out, 2, "alice"), 334u);  // 333 each; the 2 bytes left to the earliest
  EXPECT_EQ(stored_on(out, 2, "bob"), 334u);
  EXPECT_EQ(stored_on(out, 2, "carol"), 333u);
}

TEST(UserStorage, OtherRowsAndDaysAreLeftAsTheyAre) {
  std::vector<UsageRow> rows{
      storage_row(3, "users", 100, "", StorageClass::kInfrequentAccess),  // the API stores Standard
      storage_row(3, "logs", 100),
      storage_row(4, "users", 100),  // no user stored anything that day
  };
  std::vector<UserStorage> users{mine(3, "alice", "a", 50), mine(5, "alice", "a", 50)};
  auto out = attribute_user_storage(rows, users, "users");
  ASSERT_EQ(out.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(out[i].user, "");
    EXPECT_EQ(out[i].storage_peak_bytes, rows[i].storage_peak_bytes);
  }
}

MonthInput june30(std::vector<UsageRow> rows) {
  return MonthInput{
      .as_of = {2026, 6, 30}, .prices = default_price_list(), .rows = std::move(rows)};
}

TEST(UserShare, TheAccountsBillIsSharedByUsageWithTheFreeTier) {
  // 100 GB in the users' namespace all of June: alice 60 GB (photos), bob 40 GB. The account
  // pays (100 - 10 free) GB-months x $0.015 = $1.35; alice's part is 60%, bob's 40%.
  std::vector<UsageRow> rows;
  std::vector<UserStorage> users;
  for (uint32_t d = 1; d <= 30; ++d) {
    rows.push_back(storage_row(d, "users", 100 * GB));
    users.push_back(mine(d, "alice", "photos", 60 * GB));
    users.push_back(mine(d, "bob", "docs", 40 * GB));
  }
  MonthInput in = june30(attribute_user_storage(rows, users, "users"));
  auto report = month_report(in);
  ASSERT_TRUE(report.ok());
  auto account = month_report(june30(rows));
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(report.value().to_date.total, account.value().to_date.total)
      << "attribution never changes the account's bill";
  EXPECT_EQ(report.value().to_date.total, Money::micro_usd(1'350'000));

  UserShare alice = user_share(report.value(), in, "alice");
  UserShare bob = user_share(report.value(), in, "bob");
  EXPECT_EQ(alice.to_date.total, Money::micro_usd(810'000));
  EXPECT_EQ(bob.to_date.total, Money::micro_usd(540'000));
  EXPECT_EQ(alice.to_date.total + bob.to_date.total, report.value().to_date.total);
  ASSERT_EQ(alice.by_prefix.size(), 1u);
  EXPECT_EQ(alice.by_prefix[0].key, "photos");
  EXPECT_EQ(alice.daily_average, Money::micro_usd(27'000));
  const size_t expected = static_cast<size_t>(Scenario::kExpected);
  EXPECT_EQ(alice.month_end[expected].total, Money::micro_usd(810'000));  // the month is over
  ASSERT_EQ(alice.trend.size(), 30u);
  // A day of 60 GB at list price: 60 x $0.015 / 30 days = $0.03.
  EXPECT_EQ(alice.trend[0].list_cost, Money::micro_usd(30'000));
}

// Why a split by bucket or class reads no user's storage (GET /api/costs/breakdown): the
// users' parts stay in their bucket and class, so those splits come out the same either way,
// also when the users' peaks overshoot the bucket's and another bucket shares the bill.
TEST(UserStorage, ASplitByBucketOrClassIsTheSameWithOrWithoutTheUsersParts) {
  std::vector<UsageRow> rows;
  std::vector<UserStorage> users;
  for (uint32_t d = 1; d <= 30; ++d) {
    rows.push_back(storage_row(d, "users", 70 * GB + 3));
    rows.push_back(storage_row(d, "logs", 20 * GB));
    UsageRow other = storage_row(d, "", 45 * GB + 7, "", StorageClass::kInfrequentAccess);
    other.bucket = "archive";
    other.class_a_requests = 40'000 * d;
    rows.push_back(other);
    users.push_back(mine(d, "alice", "photos", 60 * GB + d));  // with bob's: more than the row
    users.push_back(mine(d, "bob", "docs", 40 * GB));
  }
  MonthInput split = june30(attribute_user_storage(rows, users, "users"));
  MonthInput whole = june30(rows);
  auto a = month_report(split);
  auto b = month_report(whole);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_GT(b.value().to_date.total, Money{});
  for (BreakdownBy by : {BreakdownBy::kBucket, BreakdownBy::kStorageClass}) {
    std::vector<Share> x = breakdown(a.value(), split, by);
    std::vector<Share> y = breakdown(b.value(), whole, by);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].key, y[i].key);
      EXPECT_EQ(x[i].total, y[i].total) << x[i].key;
      EXPECT_EQ(x[i].lines, y[i].lines) << x[i].key;
    }
  }
}

TEST(UserShare, PrefixPartsAddUpToTheUsersPartAndSomeoneWithoutUsageOwesNothing) {
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 10; ++d) {
    rows.push_back(storage_row(d, "logs", 300 * GB));  // nobody's
    rows.push_back(UsageRow{.date = {2026, 6, d},
                            .bucket = "data",
                            .prefix = "a",
                            .user = "alice",
                            .class_a_requests = 250'001});
    rows.push_back(UsageRow{.date = {2026, 6, d},
                            .bucket = "data",
                            .prefix = "b",
                            .user = "alice",
                            .class_a_requests = 33'333,
                            .class_b_requests = 7});
  }
  MonthInput in{.as_of = {2026, 6, 10}, .prices = default_price_list(), .rows = rows};
  auto report = month_report(in);
  ASSERT_TRUE(report.ok());
  UserShare alice = user_share(report.value(), in, "alice");
  ASSERT_EQ(alice.by_prefix.size(), 2u);
  EXPECT_EQ(alice.by_prefix[0].total + alice.by_prefix[1].total, alice.to_date.total);
  // 2,833,340 class A requests, less 1 million free: 2 billable millions ($9.00), all alice's.
  EXPECT_EQ(alice.to_date.lines[index_of(Line::kClassA)], Money::micro_usd(4'500'000 * 2));
  EXPECT_EQ(alice.to_date.lines[index_of(Line::kStorage)], Money{});
  UserShare nobody = user_share(report.value(), in, "zed");
  EXPECT_EQ(nobody.to_date.total, Money{});
  EXPECT_TRUE(nobody.by_prefix.empty());
  for (const Share& s : nobody.month_end) EXPECT_EQ(s.total, Money{});
}

}  // namespace

TEST(UserShare, BucketPartsAddUpToTheUsersPartAndAnUnusedBucketHasNone) {
  // alice's calls: 3 parts of her Class A in "data", 1 part in "media"; 2 billable millions
  // ($9.00) are hers, shared 3:1 by bucket.
  std::vector<UsageRow> rows;
  for (uint32_t d = 1; d <= 10; ++d) {
    rows.push_back(UsageRow{.date = {2026, 6, d},
                            .bucket = "data",
                            .prefix = "a",
                            .user = "alice",
                            .class_a_requests = 225'000});
    rows.push_back(UsageRow{.date = {2026, 6, d},
                            .bucket = "media",
                            .prefix = "a",
                            .user = "alice",
                            .class_a_requests = 75'000});
    rows.push_back(UsageRow{.date = {2026, 6, d},
                            .bucket = "media",
                            .prefix = "b",
                            .user = "bob",
                            .class_a_requests = 1});
  }
  MonthInput in{.as_of = {2026, 6, 10}, .prices = default_price_list(), .rows = rows};
  auto report = month_report(in);
  ASSERT_TRUE(report.ok());
  UserShare alice = user_share(report.value(), in, "alice");
  std::vector<Share> by_bucket = user_share_by_bucket(in, alice);
  ASSERT_EQ(by_bucket.size(), 2u);
  EXPECT_EQ(by_bucket[0].key, "data");
  EXPECT_EQ(by_bucket[1].key, "media");
  EXPECT_EQ(by_bucket[0].total + by_bucket[1].total, alice.to_date.total);
  EXPECT_EQ(by_bucket[0].total, Money::micro_usd(alice.to_date.total.micro_usd() * 3 / 4));
  EXPECT_EQ(bucket_part(by_bucket, "media").total, by_bucket[1].total);
  Share none = bucket_part(by_bucket, "logs");
  EXPECT_EQ(none.key, "logs");
  EXPECT_EQ(none.total, Money{});
  // Someone without usage has no bucket at all.
  EXPECT_TRUE(user_share_by_bucket(in, user_share(report.value(), in, "zed")).empty());
}

}  // namespace r2w::cost
