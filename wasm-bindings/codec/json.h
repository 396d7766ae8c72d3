#pragma once

// <algorithm>, <array>, <cmath>, <functional>, <iterator>, <memory> and <numeric> came with
// nlohmann's header before; code that included it relies on them.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w {

class JsonItem;
class JsonItems;

// The one JSON value type of r2watch. It lives here, in the bindings: the core works on plain
// structs, and each domain's codec (wasm-bindings/codec/<domain>.{h,cc}) reads and writes them.
//
// A small, non-template class with the subset of nlohmann/json's API that r2watch uses (it
// replaced nlohmann's json, whose templates made most of the wasm module). Same semantics:
//  - numbers keep three kinds: signed (int64), unsigned (uint64) and float (double); parsed
//    integers are unsigned when not negative, signed when negative, float when out of range or
//    written with a fraction or exponent; get<T>() converts between them with static_cast;
//  - objects keep their keys sorted (dump order is key order), a repeated key keeps the last;
//  - `{{"k", v}, ...}` (a list of two-element lists whose first elements are strings) is an
//    object, any other initializer list an array;
//  - dump() writes what nlohmann writes (escapes, shortest round-trip doubles with ".0" for
//    integral values, `1e-05` / `1e+20` exponents, invalid UTF-8 replaced by U+FFFD).
// Unlike nlohmann nothing throws or aborts: a const lookup of a missing key or index reads
// null, get<T>() of the wrong type answers T{}, value() answers its default.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json, std::less<>>;
  // An object whose dump keeps insertion order (OrderedJson, for log lines).
  using OrderedObject = std::vector<std::pair<std::string, Json>>;
  enum class Type : uint8_t {
    kNull,
    kObject,
    kArray,
    kString,
    kBoolean,
    kInteger,
    kUnsigned,
    kFloat,
    kDiscarded,
    kOrderedObject,
  };
  // nlohmann's names; invalid UTF-8 is always replaced (strict would abort there).
  enum class error_handler_t : uint8_t { strict, replace, ignore };

  class iterator;
  class const_iterator;

  Json() noexcept : type_(Type::kNull) { v_.u = 0; }
  Json(std::nullptr_t) noexcept : Json() {}  // NOLINT(google-explicit-constructor)
  Json(bool b) noexcept : type_(Type::kBoolean) { v_.b = b; }  // NOLINT
  // Integers keep their signedness as in nlohmann (a uint8_t is unsigned, not a promoted int).
  Json(signed char n) noexcept : type_(Type::kInteger) { v_.i = n; }          // NOLINT
  Json(short n) noexcept : type_(Type::kInteger) { v_.i = n; }                // NOLINT
  Json(unsigned char n) noexcept : type_(Type::kUnsigned) { v_.u = n; }       // NOLINT
  Json(unsigned short n) noexcept : type_(Type::kUnsigned) { v_.u = n; }      // NOLINT
  Json(int n) noexcept : type_(Type::kInteger) { v_.i = n; }                  // NOLINT
  Json(long n) noexcept : type_(Type::kInteger) { v_.i = n; }                 // NOLINT
  Json(long long n) noexcept : type_(Type::kInteger) { v_.i = n; }            // NOLINT
  Json(unsigned n) noexcept : type_(Type::kUnsigned) { v_.u = n; }            // NOLINT
  Json(unsigned long n) noexcept : type_(Type::kUnsigned) { v_.u = n; }       // NOLINT
  Json(unsigned long long n) noexcept : type_(Type::kUnsigned) { v_.u = n; }  // NOLINT
  Json(double d) noexcept : type_(Type::kFloat) { v_.d = d; }                 // NOLINT
  Json(float d) noexcept : type_(Type::kFloat) { v_.d = d; }                  // NOLINT
  Json(const char* s);                                                        // NOLINT
  Json(std::string_view s);                                                   // NOLINT
  Json(const std::string& s);                                                 // NOLINT
  Json(std::string&& s);                                                      // NOLINT
  Json(std::initializer_list<Json> init);                                     // NOLINT
  template <class T>
  Json(const std::vector<T>& items) : Json(Type::kArray) {  // NOLINT
    array_ref().reserve(items.size());
    for (const auto& item : items) push_back(Json(item));
  }
  template <class T, class C>
  Json(const std::map<std::string, T, C>& items) : Json(Type::kObject) {  // NOLINT
    for (const auto& [k, item] : items) (*this)[k] = Json(item);
  }
  template <class T, class C>
  Json(const std::set<T, C>& items) : Json(Type::kArray) {  // NOLINT
    for (const auto& item : items) push_back(Json(item));
  }
  template <class T>
  Json(const std::optional<T>& v) : Json() {  // NOLINT
    if (v) *this = Json(*v);
  }
  Json(const Json& other);
  Json(Json&& other) noexcept : type_(other.type_), v_(other.v_) {
    other.type_ = Type::kNull;
    other.v_.u = 0;
  }
  Json& operator=(const Json& other);
  Json& operator=(Json&& other) noexcept;
  ~Json() {
    if (type_ >= Type::kObject && type_ <= Type::kString)
      destroy();
    else if (type_ == Type::kOrderedObject)
      destroy();
  }

  static Json array();
  static Json array(std::initializer_list<Json> init);
  static Json object();
  static Json object(std::initializer_list<Json> init);

  // Parses strict JSON (as nlohmann does: a leading UTF-8 BOM is skipped, no comments, no
  // trailing text). Nesting deeper than kMaxJsonDepth is refused too. A refusal answers a
  // discarded value (is_discarded()). Use parse_json for untrusted text.
  static Json parse(std::string_view text, std::nullptr_t = nullptr, bool allow_exceptions = true);
  static Json parse(const char* text) { return parse(std::string_view(text)); }
  static Json parse(const std::string& text) { return parse(std::string_view(text)); }

  std::string dump(int indent = -1, char indent_char = ' ', bool ensure_ascii = false,
                   error_handler_t error_handler = error_handler_t::strict) const;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_boolean() const { return type_ == Type::kBoolean; }
  bool is_number() const {
    return type_ == Type::kInteger || type_ == Type::kUnsigned || type_ == Type::kFloat;
  }
  bool is_number_integer() const { return type_ == Type::kInteger || type_ == Type::kUnsigned; }
  bool is_number_unsigned() const { return type_ == Type::kUnsigned; }
  bool is_number_float() const { return type_ == Type::kFloat; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject || type_ == Type::kOrderedObject; }
  bool is_structured() const { return is_array() || is_object(); }
  bool is_primitive() const { return !is_structured() && !is_discarded(); }
  bool is_discarded() const { return type_ == Type::kDiscarded; }

  // Conversions (nlohmann's get<T>): numbers convert between kinds (and from booleans) with
  // static_cast; a string or bool of another type answers "" or false.
  template <class T>
  T get() const {
    if constexpr (std::is_same_v<T, std::string>) {
      return get_string();
    } else if constexpr (std::is_same_v<T, bool>) {
      return get_bool();
    } else if constexpr (std::is_same_v<T, Json>) {
      return *this;
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(get_double());
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      return static_cast<T>(get_uint64());
    } else {
      static_assert(std::is_integral_v<T>, "Json::get<T>: unsupported type");
      return static_cast<T>(get_int64());
    }
  }
  // `std::string s = j["name"];` as with nlohmann (a string's text, "" for other values). The
  // only implicit conversion: numbers and booleans are read with get<T>().
  operator std::string() const { return get_string(); }  // NOLINT(google-explicit-constructor)
  template <class T>
  T get_ref() const {
    static_assert(std::is_same_v<T, const std::string&>, "Json::get_ref<const std::string&>");
    return string_ref();
  }
  std::string get_string() const;
  const std::string& string_ref() const;
  bool get_bool() const;
  int64_t get_int64() const;
  uint64_t get_uint64() const;
  double get_double() const;

  // Objects. A mutable [] on null makes it an object (or an array for an index).
  Json& operator[](std::string_view key);
  const Json& operator[](std::string_view key) const;
  template <class T>
  Json& operator[](T* key) {
    return (*this)[std::string_view(key)];
  }
  template <class T>
  const Json& operator[](T* key) const {
    return (*this)[std::string_view(key)];
  }
  Json& operator[](size_t index);
  const Json& operator[](size_t index) const;
  Json& at(std::string_view key);
  const Json& at(std::string_view key) const;
  Json& at(size_t index);
  const Json& at(size_t index) const;
  // The member `key` read as T when it is there with a fitting type, else `fallback`.
  template <class T>
  T value(std::string_view key, const T& fallback) const {
    const Json* v = find_member(key);
    if (!v || !v->converts_to(kind_of<T>())) return fallback;
    return v->get<T>();
  }
  std::string value(std::string_view key, const char* fallback) const;
  bool contains(std::string_view key) const { return find_member(key) != nullptr; }
  size_t count(std::string_view key) const { return contains(key) ? 1 : 0; }
  // The member named `key`, or nullptr (also when this is not an object).
  const Json* find_member(std::string_view key) const;
  Json* find_member(std::string_view key);
  iterator find(std::string_view key);
  const_iterator find(std::string_view key) const;
  size_t erase(std::string_view key);
  void erase(size_t index);
  iterator erase(const_iterator pos);
  // Adds the members of `other` (an object), replacing those of the same name.
  void update(const Json& other);

  // Arrays. push_back on null makes it an array; {key, value} pushed on an object adds a member.
  void push_back(Json&& v);
  void push_back(const Json& v);
  void push_back(std::initializer_list<Json> init);
  template <class... A>
  Json& emplace_back(A&&... args) {
    push_back(Json(std::forward<A>(args)...));
    return back();
  }
  iterator insert(const_iterator pos, const Json& v);
  iterator insert(const_iterator pos, const_iterator first, const_iterator last);
  Json& front();
  const Json& front() const;
  Json& back();
  const Json& back() const;

  size_t size() const;
  bool empty() const;
  void clear();

  iterator begin();
  iterator end();
  const_iterator begin() const;
  const_iterator end() const;
  const_iterator cbegin() const;
  const_iterator cend() const;
  JsonItems items() const;

  friend bool operator==(const Json& a, const Json& b);
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }
  // nlohmann's order: numbers by value across kinds, strings and booleans by value, values of
  // different types by type (null < boolean < number < object < array < string).
  friend bool operator<(const Json& a, const Json& b);
  friend bool operator>(const Json& a, const Json& b) { return b < a; }
  friend bool operator<=(const Json& a, const Json& b) { return !(b < a); }
  friend bool operator>=(const Json& a, const Json& b) { return !(a < b); }
  void swap(Json& other) noexcept {
    std::swap(type_, other.type_);
    std::swap(v_, other.v_);
  }

  // Internal representation, for the iterators.
  Object& object_ref() { return *v_.o; }
  const Object& object_ref() const { return *v_.o; }
  Array& array_ref() { return *v_.a; }
  const Array& array_ref() const { return *v_.a; }
  OrderedObject& ordered_ref() { return *v_.oo; }
  const OrderedObject& ordered_ref() const { return *v_.oo; }

 protected:
  explicit Json(Type type);

 private:
  enum class Kind : uint8_t { kAny, kString, kBool, kNumber };
  template <class T>
  static constexpr Kind kind_of() {
    if constexpr (std::is_same_v<T, std::string>)
      return Kind::kString;
    else if constexpr (std::is_same_v<T, bool>)
      return Kind::kBool;
    else if constexpr (std::is_same_v<T, Json>)
      return Kind::kAny;
    else
      return Kind::kNumber;
  }
  bool converts_to(Kind kind) const;
  void destroy();

  Type type_;
  union Value {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    std::string* s;
    Array* a;
    Object* o;
    OrderedObject* oo;
  } v_;
};

