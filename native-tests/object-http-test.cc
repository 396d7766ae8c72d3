#include "core/storage/object-http.h"

#include <gtest/gtest.h>

namespace r2w::storage {
namespace {

using Kind = RangeSpec::Kind;

TEST(Range, ParsesTheThreeFormsOfOneRange) {
  auto a = parse_range("bytes=0-99");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, Kind::kFromTo);
  EXPECT_EQ(a->first, 0u);
  EXPECT_EQ(a->last, 99u);
  auto b = parse_range(" Bytes = 500- ");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, Kind::kFrom);
  EXPECT_EQ(b->first, 500u);
  auto c = parse_range("bytes=-20");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::kSuffix);
  EXPECT_EQ(c->suffix, 20u);
  // Empty list elements are allowed around the one range.
  EXPECT_TRUE(parse_range("bytes=, 1-2 ,"));
}

TEST(Range, IgnoresWhatHttpSaysToIgnore) {
  for (const char* h :
       {"", "bytes", "bytes=", "items=0-1", "bytes=5-4", "bytes=a-b", "bytes=1-x", "bytes=-",
        "bytes=--1", "bytes=0-1,5-6", "bytes=+1-2", "bytes=1 -2", "bytes=0x10-20", "0-99"}) {
    EXPECT_FALSE(parse_range(h)) << h;
  }
  EXPECT_FALSE(parse_range("bytes=0-" + std::string(kMaxConditionalHeaderBytes, '9')));
}

TEST(Range, HugeNumbersSaturateInsteadOfWrapping) {
  auto r = parse_range("bytes=99999999999999999999999999-");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, kMaxRangeNumber);
  EXPECT_FALSE(resolve_range(*r, 1000));
  auto to_end = parse_range("bytes=10-99999999999999999999999999");
  ASSERT_TRUE(to_end);
  EXPECT_EQ(resolve_range(*to_end, 100), (ByteRange{10, 90}));
}

TEST(Range, ResolvesAgainstTheObjectSize) {
  auto r = [](const char* h, uint64_t size) { return resolve_range(*parse_range(h), size); };
  EXPECT_EQ(r("bytes=0-0", 10), (ByteRange{0, 1}));
  EXPECT_EQ(r("bytes=9-9", 10), (ByteRange{9, 1}));
  EXPECT_EQ(r("bytes=5-100", 10), (ByteRange{5, 5}));
  EXPECT_EQ(r("bytes=3-", 10), (ByteRange{3, 7}));
  EXPECT_EQ(r("bytes=-3", 10), (ByteRange{7, 3}));
  EXPECT_EQ(r("bytes=-30", 10), (ByteRange{0, 10}));
  // Unsatisfiable: at or past the end, a zero suffix, any range of an empty object.
  EXPECT_FALSE(r("bytes=10-", 10));
  EXPECT_FALSE(r("bytes=10-20", 10));
  EXPECT_FALSE(r("bytes=-0", 10));
  EXPECT_FALSE(r("bytes=0-", 0));
  EXPECT_FALSE(r("bytes=-5", 0));
}

TEST(Range, WhatR2IsAskedFor) {
  auto a = r2_range(*parse_range("bytes=10-19"));
  EXPECT_EQ(a.offset, 10u);
  EXPECT_EQ(a.length, 10u);
  EXPECT_FALSE(a.suffix);
  auto b = r2_range(*parse_range("bytes=10-"));
  EXPECT_EQ(b.offset, 10u);
  EXPECT_FALSE(b.length);
  auto c = r2_range(*parse_range("bytes=-7"));
  EXPECT_EQ(c.suffix, 7u);
  EXPECT_FALSE(c.offset);
  ReadRequest head{.method = ReadMethod::kHead, .range = "bytes=0-1"};
  EXPECT_FALSE(range_to_fetch(head));
  ReadRequest get{.method = ReadMethod::kGet, .range = "bytes=0-1"};
  EXPECT_TRUE(range_to_fetch(get));
}

