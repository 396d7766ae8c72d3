#include "core/cost/bill.h"

namespace r2w::cost {

namespace {

Money price_of(const ClassPrices& p, Line l) {
  switch (l) {
    case Line::kStorage:
      return p.storage_per_gb_month;
    case Line::kClassA:
      return p.class_a_per_million;
    case Line::kClassB:
      return p.class_b_per_million;
    case Line::kRetrieval:
      return p.retrieval_per_gb;
  }
  return Money{};
}

// Base units in one billing unit.
Wide base_per_unit(Line l, uint32_t period_days) {
  switch (l) {
    case Line::kStorage:
      return static_cast<Wide>(kBytesPerGb) * period_days;
    case Line::kClassA:
    case Line::kClassB:
      return kRequestsPerUnit;
    case Line::kRetrieval:
      return kBytesPerGb;
  }
  return 1;
}

uint64_t free_allowance_of(const FreeTier& f, StorageClass c, Line l) {
  if (!f.applies_to[index_of(c)]) return 0;
  switch (l) {
    case Line::kStorage:
      return f.storage_gb_months;
    case Line::kClassA:
      return f.class_a_requests;
    case Line::kClassB:
      return f.class_b_requests;
    case Line::kRetrieval:
      return 0;
  }
  return 0;
}

// The free allowance in base units (requests are allowed exactly, not in whole millions).
Wide free_base(const FreeTier& f, StorageClass c, Line l, uint32_t period_days) {
  if (!f.applies_to[index_of(c)]) return 0;
  switch (l) {
    case Line::kStorage:
      return static_cast<Wide>(f.storage_gb_months) * kBytesPerGb * period_days;
    case Line::kClassA:
      return f.class_a_requests;
    case Line::kClassB:
      return f.class_b_requests;
    case Line::kRetrieval:
      return 0;
  }
  return 0;
}

}  // namespace

std::string_view line_name(Line l) {
  switch (l) {
    case Line::kStorage:
      return "storage";
    case Line::kClassA:
      return "class_a";
    case Line::kClassB:
      return "class_b";
    case Line::kRetrieval:
      return "retrieval";
  }
  return "storage";
}

std::string_view usage_unit(Line l) {
  switch (l) {
    case Line::kStorage:
      return "GB-month";
    case Line::kClassA:
    case Line::kClassB:
      return "requests";
    case Line::kRetrieval:
      return "GB";
  }
  return "";
}

std::string_view billing_unit(Line l) {
  switch (l) {
    case Line::kStorage:
      return "GB-month";
    case Line::kClassA:
    case Line::kClassB:
      return "million requests";
    case Line::kRetrieval:
      return "GB";
  }
  return "";
}

std::string_view rounding_rule(Line l) {
  switch (l) {
    case Line::kStorage:
      return "average of daily peaks in GB-months (1 GB = 10^9 bytes), less the free tier, "
             "rounded up to a whole GB-month";
    case Line::kClassA:
    case Line::kClassB:
      return "requests less the free tier, rounded up to a whole million";
    case Line::kRetrieval:
      return "bytes read or copied, rounded up to a whole GB (10^9 bytes)";
  }
  return "";
}

Wide ClassUsage::of(Line l) const {
  switch (l) {
    case Line::kStorage:
      return storage_byte_days;
    case Line::kClassA:
      return class_a_requests;
    case Line::kClassB:
      return class_b_requests;
    case Line::kRetrieval:
      return retrieved_bytes;
  }
  return 0;
}

bool ClassUsage::empty() const {
  return storage_byte_days == 0 && class_a_requests == 0 && class_b_requests == 0 &&
         retrieved_bytes == 0;
}

ClassUsage& ClassUsage::operator+=(const ClassUsage& o) {
  storage_byte_days += o.storage_byte_days;
  class_a_requests += o.class_a_requests;
  class_b_requests += o.class_b_requests;
  retrieved_bytes += o.retrieved_bytes;
  return *this;
}

UsageByClass& operator+=(UsageByClass& a, const UsageByClass& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

Money Bill::line_total(Line l) const {
  Money sum;
  for (StorageClass c : kAllStorageClasses) sum += line(c, l).cost;
  return sum;
}

Money Bill::class_total(StorageClass c) const {
  Money sum;
  for (Line l : kAllLines) sum += line(c, l).cost;
  return sum;
}

Result<Bill> price_period(const PriceList& prices, const UsageByClass& usage,
                          uint32_t period_days) {
  Bill bill;
  bill.period_days = period_days;
  for (StorageClass c : kAllStorageClasses) {
    for (Line l : kAllLines) {
      BillLine line{.storage_class = c, .line = l};
      line.usage = usage[index_of(c)].of(l);
      line.free_allowance = free_allowance_of(prices.free_tier, c, l);
      Wide free = free_base(prices.free_tier, c, l, period_days);
      Wide over = line.usage > free ? line.usage - free : 0;
      Wide units = div_ceil(over, base_per_unit(l, period_days));
      line.unit_price = price_of(prices.of(c), l);
      auto cost = money_from_wide(units * static_cast<Wide>(line.unit_price.micro_usd()));
      if (!cost || units > UINT64_MAX) {
        return Error{.code = "usage_too_large",
                     .message = "the " + std::string(storage_class_name(c)) + " " +
                                std::string(line_name(l)) + " line exceeds what r2watch prices",
                     .field = ""};
      }
      line.billable_units = static_cast<uint64_t>(units);
      line.cost = *cost;
      bill.total += line.cost;
      bill.lines.push_back(line);
    }
  }
  return bill;
}

Money list_price_cost(const ClassPrices& prices, Line line, Wide usage, uint32_t period_days) {
  Wide micro = div_round_half_up(usage * static_cast<Wide>(price_of(prices, line).micro_usd()),
                                 base_per_unit(line, period_days));
  return money_from_wide(micro).value_or(kMaxMoney);
}

Money list_price_cost(const PriceList& prices, const UsageByClass& usage, uint32_t period_days) {
  Money sum;
  for (StorageClass c : kAllStorageClasses) {
    for (Line l : kAllLines) {
      sum += list_price_cost(prices.of(c), l, usage[index_of(c)].of(l), period_days);
    }
  }
  return sum;
}

std::array<bool, kStorageClassCount> classes_used(const Bill& bill) {
  std::array<bool, kStorageClassCount> used{};
  for (const BillLine& l : bill.lines) {
    if (l.usage != 0) used[index_of(l.storage_class)] = true;
  }
  return used;
}

}  // namespace r2w::cost
