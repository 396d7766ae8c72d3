#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/common/operation.h"

namespace r2w::cost {

// How R2 bills an operation: Class A (mutates state, the dearer), Class B (reads state), or
// free.
enum class OperationClass : uint8_t { kClassA, kClassB, kFree };

std::string_view operation_class_name(OperationClass c);  // "class_a", "class_b", "free"

struct OperationClassEntry {
  std::string_view operation;
  OperationClass billed_as;
};

// The one table of which operation is which class: R2's S3-compatible operation names as the
// pricing page lists them, and r2watch's own operations (core/common/operation.h: get, put,
// delete, list, head), which are the Workers binding's calls of the same names.
std::span<const OperationClassEntry> operation_class_table();

// Exact, case-sensitive lookup in the table; nullopt for an operation it does not list.
std::optional<OperationClass> classify_operation(std::string_view operation);
OperationClass classify_operation(Operation op);

// The short name metrics use for a class in rollups, Analytics Engine and Prometheus labels:
// "A", "B" or "free".
std::string_view operation_class_label(OperationClass c);

}  // namespace r2w::cost
