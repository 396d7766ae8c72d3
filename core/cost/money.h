#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wasm-bindings/codec/json.h"

namespace r2w::cost {

// Exact, non-negative quantities of usage (byte-days, requests, bytes) and the products of
// quantities and prices. 128 bits, so a month of petabytes times a price cannot overflow.
__extension__ typedef unsigned __int128 Wide;
__extension__ typedef __int128 SignedWide;

inline constexpr int64_t kMicroPerUsd = 1'000'000;

// An amount of money in whole micro-dollars (1 USD = 1,000,000 micro-USD). Prices, bill lines
// and totals are Money; nothing in a bill is a float. It becomes a number or a dollar string
// only at the JSON boundary (`*_micro_usd`, `*_usd`).
class Money {
 public:
  constexpr Money() = default;
  static constexpr Money micro_usd(int64_t micro) {
    Money m;
    m.micro_ = micro;
    return m;
  }
  constexpr int64_t micro_usd() const { return micro_; }

  constexpr Money operator+(Money o) const { return micro_usd(micro_ + o.micro_); }
  constexpr Money operator-(Money o) const { return micro_usd(micro_ - o.micro_); }
  Money& operator+=(Money o) {
    micro_ += o.micro_;
    return *this;
  }
  Money& operator-=(Money o) {
    micro_ -= o.micro_;
    return *this;
  }
  constexpr auto operator<=>(const Money&) const = default;

 private:
  int64_t micro_ = 0;
};

// The largest amount any price, budget or bill line may reach: one trillion dollars. Inputs
// are bounded so that nothing reaches it; past it a computation reports "too large".
inline constexpr Money kMaxMoney = Money::micro_usd(INT64_C(1'000'000'000'000) * kMicroPerUsd);

// Dollars with `decimals` places (0..6), rounded half away from zero: 14'850'000 -> "14.85",
// 15'000 -> "0.02", -5'000 -> "-0.01".
std::string format_usd(Money m, int decimals = 2);
// The shortest exact decimal of a Money: 15'000 -> "0.015", 4'500'000 -> "4.5", 0 -> "0".
std::string format_usd_exact(Money m);
// A non-negative dollar amount from JSON: a decimal string with at most 6 decimals ("4.50"),
// or a number (taken to the nearest micro-dollar). nullopt for anything else or above `max`.
std::optional<Money> usd_from_json(const r2w::Json& v, Money max);

// Integer helpers on exact quantities.
Wide div_ceil(Wide n, Wide d);
Wide div_round_half_up(Wide n, Wide d);
std::string wide_to_string(Wide v);
// n / d as a decimal rounded half up to at most `decimals` places, trailing zeros dropped:
// (80, 30, 6) -> "2.666667", (5, 2, 6) -> "2.5", (10, 1, 6) -> "10".
std::string decimal_string(Wide n, Wide d, int decimals);
// Money from an exact product, refusing what does not fit.
std::optional<Money> money_from_wide(Wide micro);

// Splits `total` (>= 0) into parts proportional to `weights` that add up to exactly `total`
// (largest remainder): each part gets floor(total * w / sum), then the micro-dollars left
// over go one each to the parts with the largest remainders (the earlier part on a tie).
// When every weight is zero the whole total goes to the first part (callers give weights
// that are non-zero whenever the total is).
std::vector<Money> allocate(Money total, std::span<const Wide> weights);

}  // namespace r2w::cost