TEST(HttpDate, ParsesTheThreeFormsAndFormatsImfFixdate) {
  const int64_t t = 784111777;  // 1994-11-06 08:49:37 UTC
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), t);
  EXPECT_EQ(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1795996800), "Mon, 30 Nov 2026 00:00:00 GMT");
  EXPECT_EQ(parse_http_date(format_http_date(1795996800)), 1795996800);
  for (const char* bad :
       {"", "yesterday", "Sun, 31 Feb 2026 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Xyz, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

class ReadAnswerTest : public ::testing::Test {
 protected:
  // Uploaded at 1994-11-06 08:49:37.500 UTC: Last-Modified drops the fraction.
  ObjectVersion object{.etag = "abc123", .size = 100, .uploaded = from_epoch_ms(784111777500)};
  static constexpr const char* kLastModified = "Sun, 06 Nov 1994 08:49:37 GMT";
  static constexpr const char* kSecondBefore = "Sun, 06 Nov 1994 08:49:36 GMT";

  std::string header_of(const ReadAnswer& a, std::string_view name) {
    for (const auto& [n, v] : a.headers) {
      if (n == name) return v;
    }
    return "(absent)";
  }
};

TEST_F(ReadAnswerTest, AnUnconditionalGetIsTheWholeObjectWithItsValidators) {
  auto a = answer_read({}, object);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(header_of(a, "etag"), "\"abc123\"");
  EXPECT_EQ(header_of(a, "last-modified"), kLastModified);
  EXPECT_EQ(header_of(a, "content-length"), "100");
  EXPECT_EQ(header_of(a, "accept-ranges"), "bytes");
}

TEST_F(ReadAnswerTest, IfNoneMatchComparesWeaklyAndWinsOverIfModifiedSince) {
  EXPECT_EQ(answer_read({.if_none_match = "\"abc123\""}, object).status, 304);
  EXPECT_EQ(answer_read({.if_none_match = "W/\"abc123\""}, object).status, 304);
  EXPECT_EQ(answer_read({.if_none_match = "\"x\", \"abc123\""}, object).status, 304);
  EXPECT_EQ(answer_read({.if_none_match = "*"}, object).status, 304);
  EXPECT_EQ(answer_read({.if_none_match = "\"other\""}, object).status, 200);
  EXPECT_EQ(answer_read({.if_none_match = "abc123"}, object).status, 200);  // not a tag
  // A non-matching If-None-Match makes If-Modified-Since be ignored.
  EXPECT_EQ(answer_read({.if_none_match = "\"other\"", .if_modified_since = kLastModified}, object)
                .status,
            200);
  auto head = answer_read({.method = ReadMethod::kHead, .if_none_match = "\"abc123\""}, object);
  EXPECT_EQ(head.status, 304);
  EXPECT_EQ(header_of(head, "content-length"), "(absent)");
  EXPECT_EQ(header_of(head, "etag"), "\"abc123\"");
}

TEST_F(ReadAnswerTest, IfModifiedSinceAtOneSecondGranularity) {
  EXPECT_EQ(answer_read({.if_modified_since = kLastModified}, object).status, 304);
  EXPECT_EQ(answer_read({.if_modified_since = kSecondBefore}, object).status, 200);
  EXPECT_EQ(answer_read({.if_modified_since = "not a date"}, object).status, 200);
}

TEST_F(ReadAnswerTest, IfMatchAndIfUnmodifiedSinceFailWith412) {
  EXPECT_EQ(answer_read({.if_match = "\"abc123\""}, object).status, 200);
  EXPECT_EQ(answer_read({.if_match = "*"}, object).status, 200);
  EXPECT_EQ(answer_read({.if_match = "\"zzz\""}, object).status, 412);
  EXPECT_EQ(answer_read({.if_match = "W/\"abc123\""}, object).status, 412);  // strong
  EXPECT_EQ(answer_read({.if_unmodified_since = kSecondBefore}, object).status, 412);
  EXPECT_EQ(answer_read({.if_unmodified_since = kLastModified}, object).status, 200);
  // If-Match present: If-Unmodified-Since is not looked at.
  EXPECT_EQ(
      answer_read({.if_match = "\"abc123\"", .if_unmodified_since = kSecondBefore}, object).status,
      200);
  // 412 comes before 304.
  EXPECT_EQ(answer_read({.if_match = "\"zzz\"", .if_none_match = "\"abc123\""}, object).status,
            412);
}

TEST_F(ReadAnswerTest, RangesGive206Or416AndNotModifiedComesFirst) {
  auto a = answer_read({.range = "bytes=10-19"}, object);
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.range, (ByteRange{10, 10}));
  EXPECT_EQ(header_of(a, "content-range"), "bytes 10-19/100");
  EXPECT_EQ(header_of(a, "content-length"), "10");
  auto b = answer_read({.range = "bytes=100-"}, object);
  EXPECT_EQ(b.status, 416);
  EXPECT_EQ(header_of(b, "content-range"), "bytes */100");
  EXPECT_EQ(answer_read({.range = "bytes=0-1,5-6"}, object).status, 200);
  EXPECT_EQ(answer_read({.range = "pages=1-2"}, object).status, 200);
  EXPECT_EQ(answer_read({.if_none_match = "\"abc123\"", .range = "bytes=100-"}, object).status,
            304);
  EXPECT_EQ(answer_read({.method = ReadMethod::kHead, .range = "bytes=0-1"}, object).status, 200);
}

TEST_F(ReadAnswerTest, IfRangeKeepsTheRangeOnlyForTheSameVersion) {
  EXPECT_EQ(answer_read({.if_range = "\"abc123\"", .range = "bytes=0-9"}, object).status, 206);
  EXPECT_EQ(answer_read({.if_range = "\"old\"", .range = "bytes=0-9"}, object).status, 200);
  EXPECT_EQ(answer_read({.if_range = "W/\"abc123\"", .range = "bytes=0-9"}, object).status, 200);
  EXPECT_EQ(answer_read({.if_range = kLastModified, .range = "bytes=0-9"}, object).status, 206);
  EXPECT_EQ(answer_read({.if_range = kSecondBefore, .range = "bytes=0-9"}, object).status, 200);
}

TEST(WriteConditions, StarOrEntityTagListsPassNormalizedAndJunkIsRefused) {
  auto none = write_conditions(std::nullopt, std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().if_match);
  EXPECT_FALSE(none.value().if_none_match);
  auto star = write_conditions(std::nullopt, " * ");
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(star.value().if_none_match, "*");
  auto list = write_conditions("\"a\" ,W/\"b\",, ", std::nullopt);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value().if_match, "\"a\", W/\"b\"");
  for (const char* bad : {"abc", "\"a\", b", "", "\"unterminated", "**"}) {
    auto e = write_conditions(std::string(bad), std::nullopt);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().field, "if-match");
  }
  EXPECT_EQ(write_conditions(std::nullopt, "nope").error().field, "if-none-match");
}

}  // namespace
}  // namespace r2w::storage
