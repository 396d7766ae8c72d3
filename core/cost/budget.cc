#include "core/cost/budget.h"

namespace r2w::cost {

namespace {

// Every bucket's share of the expected bill to each day, computed once for all budgets.
class DailyShares {
 public:
  explicit DailyShares(const MonthReport& r) : r_(r), by_day_(r.days_in_month) {}

  // The budget's scope's spend counting usage up to `day`.
  Money spent_on(const Budget& b, uint32_t day) {
    if (!b.bucket) return r_.expected_bill_by_day[day - 1].total;
    auto& shares = by_day_[day - 1];
    if (!shares) shares = r_.bucket_shares(day);
    for (const Share& s : *shares) {
      if (s.key == *b.bucket) return s.total;
    }
    return Money{};
  }

 private:
  const MonthReport& r_;
  std::vector<std::optional<std::vector<Share>>> by_day_;
};

}  // namespace

Error bad_budget_bucket(const std::string& prefix) {
  return invalid_field(prefix + ".bucket", prefix +
                                               ".bucket must be a bucket name (1 to 63 "
                                               "characters), or null for the whole account");
}

Error bad_budget_amount(const std::string& prefix) {
  return invalid_field(prefix + ".monthly_usd",
                       prefix +
                           ".monthly_usd must be a dollar amount above 0 and at most "
                           "1000000000 (a number or a decimal string)");
}

Error too_many_budgets() {
  return invalid_field("budgets", "budgets may hold at most 1000 budgets");
}

std::optional<Error> check_budget(const Budget& b, std::span<const Budget> earlier,
                                  const std::string& prefix) {
  if (b.bucket && (b.bucket->empty() || b.bucket->size() > kMaxBucketChars)) {
    return bad_budget_bucket(prefix);
  }
  if (b.monthly <= Money{} || b.monthly > kMaxBudget) return bad_budget_amount(prefix);
  for (size_t k = 0; k < earlier.size(); ++k) {
    if (earlier[k].bucket == b.bucket) {
      return invalid_field(prefix + ".bucket",
                           prefix + " has the same scope as budgets[" + std::to_string(k) + "]");
    }
  }
  return std::nullopt;
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
