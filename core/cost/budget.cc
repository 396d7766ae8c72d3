#include "core/cost/budget.h"

#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

using json = r2w::Json;

namespace {

constexpr size_t kMaxBudgets = 1000;
constexpr Money kMaxBudget = Money::micro_usd(INT64_C(1'000'000'000) * kMicroPerUsd);

// Every bucket's share of the expected bill to each day, computed once for all budgets.
class DailyShares {
 public:
  explicit DailyShares(const MonthReport& r) : r_(r), by_day_(r.days_in_month) {}

  // The budget's scope's spend counting usage up to `day`.
  Money spent_on(const Budget& b, uint32_t day) {
    if (b.bucket.empty()) return r_.expected_bill_by_day[day - 1].total;
    auto& shares = by_day_[day - 1];
    if (!shares) shares = r_.bucket_shares(day);
    for (const Share& s : *shares) {
      if (s.key == b.bucket) return s.total;
    }
    return Money{};
  }

 private:
  const MonthReport& r_;
  std::vector<std::optional<std::vector<Share>>> by_day_;
};

}  // namespace

Result<std::vector<Budget>> budgets_from_json(const json& j) {
  FieldReader top(j);
  bool has = top.has("budgets");
  if (auto err = top.finish()) return *err;
  if (!has || !j["budgets"].is_array()) {
    return invalid_field("budgets", "budgets must be a list of budgets");
  }
  const json& list = j["budgets"];
  if (list.size() > kMaxBudgets) {
    return invalid_field("budgets", "budgets may hold at most 1000 budgets");
  }
  std::vector<Budget> out;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string prefix = "budgets[" + std::to_string(i) + "]";
    const json& in = list[i];
    FieldReader r(in, prefix);
    Budget b;
    bool has_bucket = r.has("bucket");
    bool has_amount = r.has("monthly_usd");
    // The normalized form (what PUT answers, GET lists and D1 keeps) also carries the amount in
    // micro-dollars: read back, it must agree with monthly_usd, so a budget read from anywhere
    // r2watch writes one is accepted as it is.
    bool has_micro = r.has("monthly_micro_usd");
    r.read_uint("warn_at_pct", b.warn_at_pct, 1, 100);
    if (auto err = r.finish()) return *err;
    if (has_bucket && !in["bucket"].is_null()) {
      if (!in["bucket"].is_string() || in["bucket"].get<std::string>().empty() ||
          in["bucket"].get<std::string>().size() > 63) {
        return invalid_field(prefix + ".bucket",
                             prefix +
                                 ".bucket must be a bucket name (1 to 63 characters), or "
                                 "null for the whole account");
      }
      b.bucket = in["bucket"].get<std::string>();
    }
    std::optional<Money> amount =
        has_amount ? usd_from_json(in["monthly_usd"], kMaxBudget) : std::nullopt;
    if (has_micro && amount) {
      // monthly_usd is answered rounded to the cent: the exact amount is monthly_micro_usd
      // when it rounds to monthly_usd (or is it exactly).
      const json& micro = in["monthly_micro_usd"];
      bool agrees = false;
      if (micro.is_number_integer() && micro.get<int64_t>() > 0 &&
          Money::micro_usd(micro.get<int64_t>()) <= kMaxBudget) {
        Money exact = Money::micro_usd(micro.get<int64_t>());
        agrees = exact == *amount || (amount->micro_usd() % 10'000 == 0 &&
                                      format_usd(exact, 2) == format_usd(*amount, 2));
        if (agrees) amount = exact;
      }
      if (!agrees) {
        return invalid_field(prefix + ".monthly_micro_usd",
                             prefix + ".monthly_micro_usd must be monthly_usd in micro-dollars (" +
                                 std::to_string(amount->micro_usd()) +
                                 ", or an amount that rounds to it); leave it out to take "
                                 "monthly_usd as it is");
      }
    }
    if (!amount || *amount <= Money{}) {
      return invalid_field(prefix + ".monthly_usd",
                           prefix +
                               ".monthly_usd must be a dollar amount above 0 and at most "
                               "1000000000 (a number or a decimal string)");
    }
    b.monthly = *amount;
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k].bucket == b.bucket) {
        return invalid_field(prefix + ".bucket",
                             prefix + " has the same scope as budgets[" + std::to_string(k) + "]");
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

json budgets_to_json(std::span<const Budget> budgets) {
  json list = json::array();
  for (const Budget& b : budgets) {
    list.push_back({{"bucket", b.bucket.empty() ? json(nullptr) : json(b.bucket)},
                    {"monthly_usd", format_usd(b.monthly, 2)},
                    {"monthly_micro_usd", b.monthly.micro_usd()},
                    {"warn_at_pct", b.warn_at_pct}});
  }
  return {{"budgets", list}};
}

std::vector<BudgetStatus> budget_status(const MonthReport& r, std::span<const Budget> budgets) {
  std::vector<BudgetStatus> out;
  const uint32_t as_of = r.days_elapsed;
  CivilDate first = first_day(r.month);
  DailyShares shares(r);
  for (const Budget& b : budgets) {
    BudgetStatus s{.budget = b};
    s.spent = shares.spent_on(b, as_of);
    s.burn_rate_per_day = Money::micro_usd(
        static_cast<int64_t>(div_round_half_up(static_cast<Wide>(s.spent.micro_usd()), as_of)));
    s.forecast = shares.spent_on(b, r.days_in_month);
    for (uint32_t d = 1; d <= r.days_in_month; ++d) {
      if (shares.spent_on(b, d) > b.monthly) {
        (d <= as_of ? s.exceeded_on : s.projected_exceed_on) = add_days(first, d - 1);
        break;
      }
    }
    if (s.spent > b.monthly) {
      s.status = "exceeded";
    } else if (static_cast<Wide>(s.spent.micro_usd()) * 100 >=
               static_cast<Wide>(b.monthly.micro_usd()) * b.warn_at_pct) {
      s.status = "warning";
    } else if (s.forecast > b.monthly) {
      s.status = "forecast_over";
    } else {
      s.status = "ok";
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace r2w::cost
