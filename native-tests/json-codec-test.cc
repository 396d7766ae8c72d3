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

// r2w::Json keeps nlohmann's behaviour where r2watch depends on it.
TEST(Json, ParsedNumbersKeepNlohmannsThreeKinds) {
  EXPECT_TRUE(json::parse("5").is_number_unsigned());
  EXPECT_TRUE(json::parse("-5").is_number_integer());
  EXPECT_FALSE(json::parse("-5").is_number_unsigned());
  EXPECT_TRUE(json::parse("5.0").is_number_float());
  EXPECT_TRUE(json::parse("1e2").is_number_float());
  EXPECT_TRUE(json::parse("18446744073709551615").is_number_unsigned());
  EXPECT_TRUE(json::parse("18446744073709551616").is_number_float());
  EXPECT_EQ(json::parse("-9223372036854775808").get<int64_t>(), INT64_MIN);
  EXPECT_TRUE(json::parse("-9223372036854775809").is_number_float());
  EXPECT_EQ(json::parse("2.9").get<int64_t>(), 2);
  EXPECT_EQ(json::parse("0.1").get<double>(), 0.1);
  EXPECT_EQ(json::parse("123456789.123456789e-3").get<double>(), 123456.789123456789);
}

TEST(Json, DumpsAsNlohmannDoes) {
  EXPECT_EQ(json(1.0).dump(), "1.0");
  EXPECT_EQ(json(-0.0).dump(), "-0.0");
  EXPECT_EQ(json(0.1).dump(), "0.1");
  EXPECT_EQ(json(1e15).dump(), "1e+15");
  EXPECT_EQ(json(123456789012345.0).dump(), "123456789012345.0");
  EXPECT_EQ(json(0.0001).dump(), "0.0001");
  EXPECT_EQ(json(0.00001).dump(), "1e-05");
  EXPECT_EQ(json(1.5e300).dump(), "1.5e+300");
  EXPECT_EQ(json(std::nan("")).dump(), "null");
  EXPECT_EQ(json("a\"\\\b\f\n\r\t\x01\x7f/").dump(), R"("a\"\\\b\f\n\r\t\u0001)"
                                                     "\x7f"
                                                     R"(/")");
  // Invalid UTF-8 becomes U+FFFD, a cut sequence once, a stray byte each.
  EXPECT_EQ(json("a\xE2\x82"
                 "b\xFF")
                .dump(),
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  json j = {{"b", {1, 2}}, {"a", json::object()}, {"c", json::array()}};
  EXPECT_EQ(j.dump(), R"({"a":{},"b":[1,2],"c":[]})");
  EXPECT_EQ(j.dump(2), "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": []\n}");
}

TEST(Json, InitializerListsOfPairsAreObjects) {
  json o = {{"a", 1}, {"b", "x"}};
  EXPECT_TRUE(o.is_object());
  json a = {{"a", 1}, {2, "x"}};
  EXPECT_TRUE(a.is_array());
  EXPECT_EQ(json::array({{"a", 1}}).dump(), R"([["a",1]])");
  json dup = json::parse(R"({"k": 1, "k": 2})");
  EXPECT_EQ(dup["k"], 2);  // the last repeated key wins, as in nlohmann
}

TEST(Json, ParserIsStrict) {
  for (const char* bad :
       {"01", "1.", ".5", "+1", "-", "1e", "[1,]", "{\"a\":1,}", "'a'", "nul", "\"\\ud800\"",
        "\"\\udc00\"", "\"\x01\"", "\"\xC0\x80\"", "1e400", "[1] x", "", "{\"a\" 1}", "NaN"}) {
    EXPECT_TRUE(json::parse(bad).is_discarded()) << bad;
  }
  EXPECT_EQ(json::parse("\"\\ud83d\\ude00\"").get<std::string>(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(json::parse("\xEF\xBB\xBF [1]").size(), 1u);  // a byte order mark is skipped
}

TEST(Json, OrderedJsonKeepsInsertionOrder) {
  OrderedJson line = OrderedJson::object();
  line["time"] = "t";
  line["level"] = "info";
  line["a"] = nullptr;
  EXPECT_EQ(line.dump(), R"({"time":"t","level":"info","a":null})");
}

TEST(Json, SmallUnsignedIntegersStayUnsigned) {
  EXPECT_TRUE(json(uint8_t{3}).is_number_unsigned());
  EXPECT_TRUE(json(uint16_t{3}).is_number_unsigned());
  EXPECT_FALSE(json(int8_t{3}).is_number_unsigned());
  EXPECT_TRUE(json(std::vector<uint8_t>{1, 2})[1].is_number_unsigned());
}

TEST(Json, ComparesNumbersAcrossKinds) {
  EXPECT_EQ(json::parse("1"), json(1.0));
  EXPECT_EQ(json::parse("-1"), json(-1));
  EXPECT_TRUE(json::parse("-1") < json(0u));
  EXPECT_NE(json("1"), json(1));
}

TEST(FieldReader, ReadsQueryStringDigitsWithItsOwnCode) {
  json good = {{"limit", "25"}}, bad = {{"limit", "2x"}}, low = {{"limit", "0"}};
  int64_t n = 0;
  FieldReader a(good, "", {.code = "invalid_query"});
  a.read_query_int("limit", n, 1, 100);
  EXPECT_FALSE(a.finish().has_value());
  EXPECT_EQ(n, 25);
  for (const json* j : {&bad, &low}) {
    FieldReader r(*j, "", {.code = "invalid_query"});
    r.read_query_int("limit", n, 1, 100);
    auto e = r.finish();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, "invalid_query");
    EXPECT_EQ(e->message, "limit must be a whole number from 1 to 100");
  }
}

TEST(FieldReader, GathersEveryProblemUnknownFieldsFirst) {
  json j = {{"a", "x"}, {"b", true}, {"zz", 1}};
  FieldReader r(j, "", {.problems = FieldProblems::kEvery});
  int64_t a = 0;
  std::string b;
  r.read_whole("a", a);
  r.read_string("b", b);
  std::vector<FieldProblem> p = r.finish_problems();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].field, "zz");
  EXPECT_EQ(p[1].field, "a");
  EXPECT_EQ(p[2].message, "b must be a string");
}

TEST(FieldReader, ReadsNullAsAbsentWhenAskedAndRequiresFields) {
  json j = {{"name", nullptr}, {"at_ms", nullptr}};
  std::string name = "kept";
  std::optional<TimePoint> at = TimePoint(Duration(5));
  FieldReader lenient(j, "row", {.nulls = FieldNulls::kAbsent});
  lenient.read_string("name", name);
  lenient.read_time("at_ms", at);
  EXPECT_FALSE(lenient.finish().has_value());
  EXPECT_EQ(name, "kept");
  EXPECT_TRUE(at.has_value());
  FieldReader typed(j, "row");
  typed.read_time("at_ms", at);
  typed.require("id");
  typed.has("name");
  auto e = typed.finish();
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(at.has_value());  // null is no time
  EXPECT_EQ(e->field, "row.id");
  EXPECT_EQ(e->message, "row.id is required");
}

}  // namespace
}  // namespace r2w