// Iterates an array's elements, an object's values (key() names them) or a primitive as one
// element, as nlohmann's iterators do.
class Json::const_iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Json;
  using difference_type = std::ptrdiff_t;
  using pointer = const Json*;
  using reference = const Json&;

  const_iterator() = default;
  const Json& operator*() const;
  const Json* operator->() const { return &**this; }
  const_iterator& operator++();
  const_iterator operator++(int) {
    const_iterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const const_iterator& o) const;
  bool operator!=(const const_iterator& o) const { return !(*this == o); }
  const std::string& key() const;
  const Json& value() const { return **this; }

 protected:
  friend class Json;
  friend class JsonItems;
  friend class JsonItem;
  Json* owner_ = nullptr;
  Object::iterator object_it_{};
  size_t index_ = 0;  // arrays, ordered objects and primitives (0 or 1)
};

class Json::iterator : public Json::const_iterator {
 public:
  using pointer = Json*;
  using reference = Json&;
  iterator() = default;
  Json& operator*() const { return const_cast<Json&>(const_iterator::operator*()); }
  Json* operator->() const { return &**this; }
  iterator& operator++() {
    const_iterator::operator++();
    return *this;
  }
  iterator operator++(int) {
    iterator old = *this;
    ++*this;
    return old;
  }
  Json& value() const { return **this; }

