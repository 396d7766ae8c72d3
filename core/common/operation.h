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

// R2's billing class of each operation: writes and listings are Class A, reads Class B,
// deletes free (https://developers.cloudflare.com/r2/pricing/).
enum class R2Class : uint8_t { kA, kB, kFree };

inline constexpr R2Class r2_class(Operation op) {
  switch (op) {
    case Operation::kPut:
    case Operation::kList:
      return R2Class::kA;
    case Operation::kGet:
    case Operation::kHead:
      return R2Class::kB;
    case Operation::kDelete:
      return R2Class::kFree;
  }
  return R2Class::kFree;
}

inline constexpr std::string_view r2_class_name(R2Class c) {
  switch (c) {
    case R2Class::kA:
      return "A";
    case R2Class::kB:
      return "B";
    case R2Class::kFree:
      return "free";
  }
  return "free";
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
