// core/security: hashing, JWTs, API tokens, roles and scopes, quotas, rate limits, queries.
#include "wasm-bindings/codec/security.h"

#include <gtest/gtest.h>

#include <string>

#include "core/security/access.h"
#include "core/security/audit-query.h"
#include "core/security/authenticate.h"
#include "core/security/base64url.h"
#include "core/security/credentials.h"
#include "core/security/jwt.h"
#include "core/security/policy.h"
#include "core/security/quota.h"
#include "core/security/sha256.h"
#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::security {
namespace {

using json = r2w::Json;
// Requests as JSON go through the codec (which reads them into the core's structs); the
// core's own tests below use the structs.
using codec::issue_api_token;
using codec::parse_log_query;
using codec::settings_from_vars;
using codec::sign_jwt;
using codec::validate_new_user;
using codec::validate_quota;
using codec::verify_jwt;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

TEST(Sha256, MatchesTheFipsExamples) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55, 56, 64 bytes) differ from each other.
  EXPECT_NE(to_hex(sha256(std::string(55, 'x'))), to_hex(sha256(std::string(56, 'x'))));
}

TEST(HmacSha256, MatchesRfc4231) {
  // Test case 1, 2 and 6 (a key longer than the block).
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Base64url, RoundTripsAndRefusesNonCanonicalText) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    auto back = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("Zm9v=").has_value());  // padding
  EXPECT_FALSE(base64url_decode("Zm9v+").has_value());  // standard alphabet
  EXPECT_FALSE(base64url_decode("Z").has_value());      // 1 mod 4
  EXPECT_FALSE(base64url_decode("Zh").has_value());     // low bits set: "Zg" is canonical
  EXPECT_TRUE(base64url_decode("Zg").has_value());
}

class JwtTest : public ::testing::Test {
 protected:
  testing::FakeClock clock{1'750'000'000'000};
  JwtOptions options;
  json claims(int64_t exp_offset_s = 3600) {
    int64_t now_s = to_epoch_ms(clock.now()) / 1000;
    return json{{"iss", "r2watch"},
                {"sub", "alice"},
                {"role", "user"},
                {"exp", now_s + exp_offset_s},
                {"iat", now_s}};
  }
  Result<Principal> verify(const std::string& token) {
    return verify_jwt(token, kSecret, options, clock.now());
  }
  std::string refusal(const std::string& token) {
    auto r = verify(token);
    EXPECT_FALSE(r.ok()) << token;
    if (r.ok()) return "";
    EXPECT_EQ(r.error().code, "unauthenticated");
    return r.error().message;
  }
};

TEST_F(JwtTest, AcceptsAGoodTokenAsItsPrincipal) {
  auto p = verify(sign_jwt(claims(), kSecret));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p.value().user, "alice");
  EXPECT_EQ(p.value().role, Role::kUser);
  EXPECT_EQ(p.value().scopes, std::vector<std::string>{"*"});
  EXPECT_EQ(p.value().via, "jwt");
}

