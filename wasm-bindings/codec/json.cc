#include "wasm-bindings/codec/json.h"

#include <cmath>

namespace r2w {

uint32_t json_nesting_depth(std::string_view text, uint32_t limit) {
  uint32_t depth = 0;
  uint32_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, does not end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return limit + 1;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_json(std::string_view text) {
  if (json_nesting_depth(text) > kMaxJsonDepth) {
    return Error{.code = "json_too_deep",
                 .message = "request body nests arrays and objects deeper than " +
                            std::to_string(kMaxJsonDepth) + " levels",
                 .field = ""};
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    return Error{.code = "invalid_json", .message = "request body is not valid JSON", .field = ""};
  }
  return j;
}

Result<nlohmann::json> parse_json_object(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed.ok()) return parsed;
  if (!parsed.value().is_object()) {
    return Error{.code = "invalid_json", .message = "expected a JSON object", .field = ""};
  }
  return parsed;
}

FieldReader::FieldReader(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

std::string FieldReader::qualified(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

void FieldReader::fail(std::string_view name, std::string message) {
  if (!error_) error_ = invalid_field(qualified(name), qualified(name) + " " + message);
}

const nlohmann::json* FieldReader::find(std::string_view name) {
  seen_.emplace(name);
  if (error_ || !object_.is_object()) return nullptr;
  auto it = object_.find(std::string(name));
  return it == object_.end() ? nullptr : &*it;
}

bool FieldReader::has(std::string_view name) { return find(name) != nullptr; }

void FieldReader::read_uint(std::string_view name, uint32_t& out, uint64_t min, uint64_t max) {
  const nlohmann::json* v = find(name);
  if (!v) return;
  uint64_t value = 0;
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    value = v->get<uint64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) && v->get<double>() >= 0 &&
             std::floor(v->get<double>()) == v->get<double>() && v->get<double>() <= 4e9) {
    value = static_cast<uint64_t>(v->get<double>());
  } else {
    fail(name, "must be a non-negative integer");
    return;
  }
  if (value < min || value > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = static_cast<uint32_t>(value);
}

void FieldReader::read_duration(std::string_view name, Duration& out, Duration min, Duration max) {
  const nlohmann::json* v = find(name);
  if (!v) return;
  bool integral = (v->is_number_integer() && v->get<int64_t>() >= 0) ||
                  (v->is_number_float() && std::isfinite(v->get<double>()) &&
                   v->get<double>() >= 0 && std::floor(v->get<double>()) == v->get<double>());
  if (!integral) {
    fail(name, "must be a non-negative integer number of milliseconds");
    return;
  }
  double ms = v->get<double>();
  if (ms < static_cast<double>(min.count()) || ms > static_cast<double>(max.count())) {
    fail(name, "must be between " + std::to_string(min.count()) + " and " +
                   std::to_string(max.count()) + " ms");
    return;
  }
  out = Duration(static_cast<int64_t>(ms));
}

void FieldReader::read_number(std::string_view name, double& out, double min, double max,
                              bool min_exclusive) {
  const nlohmann::json* v = find(name);
  if (!v) return;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    fail(name, "must be a number");
    return;
  }
  double value = v->get<double>();
  bool below = min_exclusive ? value <= min : value < min;
  if (below || value > max) {
    nlohmann::json lo = min, hi = max;
    fail(name, std::string("must be ") + (min_exclusive ? "greater than " : "at least ") +
                   lo.dump() + " and at most " + hi.dump());
    return;
  }
  out = value;
}

void FieldReader::read_string(std::string_view name, std::string& out) {
  const nlohmann::json* v = find(name);
  if (!v) return;
  if (!v->is_string()) {
    fail(name, "must be a string");
    return;
  }
  out = v->get<std::string>();
}

void FieldReader::read_bool(std::string_view name, bool& out) {
  const nlohmann::json* v = find(name);
  if (!v) return;
  if (!v->is_boolean()) {
    fail(name, "must be true or false");
    return;
  }
  out = v->get<bool>();
}

std::optional<Error> FieldReader::finish() {
  if (error_) return error_;
  if (!object_.is_object()) {
    return invalid_field(prefix_, (prefix_.empty() ? "input" : prefix_) + " must be an object");
  }
  for (const auto& item : object_.items()) {
    if (!seen_.contains(item.key())) {
      return invalid_field(qualified(item.key()), qualified(item.key()) + " is not a known field");
    }
  }
  return std::nullopt;
}

}  // namespace r2w