 private:
  friend class Json;
  explicit iterator(const const_iterator& it) : const_iterator(it) {}
};

// One member of items(): key() and value(), or `auto [key, value]`.
class JsonItem {
 public:
  const std::string& key() const;
  Json& value() const { return *it_; }
  template <size_t N>
  decltype(auto) get() const {
    if constexpr (N == 0)
      return key();
    else
      return value();
  }

 private:
  friend class JsonItems;
  Json::iterator it_;
  mutable std::string index_;  // an array element's key: its index
};

class JsonItems {
 public:
  class iterator {
   public:
    const JsonItem& operator*() const { return item_; }
    const JsonItem* operator->() const { return &item_; }
    iterator& operator++() {
      ++item_.it_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return item_.it_ != o.item_.it_; }
    bool operator==(const iterator& o) const { return item_.it_ == o.item_.it_; }

   private:
    friend class JsonItems;
    JsonItem item_;
  };
  iterator begin() const;
  iterator end() const;

 private:
  friend class Json;
  Json* owner_ = nullptr;
};

// A Json whose objects made by object() keep insertion order when dumped (log lines).
class OrderedJson : public Json {
 public:
  using Json::Json;
  OrderedJson(const Json& j) : Json(j) {}        // NOLINT(google-explicit-constructor)
  OrderedJson(Json&& j) : Json(std::move(j)) {}  // NOLINT(google-explicit-constructor)
  static OrderedJson object();