TEST_F(JwtTest, ExpiryHoldsExactlyToTheSkewBoundary) {
  auto c = claims();
  c["exp"] = to_epoch_ms(clock.now()) / 1000;  // expires now
  std::string token = sign_jwt(c, kSecret);
  clock.advance(59'999);  // within the 60 s skew
  EXPECT_TRUE(verify(token).ok());
  clock.advance(1);  // exp + skew reached
  EXPECT_EQ(refusal(token), "token expired");
}

TEST_F(JwtTest, NotBeforeAndIssuedAtInTheFutureAreRefusedPastTheSkew) {
  auto c = claims();
  c["nbf"] = to_epoch_ms(clock.now()) / 1000 + 61;
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token is not valid yet (nbf)");
  c["nbf"] = to_epoch_ms(clock.now()) / 1000 + 60;
  EXPECT_TRUE(verify(sign_jwt(c, kSecret)).ok());
  auto d = claims();
  d["iat"] = to_epoch_ms(clock.now()) / 1000 + 120;
  EXPECT_EQ(refusal(sign_jwt(d, kSecret)), "token was issued in the future (iat)");
}

TEST_F(JwtTest, RefusesWrongIssuerTamperingAndOtherAlgorithms) {
  auto c = claims();
  c["iss"] = "someone-else";
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token issuer must be r2watch");
  EXPECT_EQ(refusal(sign_jwt(claims(), "another-secret-of-enough-length-000000")),
            "token signature does not match");

  // A payload swapped for one that says admin, with the original signature.
  std::string good = sign_jwt(claims(), kSecret);
  auto admin = claims();
  admin["role"] = "admin";
  std::string forged = sign_jwt(admin, kSecret);
  std::string tampered = good.substr(0, good.find('.') + 1) +
                         forged.substr(forged.find('.') + 1, forged.rfind('.') - forged.find('.')) +
                         good.substr(good.rfind('.') + 1);
  EXPECT_EQ(refusal(tampered), "token signature does not match");

  // alg "none" with no signature, and HS512.
  std::string none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                     base64url_encode(claims().dump()) + ".";
  EXPECT_EQ(refusal(none), "token alg must be HS256");
  std::string hs512 =
      base64url_encode(R"({"alg":"HS512"})") + "." + base64url_encode(claims().dump()) + ".AAAA";
  EXPECT_EQ(refusal(hs512), "token alg must be HS256");
  EXPECT_EQ(refusal("not-a-jwt"), "token is not a JWT (header.payload.signature)");
  EXPECT_EQ(refusal("a.b.c.d"), "token is not a JWT (header.payload.signature)");
  EXPECT_EQ(refusal(std::string(kMaxTokenBytes + 1, 'a')), "token is too long");
}

TEST_F(JwtTest, RequiresExpSubAndAKnownRoleAndBoundsTheLifetime) {
  auto c = claims();
  c.erase("exp");
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token has no exp");
  c = claims();
  c["exp"] = "tomorrow";
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token exp is not a NumericDate");
  c = claims(24 * 3600 + 61);
  EXPECT_NE(refusal(sign_jwt(c, kSecret)).find("longest lifetime"), std::string::npos);
  EXPECT_TRUE(verify(sign_jwt(claims(24 * 3600), kSecret)).ok());
  c = claims();
  c["role"] = "root";
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token role must be admin, user or readonly");
  c = claims();
  c["sub"] = "../bob";
  EXPECT_NE(refusal(sign_jwt(c, kSecret)).find("sub"), std::string::npos);
}

TEST_F(JwtTest, ScopeClaimNarrowsTheCredential) {
  auto c = claims();
  c["scope"] = "storage  usage";
  auto p = verify(sign_jwt(c, kSecret));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().scopes, (std::vector<std::string>{"storage", "usage"}));
  c["scope"] = "storage everything";
  EXPECT_EQ(refusal(sign_jwt(c, kSecret)), "token scope everything is not known");
}

TEST(Authorize, RolesRankAndScopesNarrow) {
  Principal reader{.user = "r", .role = Role::kReadonly, .scopes = {"*"}};
  Principal user{.user = "u", .role = Role::kUser, .scopes = {"*"}};
  Principal admin{.user = "a", .role = Role::kAdmin, .scopes = {"*"}};
  Access read{.role = Role::kReadonly, .scope = "storage"};
  Access write{.role = Role::kUser, .scope = "storage"};
  Access admin_only{.role = Role::kAdmin, .scope = "admin"};
  EXPECT_FALSE(authorize(reader, read));
  EXPECT_EQ(authorize(reader, write)->code, "forbidden");
  EXPECT_FALSE(authorize(user, write));
  EXPECT_TRUE(authorize(user, admin_only));
  EXPECT_FALSE(authorize(admin, admin_only));
  Principal storage_only{.user = "u", .role = Role::kUser, .scopes = {"storage"}};
  EXPECT_FALSE(authorize(storage_only, write));
  EXPECT_TRUE(authorize(storage_only, Access{.role = Role::kReadonly, .scope = "usage"}));
}

TEST(Authorize, MetricsScopeIsGrantedByNameOrToAnAdmin) {
  Access metrics{.role = Role::kReadonly, .scope = "metrics"};
  EXPECT_TRUE(authorize(Principal{.user = "r", .role = Role::kReadonly, .scopes = {"*"}}, metrics));
  EXPECT_FALSE(
      authorize(Principal{.user = "p", .role = Role::kReadonly, .scopes = {"metrics"}}, metrics));
  EXPECT_FALSE(authorize(Principal{.user = "a", .role = Role::kAdmin, .scopes = {"*"}}, metrics));
  EXPECT_TRUE(
      authorize(Principal{.user = "a", .role = Role::kAdmin, .scopes = {"storage"}}, metrics));
}

