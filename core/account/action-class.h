#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/cost/operation-class.h"

namespace r2w::account {

// How the account's bill counts one R2 action type (the GraphQL `actionType`, an S3-style
// operation name): the class the pricing page lists it under, or unclassified when it lists it
// nowhere. An unclassified action is kept, counted and priced as Class A (the dearer class:
// a bill that guesses never comes out lower than R2's), and reported as a warning.
enum class ActionClass : uint8_t { kClassA, kClassB, kFree, kUnclassified };

// Looks `action_type` up in cost::operation_class_table() (exact, case-sensitive).
ActionClass classify_action(std::string_view action_type);

// "class_a", "class_b", "free", "unclassified".
std::string_view action_class_name(ActionClass c);

// The class an action is billed as: its own, or Class A when unclassified.
cost::OperationClass billed_as(ActionClass c);

// Whether R2 bills a request answered with `status_code`: requests refused during
// authentication or authorization (401, 403) are not billed; every other request, failed or
// not, is billed by its operation's class (R2 pricing FAQ, "Will I be charged for failed
// requests to my R2 bucket?").
bool billed_status(uint32_t status_code);
// The status codes billed_status refuses (what the Worker's sums of a month keep apart).
std::span<const uint32_t> unbilled_status_codes();

}  // namespace r2w::account
