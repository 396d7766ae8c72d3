#pragma once

#include <string>
#include <utility>
#include <vector>

namespace r2w::security {

// How a field of a request arrived. The codec (wasm-bindings/codec/security.*) reads the JSON
// and says only this; the core's validation decides what is allowed, so that every bad field of
// a request is named together, in one order, with one message each.
enum class Arrived {
  kAbsent,     // the field is not there
  kNull,       // it is there, null
  kValue,      // it is there, of the expected type (the value is set)
  kWrongType,  // it is there, of another type
};

template <class T>
struct Input {
  Arrived arrived = Arrived::kAbsent;
  T value{};

  bool has_value() const { return arrived == Arrived::kValue; }
  // Absent or null.
  bool missing() const { return arrived == Arrived::kAbsent || arrived == Arrived::kNull; }
};

template <class T>
Input<T> input_of(T value) {
  return Input<T>{.arrived = Arrived::kValue, .value = std::move(value)};
}

// Field names a request carries that no reading asked for, in the order they arrived.
using UnknownFields = std::vector<std::string>;

}  // namespace r2w::security
