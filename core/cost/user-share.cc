#include "core/cost/user-share.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/cost/money.h"

namespace r2w::cost {

namespace {

// Splits `total` bytes in proportion to `weights` (sum > total), largest remainder, ties to
// the earlier part: the parts add up to exactly `total`.
std::vector<uint64_t> split_bytes(uint64_t total, const std::vector<uint64_t>& weights) {
  Wide sum = 0;
  for (uint64_t w : weights) sum += w;
  std::vector<uint64_t> parts(weights.size());
  std::vector<std::pair<Wide, size_t>> remainders;
  uint64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    Wide exact = static_cast<Wide>(total) * weights[i];
    parts[i] = static_cast<uint64_t>(exact / sum);
    given += parts[i];
    remainders.emplace_back(exact % sum, i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < total; ++k, ++given) parts[remainders[k].second]++;
  return parts;
}

}  // namespace

std::vector<UsageRow> attribute_user_storage(std::span<const UsageRow> rows,
                                             std::span<const UserStorage> users,
                                             std::string_view namespace_prefix) {
  std::map<std::pair<CivilDate, std::string>, std::vector<const UserStorage*>> by_day;
  for (const UserStorage& u : users) {
    if (u.peak_bytes > 0) by_day[{u.date, u.bucket}].push_back(&u);
  }
  std::vector<UsageRow> out;
  out.reserve(rows.size() + users.size());
  for (const UsageRow& row : rows) {
    auto it = by_day.end();
    if (row.prefix == namespace_prefix && row.user.empty() &&
        row.storage_class == StorageClass::kStandard && row.storage_peak_bytes > 0) {
      it = by_day.find({row.date, row.bucket});
    }
    if (it == by_day.end()) {
      out.push_back(row);
      continue;
    }
    std::vector<uint64_t> peaks;
    Wide sum = 0;
    for (const UserStorage* u : it->second) {
      peaks.push_back(u->peak_bytes);
      sum += u->peak_bytes;
    }
    std::vector<uint64_t> parts =
        sum <= row.storage_peak_bytes ? peaks : split_bytes(row.storage_peak_bytes, peaks);
    UsageRow rest = row;
    for (size_t i = 0; i < parts.size(); ++i) {
      const UserStorage& u = *it->second[i];
      rest.storage_peak_bytes -= parts[i];
      out.push_back(UsageRow{.date = row.date,
                             .bucket = row.bucket,
                             .prefix = u.prefix,
                             .user = u.user,
                             .storage_class = StorageClass::kStandard,
                             .storage_peak_bytes = parts[i]});
    }
    out.push_back(std::move(rest));
    by_day.erase(it);  // one bucket-wide row per day holds the namespace
  }
  return out;
}

std::vector<Share> user_share_by_bucket(const MonthInput& in, const UserShare& share) {
  std::map<std::string, std::array<Wide, kLineCount>> usage;
  for (const UsageRow& row : in.rows) {
    if (row.user != share.user) continue;
    StorageClass c = in.price_as.value_or(row.storage_class);
    ClassUsage u = row_usage(row, in.prices, c);
    auto& lines = usage[row.bucket];
    for (Line l : kAllLines) lines[index_of(l)] += u.of(l);
  }
  std::vector<Share> out;
  for (const auto& [bucket, _] : usage) out.push_back(Share{.key = bucket});
  if (out.empty()) return out;
  std::vector<Wide> weights(out.size());
  for (Line l : kAllLines) {
    size_t i = 0;
    for (const auto& [bucket, lines] : usage) weights[i++] = lines[index_of(l)];
    std::vector<Money> parts = allocate(share.to_date.lines[index_of(l)], weights);
    for (size_t k = 0; k < out.size(); ++k) {
      out[k].lines[index_of(l)] = parts[k];
      out[k].total += parts[k];
    }
  }
  return out;
}

Share bucket_part(std::span<const Share> shares, std::string_view bucket) {
  for (const Share& s : shares) {
    if (s.key == bucket) return s;
  }
  return Share{.key = std::string(bucket)};
}

UserShare user_share(const MonthReport& report, const MonthInput& in, std::string_view user) {
  UserShare out;
  out.user = std::string(user);
  // Key 0 is everyone else: with no usage of a charged line anywhere, allocate() gives the
  // whole line to the first key, which must not be the user.
  std::map<std::string, UsageByClass> mine;
  UsageByClass others{};
  std::vector<UsageByClass> daily(report.days_elapsed);
  for (const UsageRow& row : in.rows) {
    StorageClass c = in.price_as.value_or(row.storage_class);
    ClassUsage u = row_usage(row, in.prices, c);
    if (row.user != user) {
      others[index_of(c)] += u;
      continue;
    }
    mine[row.prefix][index_of(c)] += u;
    if (row.date.day >= 1 && row.date.day <= report.days_elapsed)
      daily[row.date.day - 1][index_of(c)] += u;
  }
  std::vector<std::string> keys{""};
  std::vector<UsageByClass> weights{others};
  for (const auto& [prefix, u] : mine) {
    keys.push_back(prefix);
    weights.push_back(u);
  }
  auto sum_mine = [&](const std::vector<Share>& shares) {
    Share total{.key = out.user};
    for (size_t i = 1; i < shares.size(); ++i) {
      for (size_t l = 0; l < kLineCount; ++l) total.lines[l] += shares[i].lines[l];
      total.total += shares[i].total;
    }
    return total;
  };
  std::vector<Share> to_date = attribute(report.to_date, keys, weights);
  out.by_prefix.assign(to_date.begin() + 1, to_date.end());
  out.to_date = sum_mine(to_date);
  for (Scenario s : kAllScenarios) {
    size_t i = static_cast<size_t>(s);
    out.month_end[i] = sum_mine(attribute(report.month_end[i], keys, weights));
  }
  out.daily_average = Money::micro_usd(
      static_cast<int64_t>(div_round_half_up(static_cast<Wide>(out.to_date.total.micro_usd()),
                                             std::max<uint32_t>(1, report.days_elapsed))));
  CivilDate first = first_day(report.month);
  for (uint32_t d = 1; d <= report.days_elapsed; ++d) {
    out.trend.push_back(
        DayPoint{.date = add_days(first, d - 1),
                 .list_cost = list_price_cost(in.prices, daily[d - 1], report.days_in_month)});
  }
  return out;
}

}  // namespace r2w::cost
