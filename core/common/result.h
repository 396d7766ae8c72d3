#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace r2w {

// One bad input field among several (see Error::problems).
struct FieldProblem {
  std::string field;
  std::string message;
};

// A refusal that names what was wrong. `code` is a stable snake_case word that the Worker maps
// to an HTTP status ("invalid_json" -> 400, "invalid_field" -> 422, ...); `field` names the
// offending input field when there is one (dotted for nested fields), empty otherwise.
// When a validation finds several bad fields at once, `problems` lists each of them (and
// `field` names the first); otherwise it is empty.
struct Error {
  std::string code;
  std::string message;
  std::string field;
  std::vector<FieldProblem> problems;
};

inline Error invalid_field(std::string field, std::string message) {
  return Error{.code = "invalid_field", .message = std::move(message), .field = std::move(field)};
}

// The error of a nested input `prefix` ("rows[3]"): its field and message are named from there.
inline Error prefixed_error(Error e, const std::string& prefix) {
  if (!e.field.empty()) {
    e.field = prefix + "." + e.field;
    e.message = prefix + "." + e.message;
  } else {
    e.field = prefix;
  }
  return e;
}

// Either a value or an Error. The core is built without exceptions, so every fallible
// function returns one of these instead of throwing.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Success carries nothing.
struct Ok {};
using Status = Result<Ok>;

}  // namespace r2w