TEST(ScopeOf, UsersSeeOnlyThemselvesAdminsChoose) {
  Principal user{.user = "alice", .role = Role::kUser, .scopes = {"*"}};
  Principal admin{.user = "root", .role = Role::kAdmin, .scopes = {"*"}};
  auto own = scope_of(user, std::nullopt);
  EXPECT_EQ(own.value().subject, "alice");
  EXPECT_EQ(own.value().filter, "alice");
  EXPECT_TRUE(scope_of(user, "alice").ok());
  auto other = scope_of(user, "bob");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "forbidden");
  EXPECT_EQ(other.error().field, "user");
  EXPECT_EQ(scope_of(admin, std::nullopt).value().filter, std::nullopt);
  EXPECT_EQ(scope_of(admin, std::nullopt).value().subject, "root");
  EXPECT_EQ(scope_of(admin, "bob").value().subject, "bob");
  EXPECT_EQ(scope_of(admin, "../x").error().code, "invalid_query");
}

TEST(UserId, SafeAsAKeySegment) {
  for (std::string_view ok : {"alice", "a.b-c_d", "A1", "x"}) {
    EXPECT_FALSE(validate_user_id(ok, "id")) << ok;
  }
  for (std::string_view bad : {"", ".", "..", "a/b", "a b", "ä", "a\nb"}) {
    EXPECT_TRUE(validate_user_id(bad, "id")) << bad;
  }
  EXPECT_TRUE(validate_user_id(std::string(65, 'a'), "id"));
}

const std::string kRandom = "0123456789abcdef" + std::string(64, 'e');

TEST(ApiToken, IssuedTokenChecksAgainstItsStoredHash) {
  testing::FakeClock clock;
  UserRecord alice{.id = "alice", .name = "Alice", .email = "", .role = Role::kUser};
  auto t = issue_api_token(json{{"user_id", "alice"},
                                {"name", "ci"},
                                {"role", "readonly"},
                                {"scopes", {"storage"}},
                                {"expires_in_days", 1}},
                           alice, kRandom, clock.now());
  ASSERT_TRUE(t.ok()) << t.error().message;
  const IssuedToken& k = t.value();
  EXPECT_EQ(k.token, "r2w_0123456789abcdef_" + std::string(64, 'e'));
  EXPECT_EQ(k.hash, to_hex(sha256(k.token)));
  EXPECT_EQ(api_token_id(k.token), "0123456789abcdef");
  StoredToken row{.id = k.id,
                  .user_id = k.user_id,
                  .hash = k.hash,
                  .role = k.role,
                  .scopes = k.scopes,
                  .expires_at = k.expires_at};
  auto p = check_api_token(k.token, row, clock.now());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().user, "alice");
  EXPECT_EQ(p.value().role, Role::kReadonly);
  EXPECT_EQ(p.value().token_id, "0123456789abcdef");

  std::string wrong = k.token;
  wrong.back() = 'f';
  EXPECT_EQ(check_api_token(wrong, row, clock.now()).error().message, "API token is not valid");
  EXPECT_EQ(check_api_token(k.token, row, clock.now() + std::chrono::hours(24)).error().message,
            "API token has expired");
  StoredToken revoked = row;
  revoked.revoked_at = clock.now();
  EXPECT_EQ(check_api_token(k.token, revoked, clock.now()).error().message,
            "API token has been revoked");
  StoredToken disabled = row;
  disabled.user_disabled = true;
  EXPECT_FALSE(check_api_token(k.token, disabled, clock.now()).ok());
  EXPECT_FALSE(api_token_id("r2w_0123456789ABCDEF_" + std::string(64, 'e')));
  EXPECT_FALSE(api_token_id("r2w_short_x"));
}

