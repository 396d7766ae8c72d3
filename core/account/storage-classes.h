#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>

#include "core/account/figures.h"
#include "core/common/civil-date.h"
#include "core/cost/price-list.h"

namespace r2w::account {

// Each bucket's stored bytes (payload + metadata) per storage class on its latest stored day
// (cost::index_of order: Standard, Infrequent Access), from the storage rows of `latest`.
inline std::map<std::string, std::array<uint64_t, cost::kStorageClassCount>> stored_bytes_by_class(
    std::span<const StorageRow> latest) {
  std::map<std::string, std::pair<int64_t, std::array<uint64_t, cost::kStorageClassCount>>> days;
  for (const StorageRow& s : latest) {
    auto [it, added] = days.try_emplace(s.bucket);
    auto& [day, bytes] = it->second;
    const int64_t d = days_since_epoch(s.date);
    if (added || d > day) {
      day = d;
      bytes.fill(0);
    }
    if (d < day) continue;
    uint64_t& b = bytes[cost::index_of(s.storage_class)];
    b = std::min(cost::kMaxUsageFigure,
                 b + std::min(cost::kMaxUsageFigure, s.payload_bytes + s.metadata_bytes));
  }
  std::map<std::string, std::array<uint64_t, cost::kStorageClassCount>> out;
  for (auto& [bucket, v] : days) out[bucket] = v.second;
  return out;
}

}  // namespace r2w::account
