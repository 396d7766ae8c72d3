#include "core/account/action-class.h"

namespace r2w::account {

ActionClass classify_action(std::string_view action_type) {
  auto c = cost::classify_operation(action_type);
  if (!c) return ActionClass::kUnclassified;
  switch (*c) {
    case cost::OperationClass::kClassA:
      return ActionClass::kClassA;
    case cost::OperationClass::kClassB:
      return ActionClass::kClassB;
    case cost::OperationClass::kFree:
      return ActionClass::kFree;
  }
  return ActionClass::kUnclassified;
}

std::string_view action_class_name(ActionClass c) {
  switch (c) {
    case ActionClass::kClassA:
      return "class_a";
    case ActionClass::kClassB:
      return "class_b";
    case ActionClass::kFree:
      return "free";
    case ActionClass::kUnclassified:
      return "unclassified";
  }
  return "unclassified";
}

cost::OperationClass billed_as(ActionClass c) {
  switch (c) {
    case ActionClass::kClassB:
      return cost::OperationClass::kClassB;
    case ActionClass::kFree:
      return cost::OperationClass::kFree;
    case ActionClass::kClassA:
    case ActionClass::kUnclassified:
      return cost::OperationClass::kClassA;
  }
  return cost::OperationClass::kClassA;
}

namespace {
// Requests refused during authentication or authorization.
constexpr uint32_t kUnbilledStatusCodes[] = {401, 403};
}  // namespace

bool billed_status(uint32_t status_code) {
  for (uint32_t c : kUnbilledStatusCodes) {
    if (c == status_code) return false;
  }
  return true;
}

std::span<const uint32_t> unbilled_status_codes() { return kUnbilledStatusCodes; }

}  // namespace r2w::account
