#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace r2w {

// The R2 operations the Worker performs. The numeric values cross the wasm boundary on the
// hot path (worker-shim/src/engine.js mirrors them), so they never change meaning.
enum class Operation : uint8_t { kGet = 0, kPut = 1, kDelete = 2, kList = 3, kHead = 4 };

inline constexpr std::array<Operation, 5> kAllOperations = {
    Operation::kGet, Operation::kPut, Operation::kDelete, Operation::kList, Operation::kHead};

inline constexpr std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::kGet:
      return "get";
    case Operation::kPut:
      return "put";
    case Operation::kDelete:
      return "delete";
    case Operation::kList:
      return "list";
    case Operation::kHead:
      return "head";
  }
  return "unknown";
}

inline std::optional<Operation> parse_operation(std::string_view name) {
  for (Operation op : kAllOperations) {
    if (operation_name(op) == name) return op;
  }
  return std::nullopt;
}

inline std::optional<Operation> operation_from_index(int32_t index) {
  if (index < 0 || index >= static_cast<int32_t>(kAllOperations.size())) return std::nullopt;
  return kAllOperations[static_cast<size_t>(index)];
}

}  // namespace r2w