TEST(ApiToken, RequestIsValidatedWholeAndNeverAboveTheUsersRole) {
  testing::FakeClock clock;
  UserRecord reader{.id = "r", .name = "r", .email = "", .role = Role::kReadonly};
  auto t = issue_api_token(json{{"user_id", "r"},
                                {"name", ""},
                                {"role", "admin"},
                                {"scopes", {"storage", "root"}},
                                {"colour", 1}},
                           reader, kRandom, clock.now());
  ASSERT_FALSE(t.ok());
  std::vector<std::string> fields;
  for (const auto& p : t.error().problems) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"colour", "name", "role", "scopes[1]"}));
  EXPECT_EQ(
      issue_api_token(json{{"user_id", "ghost"}, {"name", "x"}}, std::nullopt, kRandom, clock.now())
          .error()
          .field,
      "user_id");
  EXPECT_EQ(issue_api_token(json{{"user_id", "r"}, {"name", "x"}}, reader, "abc", clock.now())
                .error()
                .field,
            "random");
}

TEST(LastUsed, WrittenAtMostOnceAMinute) {
  testing::FakeClock clock;
  EXPECT_TRUE(last_used_due(std::nullopt, clock.now()));
  TimePoint last = clock.now();
  EXPECT_FALSE(last_used_due(last, clock.advance(59'999)));
  EXPECT_TRUE(last_used_due(last, clock.advance(1)));
}

TEST(TokenCache, ARowIsUsedForLessThanAMinuteAndNeverFromTheFuture) {
  testing::FakeClock clock;
  TimePoint fetched = clock.now();
  EXPECT_TRUE(token_row_fresh(fetched, clock.now()));
  EXPECT_TRUE(token_row_fresh(fetched, clock.advance(59'999)));
  EXPECT_FALSE(token_row_fresh(fetched, clock.advance(1)));
  EXPECT_EQ(kTokenCacheTtl, std::chrono::seconds(60));
  // A row read "later" than now (the clock went back) is not trusted.
  EXPECT_FALSE(token_row_fresh(clock.now() + Duration(1), clock.now()));
}

TEST(RateConfirm, EstimatesNearTheLimitAreCountedInD1First) {
  EXPECT_FALSE(rate_needs_confirm(0, 600));
  EXPECT_FALSE(rate_needs_confirm(479, 600));
  EXPECT_TRUE(rate_needs_confirm(480, 600));  // 80 %
  EXPECT_TRUE(rate_needs_confirm(700, 600));
  EXPECT_TRUE(rate_needs_confirm(1, 1));
}

TEST(NewUser, EveryBadFieldIsNamed) {
  auto u = validate_new_user(json{{"id", "alice"}, {"role", "user"}});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().name, "alice");
  auto bad = validate_new_user(json{{"id", "a/b"}, {"role", "god"}, {"email", "nope"}});
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(bad.error().problems.size(), 3u);
  EXPECT_EQ(bad.error().problems[0].field, "id");
  EXPECT_EQ(bad.error().problems[1].field, "email");
  EXPECT_EQ(bad.error().problems[2].field, "role");
}

TEST(Quota, UploadUpToTheLimitPassesOneByteMoreIsRefused) {
  Quota q{.max_bytes = 1000, .max_objects = 3};
  StorageUsage used{.bytes = 900, .objects = 2};
  EXPECT_FALSE(check_upload(q, used, std::nullopt, 100));
  auto over = check_upload(q, used, std::nullopt, 101);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->code, "quota_exceeded");
  EXPECT_NE(over->message.find("1001 bytes"), std::string::npos) << over->message;
  // Replacing a 50-byte object frees its bytes and does not add an object.
  EXPECT_FALSE(check_upload(q, used, 50, 150));
  EXPECT_TRUE(check_upload(q, used, 50, 151));
  StorageUsage full{.bytes = 0, .objects = 3};
  EXPECT_EQ(check_upload(q, full, std::nullopt, 1)->field, "max_objects");
  EXPECT_FALSE(check_upload(q, full, 0, 1));
  EXPECT_FALSE(check_upload(std::nullopt, full, std::nullopt, 1u << 30));
}

TEST(Quota, UploadsUnderWayCountAsIfStored) {
  Quota q{.max_bytes = 1000, .max_objects = 3};
  StorageUsage used{.bytes = 500, .objects = 1};
  EXPECT_FALSE(check_upload(q, used, std::nullopt, 100, StorageUsage{.bytes = 400, .objects = 1}));
  auto over = check_upload(q, used, std::nullopt, 101, StorageUsage{.bytes = 400, .objects = 1});
  ASSERT_TRUE(over);
  EXPECT_EQ(over->field, "max_bytes");
  EXPECT_NE(over->message.find("400 more in uploads under way"), std::string::npos)
      << over->message;
  EXPECT_EQ(check_upload(q, used, std::nullopt, 1, StorageUsage{.bytes = 0, .objects = 2})->field,
            "max_objects");
}

TEST(Quota, StatusInPercentAndRequestValidation) {
  auto s = quota_status(Quota{.max_bytes = 3, .max_objects = 8}, StorageUsage{2, 2});
  EXPECT_DOUBLE_EQ(s.bytes_pct, 66.67);
  EXPECT_DOUBLE_EQ(*s.objects_pct, 25.0);
  EXPECT_FALSE(s.over);
  EXPECT_TRUE(quota_status(Quota{.max_bytes = 1}, StorageUsage{2, 0}).over);
  EXPECT_TRUE(validate_quota(json{{"max_bytes", 10}, {"max_objects", nullptr}}, "ana").ok());
  auto bad = validate_quota(json{{"max_bytes", -1}, {"max_objects", 1.5}}, "ana");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().problems.size(), 2u);
  EXPECT_EQ(validate_quota(json::object(), "ana").error().field, "max_bytes");
  // The quota as it is answered (with its usage) sent back: accepted, the usage ignored.
  json answered = {{"user_id", "ana"}, {"max_bytes", 10},   {"max_objects", 8},    {"bytes", 2},
                   {"objects", 2},     {"bytes_pct", 20.0}, {"objects_pct", 25.0}, {"over", false}};
  auto back = validate_quota(answered, "ana");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().max_bytes, 10u);
  EXPECT_EQ(*back.value().max_objects, 8u);
  EXPECT_EQ(validate_quota(answered, "bob").error().field, "user_id");
  EXPECT_EQ(validate_quota(json{{"max_bytes", 10}, {"max_byte", 1}}, "ana").error().field,
            "max_byte");
}

TEST(RateLimit, FixedWindowRefusesPastTheLimitUntilTheWindowEnds) {
  testing::FakeClock clock(1'750'000'012'345);
  TimePoint start = window_start(clock.now(), kRateWindow);
  EXPECT_EQ(to_epoch_ms(start) % 60'000, 0);
  EXPECT_LE(start, clock.now());
  EXPECT_TRUE(rate_decision(5, 5, start, kRateWindow, clock.now()).allowed);
  auto refused = rate_decision(6, 5, start, kRateWindow, clock.now());
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, start + kRateWindow - clock.now());
  // At the very end of the window the wait is never under a second.
  EXPECT_EQ(rate_decision(6, 5, start, kRateWindow, start + Duration(59'999)).retry_after,
            std::chrono::seconds(1));
  EXPECT_FALSE(failures_alarming(10, 10));
  EXPECT_TRUE(failures_alarming(11, 10));
}

TEST(Settings, VariablesAreCheckedAndEveryBadOneNamed) {
  auto s = settings_from_vars(
      json{{"RATE_LIMIT_PER_MINUTE", "5"}, {"JWT_ISSUER", "corp"}, {"JWT_MAX_SKEW_SECONDS", 0}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value().token_requests_per_minute, 5u);
  EXPECT_EQ(s.value().jwt.issuer, "corp");
  EXPECT_EQ(s.value().jwt.max_skew, Duration(0));
  auto bad = settings_from_vars(
      json{{"RATE_LIMIT_PER_MINUTE", "0"}, {"AUTH_FAILURE_WINDOW_SECONDS", "1e3"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().problems.size(), 2u);
  EXPECT_EQ(check_secret(std::nullopt)->code, "secret_missing");
  EXPECT_NE(check_secret(std::string("short"))->message.find("32 bytes"), std::string::npos);
  EXPECT_FALSE(check_secret(kSecret));
}

TEST(ExcessiveUse, MoreThanTheHourlyLimitIsExcessiveAndTheLimitIsAVariable) {
  EXPECT_EQ(Settings{}.excessive_requests_per_hour, 1000u);
  EXPECT_FALSE(requests_excessive(1000, 1000));
  EXPECT_TRUE(requests_excessive(1001, 1000));
  auto s = settings_from_vars(json{{"EXCESSIVE_REQUESTS_PER_HOUR", "5"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value().excessive_requests_per_hour, 5u);
  auto bad = settings_from_vars(json{{"EXCESSIVE_REQUESTS_PER_HOUR", "0"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "EXCESSIVE_REQUESTS_PER_HOUR");
  // The hour's window: 10:59:59.999 and 10:00 share it, 11:00 starts the next.
  const TimePoint ten = from_epoch_ms(36'000'000);
  EXPECT_EQ(window_start(ten + std::chrono::milliseconds(3'599'999), kUsageWindow), ten);
  EXPECT_EQ(window_start(ten + std::chrono::hours(1), kUsageWindow), ten + std::chrono::hours(1));
}

TEST(AnalyticsPseudonym, IsAKeyedHashOfTheUserAndEmptyWithoutAKeyOrAUser) {
  const std::string key(32, 'k');
  // Worked out with Python's hmac: hmac.new(b"k" * 32, b"r2watch analytics user v1:alice",
  // hashlib.sha256).hexdigest()[:32].
  EXPECT_EQ(analytics_pseudonym(key, "alice"), "5bf9c31442e22e8d086c162f5cc7e7eb");
  EXPECT_NE(analytics_pseudonym(key, "alice"), analytics_pseudonym(std::string(32, 'j'), "alice"));
  EXPECT_NE(analytics_pseudonym(key, "alice"), analytics_pseudonym(key, "bob"));
  EXPECT_EQ(analytics_pseudonym("", "alice"), "");
  EXPECT_EQ(analytics_pseudonym(key, ""), "");
  EXPECT_EQ(check_analytics_key(std::nullopt)->field, "ANALYTICS_HASH_KEY");
  EXPECT_EQ(check_analytics_key(std::string("short"))->code, "analytics_key_too_short");
  EXPECT_FALSE(check_analytics_key(key));
}

TEST(SealingKey, TheCurrentKeyIsRequiredAndThePreviousOneIsOptionalBothAtLeast32Bytes) {
  EXPECT_EQ(check_sealing_key(std::nullopt, SealingKey::kCurrent)->code, "secrets_key_missing");
  EXPECT_EQ(check_sealing_key(std::string(), SealingKey::kCurrent)->field, "SECRETS_KEY");
  EXPECT_FALSE(check_sealing_key(std::nullopt, SealingKey::kPrevious));
  auto short_previous = check_sealing_key(std::string(31, 'k'), SealingKey::kPrevious);
  ASSERT_TRUE(short_previous);
  EXPECT_EQ(short_previous->code, "secrets_key_too_short");
  EXPECT_EQ(short_previous->field, "SECRETS_KEY_PREVIOUS");
  EXPECT_FALSE(check_sealing_key(std::string(32, 'k'), SealingKey::kCurrent));
}

TEST(LogQuery, SinceInMsOrIsoAndEveryParameterRangeChecked) {
  EXPECT_EQ(parse_instant("2026-01-01"), from_epoch_ms(1'767'225'600'000));
  EXPECT_EQ(parse_instant("2026-01-01T00:00:01.250Z"), from_epoch_ms(1'767'225'601'250));
  EXPECT_EQ(parse_instant("1767225600000"), from_epoch_ms(1'767'225'600'000));
  for (std::string_view bad :
       {"2026-02-30", "2026-01-01T25:00:00Z", "yesterday", "", "2026-01-01T00:00:00"}) {
    EXPECT_FALSE(parse_instant(bad)) << bad;
  }
  auto q = parse_log_query(json{{"since", "2026-01-01"}, {"actor", "alice"}, {"limit", "5"}},
                           LogKind::kAudit);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().limit, 5u);
  EXPECT_EQ(parse_log_query(json{{"limit", "0"}}, LogKind::kAudit).error().field, "limit");
  EXPECT_EQ(parse_log_query(json{{"actor", "a/b"}}, LogKind::kAudit).error().code, "invalid_query");
  EXPECT_EQ(parse_log_query(json{{"kind", "x"}}, LogKind::kAudit).error().field, "kind");
  EXPECT_TRUE(parse_log_query(json{{"kind", "auth_failures"}}, LogKind::kSecurityEvents).ok());
  EXPECT_TRUE(parse_log_query(json{{"kind", "rate_limited"}}, LogKind::kSecurityEvents).ok());
  EXPECT_TRUE(parse_log_query(json{{"kind", "excessive_requests"}}, LogKind::kSecurityEvents).ok());
}

TEST(Quota, WarningLevelIsTheCoresAndReachedAtEightyPercent) {
  Quota q{.max_bytes = 100};
  EXPECT_EQ(quota_status(q, StorageUsage{.bytes = 79}).warning_pct, kQuotaWarningPct);
  EXPECT_FALSE(quota_status(q, StorageUsage{.bytes = 79}).warning);
  EXPECT_TRUE(quota_status(q, StorageUsage{.bytes = 80}).warning);
  EXPECT_TRUE(quota_status(q, StorageUsage{.bytes = 120}).warning);
}

TEST(Quota, UploadSizeLimitIsTheCores) {
  EXPECT_FALSE(check_upload_size(100, 100));
  auto err = check_upload_size(101, 100);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "payload_too_large");
  EXPECT_EQ(err->field, "body");
  EXPECT_EQ(err->message, "an upload may be at most 100 bytes");
}

TEST(Quota, RequestStructIsValidatedWithEveryFieldNamed) {
  QuotaRequest r{.fields = {"max_bytes", "max_objects", "zzz"},
                 .max_bytes = input_of<uint64_t>(0),
                 .max_objects = Input<uint64_t>{.arrived = Arrived::kWrongType}};
  auto bad = validate_quota(r, "ana");
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(bad.error().problems.size(), 3u);
  EXPECT_EQ(bad.error().field, "zzz");
  EXPECT_EQ(bad.error().problems[1].field, "max_bytes");
  EXPECT_EQ(bad.error().problems[2].field, "max_objects");
}

TEST(RateLimit, EstimatesNearTheLimitAskForExactCounts) {
  Settings s;
  s.ip_requests_per_minute = 10;
  const TimePoint now = from_epoch_ms(60'500);
  auto near = rate_limit(RateCounts{.ip_count = 8, .source = CountSource::kEstimated}, s, now);
  ASSERT_TRUE(near.ok());
  EXPECT_TRUE(near.value().confirm);
  auto no_window = rate_limit(RateCounts{.ip_count = 1}, s, now);
  ASSERT_FALSE(no_window.ok());
  EXPECT_EQ(no_window.error().field, "window_start_ms");
  auto over = rate_limit(RateCounts{.ip_count = 11, .window_start = from_epoch_ms(60'000)}, s, now);
  ASSERT_TRUE(over.ok());
  EXPECT_FALSE(over.value().allowed);
  EXPECT_EQ(over.value().limited_by, RateLimitedBy::kIp);
  EXPECT_EQ(over.value().retry_after, std::chrono::milliseconds(59'500));
}

TEST(UsageHour, ExcessiveOnlyAboveTheLimit) {
  Settings s;
  s.excessive_requests_per_hour = 5;
  const TimePoint now = from_epoch_ms(3'600'000 + 10);
  EXPECT_FALSE(usage_hour(std::nullopt, s, now).excessive);
  EXPECT_FALSE(usage_hour(5, s, now).excessive);
  EXPECT_TRUE(usage_hour(6, s, now).excessive);
  EXPECT_EQ(usage_hour(6, s, now).window_start, from_epoch_ms(3'600'000));
}

class AuthFlowTest : public ::testing::Test {
 protected:
  testing::FakeClock clock{1'750'000'000'000};
  Settings settings;
  std::optional<std::string> secret = kSecret;
  AuthAnswer run(const AuthRequest& r) {
    return authenticate(r, settings, secret, &codec::verify_jwt, clock.now());
  }
  AuthRequest request(std::string authorization) {
    AuthRequest r;
    r.authorization = std::move(authorization);
    r.access = Access{.role = Role::kReadonly, .scope = "storage"};
    return r;
  }
  std::string token = "r2w_0123456789abcdef_" + std::string(64, 'a');
  StoredToken row() {
    return StoredToken{.id = "0123456789abcdef",
                       .user_id = "alice",
                       .hash = api_token_hash(token),
                       .role = Role::kUser,
                       .scopes = {"*"}};
  }
};

TEST_F(AuthFlowTest, NoSecretHandsOutNothing) {
  secret.reset();
  auto a = run(request("Bearer x"));
  EXPECT_EQ(a.decision, AuthDecision::kDeny);
  EXPECT_EQ(a.refusal.code, "secret_missing");
  EXPECT_FALSE(a.count_failure);
  EXPECT_FALSE(a.credential);
}

TEST_F(AuthFlowTest, MissingOrMalformedHeadersAreCountedFailures) {
  AuthRequest none = request("");
  none.authorization.reset();
  auto a = run(none);
  EXPECT_EQ(a.decision, AuthDecision::kDeny);
  EXPECT_TRUE(a.count_failure);
  EXPECT_EQ(a.refusal.field, "authorization");
  auto b = run(request("Basic abc"));
  EXPECT_EQ(b.refusal.message, "the Authorization header must be: Bearer <token>");
  auto c = run(request("Bearer not-a-jwt"));
  EXPECT_EQ(c.decision, AuthDecision::kDeny);
  ASSERT_TRUE(c.credential);
  EXPECT_TRUE(c.credential->starts_with("credential:"));
}

TEST_F(AuthFlowTest, ApiTokenAsksForItsRowThenDecides) {
  auto first = run(request("Bearer " + token));
  EXPECT_EQ(first.decision, AuthDecision::kLookup);
  EXPECT_EQ(first.token_id, "0123456789abcdef");

  AuthRequest with_row = request("bearer " + token);
  with_row.token_row = TokenRowState::kRead;
  with_row.token = row();
  auto allowed = run(with_row);
  ASSERT_EQ(allowed.decision, AuthDecision::kAllow) << allowed.refusal.message;
  EXPECT_EQ(allowed.principal->user, "alice");
  EXPECT_EQ(allowed.scope.subject, "alice");
  EXPECT_TRUE(allowed.touch_token);
  EXPECT_EQ(allowed.rate_subject, "token:0123456789abcdef");

  // A cached row past its time is read again.
  with_row.token_fetched_at = clock.now() - kTokenCacheTtl;
  EXPECT_EQ(run(with_row).decision, AuthDecision::kLookup);

  AuthRequest gone = request("Bearer " + token);
  gone.token_row = TokenRowState::kNoSuchRow;
  auto refused = run(gone);
  EXPECT_EQ(refused.refusal.message, "API token is not valid");
  EXPECT_EQ(refused.credential, "token:0123456789abcdef");
}

TEST_F(AuthFlowTest, AGoodCredentialIsRefusedForAnotherUsersDataWithoutCounting) {
  AuthRequest r = request("Bearer " + token);
  r.token_row = TokenRowState::kRead;
  r.token = row();
  r.user = input_of<std::string>("bob");
  auto a = run(r);
  EXPECT_EQ(a.decision, AuthDecision::kDeny);
  EXPECT_EQ(a.refusal.code, "forbidden");
  EXPECT_EQ(a.refusal.field, "user");
  EXPECT_FALSE(a.count_failure);
  ASSERT_TRUE(a.principal);
  EXPECT_EQ(a.principal->user, "alice");
  r.user = Input<std::string>{.arrived = Arrived::kWrongType};
  EXPECT_EQ(run(r).refusal.message, "user must be a string");
}

TEST_F(AuthFlowTest, JwtGoesThroughTheVerifier) {
  int64_t now_s = to_epoch_ms(clock.now()) / 1000;
  std::string jwt = sign_jwt(
      json{{"iss", "r2watch"}, {"sub", "carol"}, {"role", "readonly"}, {"exp", now_s + 60}},
      kSecret);
  auto a = run(request("Bearer " + jwt));
  ASSERT_EQ(a.decision, AuthDecision::kAllow) << a.refusal.message;
  EXPECT_EQ(a.rate_subject, "user:carol");
  EXPECT_FALSE(a.touch_token);
}

}  // namespace
}  // namespace r2w::security
