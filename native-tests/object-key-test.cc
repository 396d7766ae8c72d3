#include "core/storage/object-key.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace r2w::storage {
namespace {

TEST(ObjectKey, AcceptsOrdinaryKeys) {
  for (std::string_view key : {"a", "photos/2026/cat.jpg", "with space/ünïcode ✓.txt",
                               "dots.in.name/..hidden", "r2watch/not-reserved"}) {
    EXPECT_FALSE(validate_key(key).has_value()) << key;
  }
}

TEST(ObjectKey, RefusesEmptyLongControlAndPathTricks) {
  std::string at_limit(1024, 'k'), over(1025, 'k');
  EXPECT_FALSE(validate_key(at_limit).has_value());
  struct Case {
    std::string key;
    const char* why;
  };
  for (const Case& c :
       {Case{"", "required"}, Case{over, "1024"}, Case{"a\nb", "control"},
        Case{std::string("a\0b", 3), "control"}, Case{"a\x7f", "control"}, Case{"/abs", "start"},
        Case{"a/../b", ".."}, Case{"./a", ". or .."}, Case{"a/..", ".."}, Case{"\xff\xfe", "UTF-8"},
        Case{"\xc0\xaf", "UTF-8"}, Case{"\xed\xa0\x80", "UTF-8"},
        Case{".r2watch/health/x", "reserved"}, Case{".r2watch", "reserved"}}) {
    auto e = validate_key(c.key);
    ASSERT_TRUE(e.has_value()) << c.key;
    EXPECT_EQ(e->field, "key");
    EXPECT_NE(e->message.find(c.why), std::string::npos) << e->message;
  }
}

TEST(ListQuery, DefaultsAndBounds) {
  auto q = parse_list_query(std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().limit, 100u);
  EXPECT_TRUE(parse_list_query({}, {}, "1").ok());
  EXPECT_EQ(parse_list_query({}, {}, "1000").value().limit, 1000u);
  for (std::string_view bad : {"0", "1001", "-1", "1.5", "ten", "", "99999"}) {
    auto r = parse_list_query({}, {}, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "limit");
  }
}

TEST(ListQuery, PrefixFollowsKeyRulesButMayBeEmpty) {
  EXPECT_EQ(parse_list_query("photos/", {}, {}).value().prefix, "photos/");
  EXPECT_TRUE(parse_list_query("", {}, {}).ok());
  EXPECT_EQ(parse_list_query("../", {}, {}).error().field, "prefix");
  EXPECT_EQ(parse_list_query({}, "c\x01", {}).error().field, "cursor");
}

TEST(QueryNames, EachRouteTakesItsOwnParametersAndUserEverywhere) {
  using Names = std::vector<std::string>;
  for (StorageRoute route : {StorageRoute::kObject, StorageRoute::kList, StorageRoute::kUploadStart,
                             StorageRoute::kUploads}) {
    EXPECT_FALSE(check_query_names(route, Names{}).has_value());
    EXPECT_FALSE(check_query_names(route, Names{"user"}).has_value());
  }
  EXPECT_FALSE(check_query_names(StorageRoute::kList, Names{"prefix", "cursor", "limit", "user"})
                   .has_value());
  EXPECT_FALSE(check_query_names(StorageRoute::kUploadStart, Names{"uploads", "user"}).has_value());
  struct Case {
    StorageRoute route;
    Names names;
    std::string refused;
  };
  for (const Case& c : {Case{StorageRoute::kObject, {"user", "uploads"}, "uploads"},
                        Case{StorageRoute::kObject, {"prefix"}, "prefix"},
                        Case{StorageRoute::kList, {"prefix", "sort", "colour"}, "sort"},
                        Case{StorageRoute::kUploadStart, {"limit"}, "limit"},
                        Case{StorageRoute::kUploads, {"uploads"}, "uploads"}}) {
    auto e = check_query_names(c.route, c.names);
    ASSERT_TRUE(e.has_value()) << c.refused;
    EXPECT_EQ(e->code, "invalid_query");
    EXPECT_EQ(e->field, c.refused);
    EXPECT_EQ(e->message, "unknown query parameter " + c.refused);
  }
}

}  // namespace
}  // namespace r2w::storage
