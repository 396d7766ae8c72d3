#include "core/cost/money.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace r2w::cost {

namespace {

std::string digits_of(uint64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return s;
}

}  // namespace

std::string format_usd(Money m, int decimals) {
  decimals = std::clamp(decimals, 0, 6);
  int64_t micro = m.micro_usd();
  bool negative = micro < 0;
  uint64_t abs = negative ? static_cast<uint64_t>(-(micro + 1)) + 1 : static_cast<uint64_t>(micro);
  uint64_t unit = 1;
  for (int i = decimals; i < 6; ++i) unit *= 10;
  uint64_t scaled = (abs + unit / 2) / unit;  // half away from zero (unit is 1 when exact)
  uint64_t per_dollar = static_cast<uint64_t>(kMicroPerUsd) / unit;
  std::string out = (negative && scaled != 0 ? "-" : "") + std::to_string(scaled / per_dollar);
  if (decimals > 0) out += "." + digits_of(scaled % per_dollar, decimals);
  return out;
}

std::string format_usd_exact(Money m) {
  std::string s = format_usd(m, 6);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::optional<Money> usd_from_json(const r2w::Json& v, Money max) {
  int64_t micro = 0;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    size_t dot = s.find('.');
    std::string whole = s.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    auto all_digits = [](const std::string& t) {
      return std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || whole.size() > 13 || !all_digits(whole) || frac.size() > 6 ||
        !all_digits(frac) || (dot != std::string::npos && frac.empty())) {
      return std::nullopt;
    }
    frac.append(6 - frac.size(), '0');
    micro = std::stoll(whole) * kMicroPerUsd + std::stoll(frac);
  } else if (v.is_number()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(max.micro_usd()) / kMicroPerUsd) {
      return std::nullopt;
    }
    micro = std::llround(d * kMicroPerUsd);
  } else {
    return std::nullopt;
  }
  if (micro < 0 || micro > max.micro_usd()) return std::nullopt;
  return Money::micro_usd(micro);
}

Wide div_ceil(Wide n, Wide d) { return n / d + (n % d != 0 ? 1 : 0); }

Wide div_round_half_up(Wide n, Wide d) { return (n + d / 2) / d; }

std::string wide_to_string(Wide v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

std::string decimal_string(Wide n, Wide d, int decimals) {
  Wide scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  Wide scaled = div_round_half_up(n * scale, d);
  std::string out = wide_to_string(scaled / scale);
  std::string frac = wide_to_string(scaled % scale);
  frac.insert(0, static_cast<size_t>(decimals) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? out : out + "." + frac;
}

std::optional<Money> money_from_wide(Wide micro) {
  if (micro > static_cast<Wide>(kMaxMoney.micro_usd())) return std::nullopt;
  return Money::micro_usd(static_cast<int64_t>(micro));
}

std::vector<Money> allocate(Money total, std::span<const Wide> weights) {
  std::vector<Money> parts(weights.size());
  if (weights.empty() || total.micro_usd() <= 0) return parts;
  Wide sum = 0;
  for (Wide w : weights) sum += w;
  if (sum == 0) {
    parts[0] = total;
    return parts;
  }
  Wide t = static_cast<Wide>(total.micro_usd());
  std::vector<Wide> remainders(weights.size());
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    Wide product = t * weights[i];
    parts[i] = Money::micro_usd(static_cast<int64_t>(product / sum));
    remainders[i] = product % sum;
    given += parts[i].micro_usd();
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (int64_t left = total.micro_usd() - given, k = 0; left > 0; --left, ++k) {
    parts[order[static_cast<size_t>(k)]] += Money::micro_usd(1);
  }
  return parts;
}

}  // namespace r2w::cost
