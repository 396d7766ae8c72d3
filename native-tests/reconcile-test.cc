#include "core/storage/reconcile.h"

#include <gtest/gtest.h>

namespace r2w::storage {
namespace {

TimePoint at(int64_t ms) { return from_epoch_ms(ms); }

TEST(Reconcile, ARecordWithoutItsObjectIsDeletedAndAnObjectWithoutARecordIsWritten) {
  std::vector<ListedObject> listed = {{"users/ann/a.txt", 10}, {"users/bob/b/c.bin", 7}};
  std::vector<ObjectRecord> records = {{"ann", "a.txt", 10, at(100)}, {"ann", "gone", 5, at(100)}};
  auto plan = reconcile_page(listed, records, ListingRange{}, at(1000));
  ASSERT_EQ(plan.deletes.size(), 1u);
  EXPECT_EQ(plan.deletes[0].key, "gone");
  EXPECT_EQ(plan.deletes[0].r2_key, "users/ann/gone");
  ASSERT_EQ(plan.upserts.size(), 1u);
  EXPECT_EQ(plan.upserts[0].user_id, "bob");
  EXPECT_EQ(plan.upserts[0].key, "b/c.bin");
  EXPECT_EQ(plan.upserts[0].size, 7u);
  EXPECT_EQ(plan.upserts[0].prefix, "b");
  EXPECT_EQ(plan.users, (std::vector<std::string>{"ann", "bob"}));
}

TEST(Reconcile, ASizeThatDiffersIsCorrectedAndAnEqualOneLeftAlone) {
  auto plan = reconcile_page({{"users/ann/a", 10}, {"users/ann/b", 3}},
                             {{"ann", "a", 9, at(1)}, {"ann", "b", 3, at(1)}}, {}, at(10));
  ASSERT_EQ(plan.upserts.size(), 1u);
  EXPECT_EQ(plan.upserts[0].key, "a");
  EXPECT_EQ(plan.upserts[0].size, 10u);
  EXPECT_TRUE(plan.deletes.empty());
}

TEST(Reconcile, ARecordChangedSinceTheListingIsLeftToTheChange) {
  // Written at the listing's time or after: an upload or delete under way knows better.
  auto plan = reconcile_page({}, {{"ann", "new", 4, at(1000)}}, {}, at(1000));
  EXPECT_TRUE(plan.deletes.empty());
  plan = reconcile_page({{"users/ann/x", 4}}, {{"ann", "x", 9, at(1001)}}, {}, at(1000));
  EXPECT_TRUE(plan.upserts.empty());
  EXPECT_TRUE(plan.users.empty());
}

TEST(Reconcile, OnlyTheRecordsOfThePagesKeyRangeAreJudged) {
  ListingRange range{.after = "users/ann/b", .through = "users/ann/d"};
  std::vector<ObjectRecord> records = {{"ann", "a", 1, at(1)},
                                       {"ann", "b", 1, at(1)},
                                       {"ann", "c", 1, at(1)},
                                       {"ann", "d", 1, at(1)},
                                       {"ann", "e", 1, at(1)}};
  auto plan = reconcile_page({{"users/ann/d", 1}}, records, range, at(10));
  ASSERT_EQ(plan.deletes.size(), 1u);
  EXPECT_EQ(plan.deletes[0].key, "c");  // a, b before the page; e after it
  EXPECT_TRUE(in_range({}, "anything"));
  EXPECT_FALSE(in_range(range, "users/ann/b"));
  EXPECT_TRUE(in_range(range, "users/ann/d"));
}

TEST(Reconcile, KeysOutsideTheUsersNamespacesAreNotRecords) {
  auto plan = reconcile_page(
      {{".r2watch/probe/1", 3}, {"users/", 1}, {"users/ann", 1}, {"users/ann/", 1}, {"other/x", 2}},
      {}, {}, at(10));
  EXPECT_TRUE(plan.upserts.empty());
  EXPECT_TRUE(plan.users.empty());
}

}  // namespace
}  // namespace r2w::storage
