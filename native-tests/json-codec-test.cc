#include <gtest/gtest.h>

#include "wasm-bindings/codec/json.h"

namespace r2w {
namespace {

using json = r2w::Json;

TEST(ParseJson, RefusesMalformedTextAsInvalidJson) {
  auto r = parse_json("{\"a\": 1,");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_json");
}

TEST(ParseJson, RefusesANonObjectWhereAnObjectIsRequired) {
  EXPECT_TRUE(parse_json("[1]").ok());
  auto r = parse_json_object("[1]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_json");
}

std::string nested(const std::string& open, const std::string& inner, const std::string& close,
                   int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += open;
  s += inner;
  for (int i = 0; i < levels; ++i) s += close;
  return s;
}

TEST(ParseJson, AcceptsNestingUpToTheLimitAndRefusesOneLevelMore) {
  EXPECT_TRUE(parse_json(nested("[", "1", "]", kMaxJsonDepth)).ok());
  auto r = parse_json(nested("[", "1", "]", kMaxJsonDepth + 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "json_too_deep");
  EXPECT_NE(r.error().message.find("64 levels"), std::string::npos);
}

TEST(ParseJson, RefusesTenThousandLevelsWithoutRecursing) {
  auto r = parse_json_object(nested("{\"a\":", "1", "}", 10'000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "json_too_deep");
}

TEST(ParseJson, CountsNoBracketInsideAString) {
  std::string deep_text = "{\"k\": \"" + std::string(500, '[') + "\\\"{{{\"}";
  EXPECT_EQ(json_nesting_depth(deep_text), 1u);
  EXPECT_TRUE(parse_json(deep_text).ok());
  EXPECT_EQ(json_nesting_depth(R"([{"a": [[]]}, {}])"), 4u);
  // Unbalanced closers never make the depth go negative and hide a deep part after them.
  EXPECT_EQ(json_nesting_depth("]]]]" + nested("[", "", "]", 70)), kMaxJsonDepth + 1);
}

TEST(FieldReader, LeavesAbsentFieldsUntouched) {
  json j = json::object();
  uint32_t n = 7;
  FieldReader r(j);
  r.read_uint("n", n, 0, 10);
  EXPECT_FALSE(r.finish().has_value());
  EXPECT_EQ(n, 7u);
}

TEST(FieldReader, RefusesFractionsNegativesAndStringsForIntegers) {
  for (const char* bad : {R"({"n": 1.5})", R"({"n": -1})", R"({"n": "3"})", R"({"n": null})"}) {
    uint32_t n = 0;
    json j = json::parse(bad);
    FieldReader r(j);
    r.read_uint("n", n, 0, 10);
    auto e = r.finish();
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->field, "n");
    EXPECT_EQ(e->code, "invalid_field");
  }
}

TEST(FieldReader, AcceptsAWholeFloatAsAnInteger) {
  json j = json::parse(R"({"n": 3.0})");
  uint32_t n = 0;
  FieldReader r(j);
  r.read_uint("n", n, 0, 10);
  EXPECT_FALSE(r.finish().has_value());
  EXPECT_EQ(n, 3u);
}

TEST(FieldReader, ChecksBothEndsOfARange) {
  uint32_t n = 0;
  json lo = {{"n", 1}}, hi = {{"n", 10}}, over = {{"n", 11}};
  FieldReader a(lo), b(hi), c(over);
  a.read_uint("n", n, 1, 10);
  b.read_uint("n", n, 1, 10);
  c.read_uint("n", n, 1, 10);
  EXPECT_FALSE(a.finish().has_value());
  EXPECT_FALSE(b.finish().has_value());
  ASSERT_TRUE(c.finish().has_value());
}

TEST(FieldReader, NamesAnUnknownFieldWithItsPrefix) {
  json j = {{"known", true}, {"typo", 1}};
  FieldReader r(j, "options");
  bool known = false;
  r.read_bool("known", known);
  auto e = r.finish();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->field, "options.typo");
  EXPECT_NE(e->message.find("not a known field"), std::string::npos);
}

TEST(FieldReader, KeepsTheFirstErrorOnly) {
  json j = {{"a", "x"}, {"b", "y"}};
  FieldReader r(j);
  uint32_t a = 0, b = 0;
  r.read_uint("a", a, 0, 1);
  r.read_uint("b", b, 0, 1);
  EXPECT_EQ(r.finish()->field, "a");
}

TEST(FieldReader, RefusesNonFiniteAndOpenLowerBound) {
  json j = {{"x", 0.0}};
  double x = 5;
  FieldReader r(j);
  r.read_number("x", x, 0, 1, /*min_exclusive=*/true);
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_EQ(x, 5);
}

}  // namespace
}  // namespace r2w
