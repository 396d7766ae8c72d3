#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "core/cost/bill.h"
#include "core/cost/money.h"

namespace r2w::cost {

// One key's part of a bill (a bucket, a prefix, a storage class, a user).
struct Share {
  std::string key;
  std::array<Money, kLineCount> lines{};  // by Line, summed over storage classes
  Money total;
};

// Splits every line of `bill` (each storage class and line on its own) across `keys` in
// proportion to each key's usage of that line (`usage[i]` is key i's), with allocate()'s
// largest remainder: every line's parts add up exactly to the line, so the shares add up
// exactly to bill.total. The free tier and the rounding to billing units are thereby shared
// in proportion to usage. Keys keep their order.
std::vector<Share> attribute(const Bill& bill, std::span<const std::string> keys,
                             std::span<const UsageByClass> usage);

}  // namespace r2w::cost