 private:
  explicit OrderedJson(Type type) : Json(type) {}
};

// The deepest nesting of arrays and objects that untrusted JSON may have. The parser and
// every walk over a parsed value recurse once per level, and the wasm stack is small: text
// nested deeper is refused before any recursive code sees it.
inline constexpr uint32_t kMaxJsonDepth = 64;

// A hexadecimal digit's value (either case), or -1: the parser's and the account collector's
// scanner's \u escapes.
inline constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// How deeply `text` nests arrays and objects, found in one pass without recursion (brackets
// inside strings do not count). Stops counting past `limit` and answers limit + 1 then.
uint32_t json_nesting_depth(std::string_view text, uint32_t limit = kMaxJsonDepth);

// Parses untrusted text without exceptions: a syntax error becomes an "invalid_json" Error,
// text nested deeper than kMaxJsonDepth a "json_too_deep" Error (both HTTP 400), and
// `parse_json_object` refuses anything but a JSON object.
Result<Json> parse_json(std::string_view text);
Result<Json> parse_json_object(std::string_view text);

// How a FieldReader treats its problems: stop at the first (later reads are skipped), or
// record one per field and go on (a config whose every bad field is named at once).
enum class FieldProblems : uint8_t { kFirst, kEvery };
// How a FieldReader reads a null member: as a value of the wrong type, or as if absent (D1
// rows, whose empty columns are null).
enum class FieldNulls : uint8_t { kTyped, kAbsent };

// Whether a FieldReader's finish() refuses fields no read asked for, or ignores them (rows
// that another command answered, or D1 rows, passed on as they are).
enum class FieldUnknowns : uint8_t { kRefused, kIgnored };

