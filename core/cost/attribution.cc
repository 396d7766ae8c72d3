#include "core/cost/attribution.h"

namespace r2w::cost {

std::vector<Share> attribute(const Bill& bill, std::span<const std::string> keys,
                             std::span<const UsageByClass> usage) {
  std::vector<Share> shares(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) shares[i].key = keys[i];
  if (keys.empty()) return shares;
  std::vector<Wide> weights(keys.size());
  for (StorageClass c : kAllStorageClasses) {
    for (Line l : kAllLines) {
      Money cost = bill.line(c, l).cost;
      if (cost == Money{}) continue;
      for (size_t i = 0; i < keys.size(); ++i) weights[i] = usage[i][index_of(c)].of(l);
      std::vector<Money> parts = allocate(cost, weights);
      for (size_t i = 0; i < keys.size(); ++i) {
        shares[i].lines[index_of(l)] += parts[i];
        shares[i].total += parts[i];
      }
    }
  }
  return shares;
}

}  // namespace r2w::cost
