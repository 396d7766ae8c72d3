#include "core/storage/upload-policy.h"

#include <gtest/gtest.h>

namespace r2w::storage {
namespace {

constexpr uint64_t kMax = 100ull * 1024 * 1024;
constexpr uint64_t kMiB = 1024 * 1024;

TEST(UploadBody, ADeclaredLengthIsStreamedUpToTheLimit) {
  auto ok = plan_upload_body("104857600", kMax);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value().declared_bytes, kMax);
  auto over = plan_upload_body("104857601", kMax);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "payload_too_large");
  EXPECT_EQ(over.error().field, "content-length");
  EXPECT_TRUE(plan_upload_body("0", kMax).ok());
  for (const char* bad : {"", "-1", "1e6", " 5", "12345678901234567"}) {
    auto e = plan_upload_body(bad, kMax);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().field, "content-length");
  }
}

TEST(UploadBody, WithoutALengthOnlyASmallBodyIsBuffered) {
  auto plan = plan_upload_body(std::nullopt, kMax);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan.value().declared_bytes);
  EXPECT_EQ(plan.value().buffer_limit_bytes, kMaxUnsizedUploadBytes);
  EXPECT_EQ(plan.value().over_limit.code, "length_required");
  // Under a MAX_UPLOAD_BYTES below the buffer limit, a longer body is simply too large.
  auto small = plan_upload_body(std::nullopt, 1000);
  EXPECT_EQ(small.value().buffer_limit_bytes, 1000u);
  EXPECT_EQ(small.value().over_limit.code, "payload_too_large");
}

TEST(Metadata, HeadersBecomeCustomMetadataAndBack) {
  Metadata headers = {{"content-type", "text/plain"},
                      {"x-r2watch-meta-owner", "ana"},
                      {"x-r2watch-meta-build_id", "42 (nightly)"}};
  auto m = metadata_from_headers(headers);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m.value(), (Metadata{{"build_id", "42 (nightly)"}, {"owner", "ana"}}));
  EXPECT_EQ(metadata_headers(m.value()), (Metadata{{"x-r2watch-meta-build_id", "42 (nightly)"},
                                                   {"x-r2watch-meta-owner", "ana"}}));
  // Stored around r2watch with names or values a header cannot carry: left out.
  EXPECT_EQ(metadata_headers({{"Bad Name", "x"}, {"ok", "caf\xc3\xa9"}, {"fine", "1"}}),
            (Metadata{{"x-r2watch-meta-fine", "1"}}));
}

TEST(Metadata, BadNamesValuesAndSizesAreRefusedNamingTheHeader) {
  auto refuse = [](Metadata h) {
    auto m = metadata_from_headers(h);
    EXPECT_FALSE(m.ok());
    return m.ok() ? std::string() : m.error().field;
  };
  EXPECT_EQ(refuse({{"x-r2watch-meta-", "v"}}), "x-r2watch-meta-");
  EXPECT_EQ(refuse({{"x-r2watch-meta-a.b", "v"}}), "x-r2watch-meta-a.b");
  EXPECT_EQ(refuse({{"x-r2watch-meta-" + std::string(65, 'n'), "v"}}),
            "x-r2watch-meta-" + std::string(65, 'n'));
  EXPECT_EQ(refuse({{"x-r2watch-meta-note", "tab\there"}}), "x-r2watch-meta-note");
  EXPECT_EQ(refuse({{"x-r2watch-meta-a", std::string(1500, 'v')},
                    {"x-r2watch-meta-b", std::string(600, 'v')}}),
            "x-r2watch-meta-b");
  EXPECT_TRUE(metadata_from_headers({{"x-r2watch-meta-a", std::string(2047, 'v')}}).ok());
}

TEST(Parts, PartNumbersAreOneToTenThousand) {
  EXPECT_EQ(parse_part_number("1").value(), 1u);
  EXPECT_EQ(parse_part_number("10000").value(), 10000u);
  for (const char* bad : {"0", "10001", "", "-1", "1.5", "abc", "99999999999"}) {
    auto p = parse_part_number(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, "invalid_part");
    EXPECT_EQ(p.error().field, "part_number");
  }
}

TEST(Parts, APartNeedsItsLengthWithinTheLimits) {
  EXPECT_EQ(part_bytes(std::nullopt, kMax).error().code, "length_required");
  EXPECT_EQ(part_bytes("104857601", kMax).error().code, "payload_too_large");
  EXPECT_EQ(part_bytes("5368709121", 10 * kMaxPartBytes).error().code, "payload_too_large");
  EXPECT_EQ(part_bytes("5242880", kMax).value(), 5242880u);
}

TEST(Parts, AnUploadIsOpenUntilItExpires) {
  TimePoint t = from_epoch_ms(1000);
  EXPECT_FALSE(check_upload_open(t, from_epoch_ms(999)));
  auto e = check_upload_open(t, t);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "no_such_upload");
  EXPECT_EQ(e->field, "upload_id");
}

class CompleteTest : public ::testing::Test {
 protected:
  std::vector<UploadedPart> uploaded = {
      {1, "e1", 5 * kMiB}, {2, "e2", 5 * kMiB}, {3, "e3", 100}, {4, "e4", 5 * kMiB}};
};

TEST_F(CompleteTest, AscendingKnownPartsWithTheirEtagsMakeTheObject) {
  auto plan = plan_complete({{1, "e1"}, {2, "\"e2\""}, {3, "e3"}}, uploaded);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan.value().size, 10 * kMiB + 100);
  EXPECT_EQ(plan.value().parts.size(), 3u);
  // A single small part is a whole object.
  EXPECT_TRUE(plan_complete({{3, "e3"}}, uploaded).ok());
}

TEST_F(CompleteTest, OutOfOrderUnknownOrStalePartsAreRefusedNamingTheField) {
  auto check = [&](std::vector<PartRef> parts, const char* code, const char* field) {
    auto plan = plan_complete(parts, uploaded);
    ASSERT_FALSE(plan.ok()) << field;
    EXPECT_EQ(plan.error().code, code);
    EXPECT_EQ(plan.error().field, field);
  };
  check({{2, "e2"}, {1, "e1"}}, "invalid_part_order", "parts[1].part_number");
  check({{1, "e1"}, {1, "e1"}}, "invalid_part_order", "parts[1].part_number");
  check({{1, "e1"}, {7, "e7"}}, "invalid_part", "parts[1].part_number");
  check({{1, "e1"}, {2, "stale"}}, "invalid_part", "parts[1].etag");
  check({{0, "e1"}}, "invalid_part", "parts[0].part_number");
  check({}, "invalid_part", "parts");
  // Sizes R2 refuses: a small part before the last; the last larger than the others.
  check({{3, "e3"}, {4, "e4"}}, "invalid_part", "parts[0]");
  std::vector<UploadedPart> growing = {{1, "a", 5 * kMiB}, {2, "b", 6 * kMiB}};
  auto last_larger = plan_complete({{1, "a"}, {2, "b"}}, growing);
  ASSERT_FALSE(last_larger.ok());
  EXPECT_EQ(last_larger.error().field, "parts[1]");
  std::vector<UploadedPart> uneven = {{1, "a", 6 * kMiB}, {2, "b", 5 * kMiB}, {3, "c", 1}};
  auto mixed = plan_complete({{1, "a"}, {2, "b"}, {3, "c"}}, uneven);
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().field, "parts[1]");
}

}  // namespace
}  // namespace r2w::storage