// The latest time (epoch ms) a FieldReader reads: 2^50 ms, some 35,000 years.
inline constexpr int64_t kMaxEpochMs = INT64_C(1) << 50;

struct FieldReaderOptions {
  // The code of the Errors recorded ("invalid_query" for query-string parameters).
  std::string_view code = "invalid_field";
  FieldProblems problems = FieldProblems::kFirst;
  FieldNulls nulls = FieldNulls::kTyped;
  FieldUnknowns unknowns = FieldUnknowns::kRefused;
};

// The one way the bindings read a JSON object: optional, typed fields. A field that is absent
// leaves the target untouched (so a partial update merges over current values); a field of
// the wrong type or outside its range records an "invalid_field" Error naming it (with
// `prefix`), and later reads are skipped. `finish()` also refuses fields that no read asked
// for, so a typo in a config is an error rather than a silently ignored setting. Types are
// checked here; ranges that are policy are the core's (read those with read_whole and let
// the core validate).
class FieldReader {
 public:
  explicit FieldReader(const Json& object, std::string prefix = "",
                       FieldReaderOptions options = {});

  // A non-negative integer in [min, max]; fractions, negatives and strings are refused.
  void read_uint(std::string_view name, uint32_t& out, uint64_t min, uint64_t max);
  // A whole number (an integer, or a float without fraction below 2^53) of any sign, range
  // unchecked: "must be <what>" otherwise.
  void read_whole(std::string_view name, int64_t& out, std::string_view what = "a whole number");
  // A whole number in [min, max].
  void read_int(std::string_view name, int64_t& out, int64_t min, int64_t max);
  // A whole number written as query-string text (digits only) in [min, max].
  void read_query_int(std::string_view name, int64_t& out, int64_t min, int64_t max);
  // A time as whole epoch milliseconds, at most kMaxEpochMs from 1970; the optional form
  // reads null as no time.
  void read_time(std::string_view name, TimePoint& out);
  void read_time(std::string_view name, std::optional<TimePoint>& out);
  // Milliseconds as a non-negative integer in [min, max].
  void read_duration(std::string_view name, Duration& out, Duration min, Duration max);
  // A finite number in [min, max]; `min_exclusive` makes the lower bound open.
  void read_number(std::string_view name, double& out, double min, double max, bool min_exclusive);
  void read_string(std::string_view name, std::string& out);
  // A string or null (null: no value) of at most `max_bytes`.
  void read_optional_string(std::string_view name, std::optional<std::string>& out,
                            size_t max_bytes = SIZE_MAX);
  // An array of at most `max_items` strings.
  void read_strings(std::string_view name, std::vector<std::string>& out, size_t max_items);
  void read_bool(std::string_view name, bool& out);
  // The member, marked as known, for a nested codec to read (nullptr when absent, or after
  // an error with FieldProblems::kFirst).
  const Json* read_json(std::string_view name);
  // Marks a field as known without reading it (it is handled by the caller).
  bool has(std::string_view name);
  // Records "<name> is required" when the field is absent (call before reading it).
  void require(std::string_view name);

  void fail(std::string_view name, std::string message);
  bool ok() const { return !error_.has_value() && problems_.empty(); }
  // The first error, or an error for an unknown field, or nothing.
  std::optional<Error> finish();
  // FieldProblems::kEvery: every problem, one per field, unknown fields first (for the core
  // to add its range checks to before it makes one Error of them).
  std::vector<FieldProblem> finish_problems();

 private:
  const Json* find(std::string_view name);
  std::string qualified(std::string_view name) const;

  const Json& object_;
  std::string prefix_;
  FieldReaderOptions options_;
  std::set<std::string, std::less<>> seen_;
  std::optional<Error> error_;
  std::vector<FieldProblem> problems_;
};

}  // namespace r2w

template <>
struct std::tuple_size<r2w::JsonItem> : std::integral_constant<size_t, 2> {};
template <>
struct std::tuple_element<0, r2w::JsonItem> {
  using type = const std::string;
};
template <>
struct std::tuple_element<1, r2w::JsonItem> {
  using type = r2w::Json;
};
