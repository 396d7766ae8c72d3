#include "wasm-bindings/codec/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace r2w {

namespace {

Json& scratch_null() {
  static Json scratch;
  scratch = nullptr;
  return scratch;
}

const Json& const_null() {
  static const Json kNull;
  return kNull;
}

const std::string& empty_string() {
  static const std::string kEmpty;
  return kEmpty;
}

}  // namespace

// ---- construction ----

Json::Json(Type type) : type_(type) {
  switch (type) {
    case Type::kObject:
      v_.o = new Object();
      break;
    case Type::kArray:
      v_.a = new Array();
      break;
    case Type::kString:
      v_.s = new std::string();
      break;
    case Type::kOrderedObject:
      v_.oo = new OrderedObject();
      break;
    default:
      v_.u = 0;
      break;
  }
}

Json::Json(const char* s) : type_(Type::kString) { v_.s = new std::string(s); }
Json::Json(std::string_view s) : type_(Type::kString) { v_.s = new std::string(s); }
Json::Json(const std::string& s) : type_(Type::kString) { v_.s = new std::string(s); }
Json::Json(std::string&& s) : type_(Type::kString) { v_.s = new std::string(std::move(s)); }

namespace {

// nlohmann's rule: a list of two-element lists whose first elements are strings is an object
// (an empty list too).
bool is_object_list(std::initializer_list<Json> init) {
  for (const Json& e : init) {
    if (!e.is_array() || e.size() != 2 || !e.array_ref()[0].is_string()) return false;
  }
  return true;
}

// The elements of an initializer list are temporaries made for this one call: they are moved
// from (as nlohmann's json_ref does) rather than copied once per nesting level.
Json&& take(const Json& e) { return std::move(const_cast<Json&>(e)); }

}  // namespace

Json::Json(std::initializer_list<Json> init) : Json() {
  if (is_object_list(init)) {
    *this = Json(Type::kObject);
    for (const Json& e : init) {
      Json& pair = const_cast<Json&>(e);
      v_.o->emplace(std::move(*pair.array_ref()[0].v_.s), std::move(pair.array_ref()[1]));
    }
  } else {
    *this = Json(Type::kArray);
    v_.a->reserve(init.size());
    for (const Json& e : init) v_.a->push_back(take(e));
  }
}

Json::Json(const Json& other) : type_(other.type_) {
  switch (type_) {
    case Type::kObject:
      v_.o = new Object(*other.v_.o);
      break;
    case Type::kArray:
      v_.a = new Array(*other.v_.a);
      break;
    case Type::kString:
      v_.s = new std::string(*other.v_.s);
      break;
    case Type::kOrderedObject:
      v_.oo = new OrderedObject(*other.v_.oo);
      break;
    default:
      v_ = other.v_;
      break;
  }
}

Json& Json::operator=(const Json& other) {
  if (this != &other) {
    Json copy(other);
    swap(copy);
  }
  return *this;
}

Json& Json::operator=(Json&& other) noexcept {
  // `other` may live inside this value (j = std::move(j["child"])): take it out first.
  Json taken(std::move(other));
  swap(taken);
  return *this;
}

void Json::destroy() {
  switch (type_) {
    case Type::kObject:
      delete v_.o;
      break;
    case Type::kArray:
      delete v_.a;
      break;
    case Type::kString:
      delete v_.s;
      break;
    case Type::kOrderedObject:
      delete v_.oo;
      break;
    default:
      break;
  }
  type_ = Type::kNull;
  v_.u = 0;
}

Json Json::array() { return Json(Type::kArray); }

Json Json::array(std::initializer_list<Json> init) {
  Json j(Type::kArray);
  j.v_.a->reserve(init.size());
  for (const Json& e : init) j.v_.a->push_back(take(e));
  return j;
}

Json Json::object() { return Json(Type::kObject); }

Json Json::object(std::initializer_list<Json> init) {
  if (init.size() == 0) return object();
  return Json(init);
}

OrderedJson OrderedJson::object() { return OrderedJson(Type::kOrderedObject); }

// ---- conversions ----

std::string Json::get_string() const { return type_ == Type::kString ? *v_.s : std::string(); }

const std::string& Json::string_ref() const {
  return type_ == Type::kString ? *v_.s : empty_string();
}

bool Json::get_bool() const { return type_ == Type::kBoolean && v_.b; }

namespace {

int64_t double_to_int64(double d) {
  if (!(d > -9223372036854775808.0)) return std::isnan(d) ? 0 : INT64_MIN;
  if (d >= 9223372036854775808.0) return INT64_MAX;
  return static_cast<int64_t>(d);
}

uint64_t double_to_uint64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 18446744073709551616.0) return UINT64_MAX;
  if (d > -1.0) return static_cast<uint64_t>(d);
  return static_cast<uint64_t>(double_to_int64(d));
}

}  // namespace

int64_t Json::get_int64() const {
  switch (type_) {
    case Type::kInteger:
      return v_.i;
    case Type::kUnsigned:
      return static_cast<int64_t>(v_.u);
    case Type::kFloat:
      return double_to_int64(v_.d);
    case Type::kBoolean:
      return v_.b ? 1 : 0;
    default:
      return 0;
  }
}

uint64_t Json::get_uint64() const {
  switch (type_) {
    case Type::kInteger:
      return static_cast<uint64_t>(v_.i);
    case Type::kUnsigned:
      return v_.u;
    case Type::kFloat:
      return double_to_uint64(v_.d);
    case Type::kBoolean:
      return v_.b ? 1 : 0;
    default:
      return 0;
  }
}

double Json::get_double() const {
  switch (type_) {
    case Type::kInteger:
      return static_cast<double>(v_.i);
    case Type::kUnsigned:
      return static_cast<double>(v_.u);
    case Type::kFloat:
      return v_.d;
    case Type::kBoolean:
      return v_.b ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

bool Json::converts_to(Kind kind) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kString:
      return is_string();
    case Kind::kBool:
      return is_boolean();
    case Kind::kNumber:
      return is_number() || is_boolean();
  }
  return false;
}

std::string Json::value(std::string_view key, const char* fallback) const {
  const Json* v = find_member(key);
  return v && v->is_string() ? *v->v_.s : std::string(fallback);
}

// ---- objects ----

const Json* Json::find_member(std::string_view key) const {
  if (type_ == Type::kObject) {
    auto it = v_.o->find(key);
    return it == v_.o->end() ? nullptr : &it->second;
  }
  if (type_ == Type::kOrderedObject) {
    for (const auto& [k, v] : *v_.oo) {
      if (k == key) return &v;
    }
  }
  return nullptr;
}

Json* Json::find_member(std::string_view key) {
  return const_cast<Json*>(static_cast<const Json*>(this)->find_member(key));
}

Json& Json::operator[](std::string_view key) {
  if (type_ == Type::kNull) *this = Json(Type::kObject);
  if (type_ == Type::kObject) {
    auto it = v_.o->find(key);
    if (it != v_.o->end()) return it->second;
    return v_.o->emplace(std::string(key), Json()).first->second;
  }
  if (type_ == Type::kOrderedObject) {
    if (Json* v = find_member(key)) return *v;
    v_.oo->emplace_back(std::string(key), Json());
    return v_.oo->back().second;
  }
  return scratch_null();
}

const Json& Json::operator[](std::string_view key) const {
  const Json* v = find_member(key);
  return v ? *v : const_null();
}

Json& Json::operator[](size_t index) {
  if (type_ == Type::kNull) *this = Json(Type::kArray);
  if (type_ != Type::kArray) return scratch_null();
  if (index >= v_.a->size()) v_.a->resize(index + 1);
  return (*v_.a)[index];
}

const Json& Json::operator[](size_t index) const {
  if (type_ != Type::kArray || index >= v_.a->size()) return const_null();
  return (*v_.a)[index];
}

Json& Json::at(std::string_view key) {
  Json* v = find_member(key);
  return v ? *v : scratch_null();
}

const Json& Json::at(std::string_view key) const { return (*this)[key]; }

Json& Json::at(size_t index) {
  if (type_ != Type::kArray || index >= v_.a->size()) return scratch_null();
  return (*v_.a)[index];
}

const Json& Json::at(size_t index) const { return (*this)[index]; }

Json::iterator Json::find(std::string_view key) {
  return iterator(static_cast<const Json*>(this)->find(key));
}

Json::const_iterator Json::find(std::string_view key) const {
  const_iterator it = end();
  if (type_ == Type::kObject) {
    it.object_it_ = const_cast<Json*>(this)->v_.o->find(key);
  } else if (type_ == Type::kOrderedObject) {
    for (size_t i = 0; i < v_.oo->size(); ++i) {
      if ((*v_.oo)[i].first == key) it.index_ = i;
    }
  }
  return it;
}

size_t Json::erase(std::string_view key) {
  if (type_ == Type::kObject) {
    auto it = v_.o->find(key);
    if (it == v_.o->end()) return 0;
    v_.o->erase(it);
    return 1;
  }
  if (type_ == Type::kOrderedObject) {
    for (auto it = v_.oo->begin(); it != v_.oo->end(); ++it) {
      if (it->first == key) {
        v_.oo->erase(it);
        return 1;
      }
    }
  }
  return 0;
}

void Json::erase(size_t index) {
  if (type_ == Type::kArray && index < v_.a->size()) {
    v_.a->erase(v_.a->begin() + static_cast<std::ptrdiff_t>(index));
  }
}

Json::iterator Json::erase(const_iterator pos) {
  iterator next(pos);
  if (pos.owner_ != this) return end();
  if (type_ == Type::kObject) {
    next.object_it_ = v_.o->erase(pos.object_it_);
  } else if (type_ == Type::kArray) {
    v_.a->erase(v_.a->begin() + static_cast<std::ptrdiff_t>(pos.index_));
  } else if (type_ == Type::kOrderedObject) {
    v_.oo->erase(v_.oo->begin() + static_cast<std::ptrdiff_t>(pos.index_));
  } else {
    *this = Json();
    return end();
  }
  return next;
}

void Json::update(const Json& other) {
  if (type_ == Type::kNull) *this = Json(Type::kObject);
  if (!is_object() || !other.is_object()) return;
  for (auto it = other.begin(); it != other.end(); ++it) (*this)[it.key()] = *it;
}

// ---- arrays ----

void Json::push_back(Json&& v) {
  if (type_ == Type::kNull) *this = Json(Type::kArray);
  if (type_ == Type::kArray) v_.a->push_back(std::move(v));
}

void Json::push_back(const Json& v) { push_back(Json(v)); }

void Json::push_back(std::initializer_list<Json> init) {
  if (is_object() && init.size() == 2 && init.begin()->is_string()) {
    (*this)[init.begin()->string_ref()] = take(*(init.begin() + 1));
  } else {
    push_back(Json(init));
  }
}

Json::iterator Json::insert(const_iterator pos, const Json& v) {
  if (type_ == Type::kNull) *this = Json(Type::kArray);
  if (type_ != Type::kArray) return end();
  size_t at = pos.owner_ == this ? pos.index_ : v_.a->size();
  v_.a->insert(v_.a->begin() + static_cast<std::ptrdiff_t>(at), v);
  iterator it = begin();
  it.index_ = at;
  return it;
}

Json::iterator Json::insert(const_iterator pos, const_iterator first, const_iterator last) {
  if (type_ == Type::kNull) *this = Json(Type::kArray);
  if (type_ != Type::kArray) return end();
  size_t at = pos.owner_ == this ? pos.index_ : v_.a->size();
  Array items;
  for (auto it = first; it != last; ++it) items.push_back(*it);
  v_.a->insert(v_.a->begin() + static_cast<std::ptrdiff_t>(at),
               std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
  iterator it = begin();
  it.index_ = at;
  return it;
}

Json& Json::front() { return *begin(); }
const Json& Json::front() const { return *begin(); }

Json& Json::back() {
  switch (type_) {
    case Type::kArray:
      return v_.a->empty() ? scratch_null() : v_.a->back();
    case Type::kObject:
      return v_.o->empty() ? scratch_null() : std::prev(v_.o->end())->second;
    case Type::kOrderedObject:
      return v_.oo->empty() ? scratch_null() : v_.oo->back().second;
    case Type::kNull:
      return scratch_null();
    default:
      return *this;
  }
}

const Json& Json::back() const { return const_cast<Json*>(this)->back(); }

size_t Json::size() const {
  switch (type_) {
    case Type::kNull:
      return 0;
    case Type::kArray:
      return v_.a->size();
    case Type::kObject:
      return v_.o->size();
    case Type::kOrderedObject:
      return v_.oo->size();
    default:
      return 1;
  }
}

bool Json::empty() const { return size() == 0; }

void Json::clear() {
  switch (type_) {
    case Type::kArray:
      v_.a->clear();
      break;
    case Type::kObject:
      v_.o->clear();
      break;
    case Type::kOrderedObject:
      v_.oo->clear();
      break;
    case Type::kString:
      v_.s->clear();
      break;
    case Type::kBoolean:
      v_.b = false;
      break;
    case Type::kInteger:
    case Type::kUnsigned:
    case Type::kFloat:
      v_.u = 0;
      break;
    default:
      break;
  }
}

// ---- iteration ----

Json::const_iterator Json::cbegin() const {
  const_iterator it;
  it.owner_ = const_cast<Json*>(this);
  if (type_ == Type::kObject) it.object_it_ = v_.o->begin();
  it.index_ = type_ == Type::kNull ? 1 : 0;
  return it;
}

Json::const_iterator Json::cend() const {
  const_iterator it;
  it.owner_ = const_cast<Json*>(this);
  switch (type_) {
    case Type::kObject:
      it.object_it_ = v_.o->end();
      break;
    case Type::kArray:
      it.index_ = v_.a->size();
      break;
    case Type::kOrderedObject:
      it.index_ = v_.oo->size();
      break;
    default:
      it.index_ = 1;
      break;
  }
  return it;
}

Json::const_iterator Json::begin() const { return cbegin(); }
Json::const_iterator Json::end() const { return cend(); }
Json::iterator Json::begin() { return iterator(cbegin()); }
Json::iterator Json::end() { return iterator(cend()); }

const Json& Json::const_iterator::operator*() const {
  switch (owner_->type_) {
    case Type::kObject:
      return object_it_->second;
    case Type::kArray:
      return (*owner_->v_.a)[index_];
    case Type::kOrderedObject:
      return (*owner_->v_.oo)[index_].second;
    default:
      return *owner_;
  }
}

Json::const_iterator& Json::const_iterator::operator++() {
  if (owner_->type_ == Type::kObject) {
    ++object_it_;
  } else {
    ++index_;
  }
  return *this;
}

bool Json::const_iterator::operator==(const const_iterator& o) const {
  if (owner_ != o.owner_) return false;
  if (owner_ && owner_->type_ == Type::kObject) return object_it_ == o.object_it_;
  return index_ == o.index_;
}

const std::string& Json::const_iterator::key() const {
  if (owner_->type_ == Type::kObject) return object_it_->first;
  if (owner_->type_ == Type::kOrderedObject) return (*owner_->v_.oo)[index_].first;
  return empty_string();
}

JsonItems Json::items() const {
  JsonItems items;
  items.owner_ = const_cast<Json*>(this);
  return items;
}

JsonItems::iterator JsonItems::begin() const {
  iterator it;
  it.item_.it_ = owner_->begin();
  return it;
}

JsonItems::iterator JsonItems::end() const {
  iterator it;
  it.item_.it_ = owner_->end();
  return it;
}

const std::string& JsonItem::key() const {
  if (it_.owner_->is_object()) return it_.key();
  index_ = std::to_string(it_.index_);
  return index_;
}

// ---- comparison ----

bool operator==(const Json& a, const Json& b) {
  using Type = Json::Type;
  if (a.type_ != b.type_) {
    switch (a.type_) {
      case Type::kInteger:
        if (b.type_ == Type::kFloat) return static_cast<double>(a.v_.i) == b.v_.d;
        if (b.type_ == Type::kUnsigned) return a.v_.i == static_cast<int64_t>(b.v_.u);
        return false;
      case Type::kUnsigned:
        if (b.type_ == Type::kFloat) return static_cast<double>(a.v_.u) == b.v_.d;
        if (b.type_ == Type::kInteger) return static_cast<int64_t>(a.v_.u) == b.v_.i;
        return false;
      case Type::kFloat:
        if (b.type_ == Type::kInteger) return a.v_.d == static_cast<double>(b.v_.i);
        if (b.type_ == Type::kUnsigned) return a.v_.d == static_cast<double>(b.v_.u);
        return false;
      default:
        return false;
    }
  }
  switch (a.type_) {
    case Type::kNull:
      return true;
    case Type::kObject:
      return *a.v_.o == *b.v_.o;
    case Type::kArray:
      return *a.v_.a == *b.v_.a;
    case Type::kOrderedObject:
      return *a.v_.oo == *b.v_.oo;
    case Type::kString:
      return *a.v_.s == *b.v_.s;
    case Type::kBoolean:
      return a.v_.b == b.v_.b;
    case Type::kInteger:
      return a.v_.i == b.v_.i;
    case Type::kUnsigned:
      return a.v_.u == b.v_.u;
    case Type::kFloat:
      return a.v_.d == b.v_.d;
    case Type::kDiscarded:
      return false;
  }
  return false;
}

namespace {

// nlohmann's value_t order for values of different types.
int type_rank(Json::Type t) {
  switch (t) {
    case Json::Type::kNull:
      return 0;
    case Json::Type::kBoolean:
      return 1;
    case Json::Type::kInteger:
    case Json::Type::kUnsigned:
    case Json::Type::kFloat:
      return 2;
    case Json::Type::kObject:
    case Json::Type::kOrderedObject:
      return 3;
    case Json::Type::kArray:
      return 4;
    case Json::Type::kString:
      return 5;
    case Json::Type::kDiscarded:
      return 6;
  }
  return 6;
}

}  // namespace

bool operator<(const Json& a, const Json& b) {
  using Type = Json::Type;
  if (a.is_discarded() || b.is_discarded()) return false;
  if (a.is_number() && b.is_number()) {
    if (a.type_ == b.type_) {
      if (a.type_ == Type::kInteger) return a.v_.i < b.v_.i;
      if (a.type_ == Type::kUnsigned) return a.v_.u < b.v_.u;
      return a.v_.d < b.v_.d;
    }
    if (a.type_ == Type::kInteger && b.type_ == Type::kUnsigned) {
      return a.v_.i < static_cast<int64_t>(b.v_.u);
    }
    if (a.type_ == Type::kUnsigned && b.type_ == Type::kInteger) {
      return static_cast<int64_t>(a.v_.u) < b.v_.i;
    }
    return a.get_double() < b.get_double();
  }
  if (a.type_ != b.type_) return type_rank(a.type_) < type_rank(b.type_);
  switch (a.type_) {
    case Type::kBoolean:
      return a.v_.b < b.v_.b;
    case Type::kString:
      return *a.v_.s < *b.v_.s;
    case Type::kArray:
      return *a.v_.a < *b.v_.a;
    case Type::kObject:
      return *a.v_.o < *b.v_.o;
    default:
      return false;
  }
}

// ---- dump ----

namespace {

constexpr char kHex[] = "0123456789abcdef";

// The byte length of the UTF-8 sequence led by `lead`, 0 for a byte that cannot lead one, and
// the range its second byte must be in (the rest are 80..BF), as Hoehrmann's decoder checks.
int utf8_sequence(uint8_t lead, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    return 4;
  }
  return 0;
}

// How many bytes from `i` form one valid UTF-8 sequence (1 for ASCII), or -k: the sequence is
// invalid and its first k bytes are dropped (k >= 1); the byte after them starts afresh.
int utf8_valid_length(std::string_view s, size_t i) {
  uint8_t lo = 0, hi = 0;
  int len = utf8_sequence(static_cast<uint8_t>(s[i]), lo, hi);
  if (len == 0) return -1;
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return -k;
    auto b = static_cast<uint8_t>(s[i + k]);
    if (b < lo || b > hi) return -k;
    lo = 0x80;
    hi = 0xBF;
  }
  return len;
}

// Appends the escaped content of a string as nlohmann's serializer writes it (without
// ensure_ascii): the short escapes, \u00XX for other control characters, invalid UTF-8 as U+FFFD.
void escape_into(std::string& out, std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    size_t run = i;
    while (run < n) {
      auto c = static_cast<uint8_t>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      int len = utf8_valid_length(s, i);
      if (len > 0) {
        out.append(s.data() + i, static_cast<size_t>(len));
        i += static_cast<size_t>(len);
      } else {
        out.append("\xEF\xBF\xBD");
        i += static_cast<size_t>(-len);
      }
      continue;
    }
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\t':
        out.push_back('t');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\r':
        out.push_back('r');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        break;
    }
    ++i;
  }
}

void escape_ascii_into(std::string& out, std::string_view s) {
  std::string plain;
  escape_into(plain, s);
  // ensure_ascii: every code point above 0x7E as \uXXXX (surrogate pairs above U+FFFF).
  for (size_t i = 0; i < plain.size();) {
    auto c = static_cast<uint8_t>(plain[i]);
    if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    uint32_t cp = c;
    int len = 1;
    if (c >= 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1F;
      len = 2;
    }
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(plain[i + k]) & 0x3F);
    i += static_cast<size_t>(len);
    auto unit = [&](uint32_t u) {
      out.append("\\u");
      for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(u >> shift) & 0xF]);
    };
    if (cp <= 0xFFFF) {
      unit(cp);
    } else {
      unit(0xD7C0u + (cp >> 10));
      unit(0xDC00u + (cp & 0x3FFu));
    }
  }
}

void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  if (ensure_ascii) {
    escape_ascii_into(out, s);
  } else {
    escape_into(out, s);
  }
  out.push_back('"');
}

template <class Int>
void dump_integer(std::string& out, Int n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// The shortest-digits search for doubles: Grisu2 (Loitsch, "Printing Floating-Point Numbers
// Quickly and Accurately with Integers", 2010), the algorithm nlohmann/json uses, so the digits
// are the ones it writes (a round trip always; the shortest almost always: 31.928979 can come
// out as 31.928979000000002). Its table is 79 numbers, where libc++'s std::to_chars(double)
// links 110 KB of Ryu tables into the module.
namespace grisu {

struct DiyFp {
  uint64_t f;
  int e;
};

DiyFp multiply(DiyFp x, DiyFp y) {
  const uint64_t x_lo = x.f & 0xFFFFFFFFu, x_hi = x.f >> 32;
  const uint64_t y_lo = y.f & 0xFFFFFFFFu, y_hi = y.f >> 32;
  const uint64_t p0 = x_lo * y_lo, p1 = x_lo * y_hi, p2 = x_hi * y_lo, p3 = x_hi * y_hi;
  uint64_t q = (p0 >> 32) + (p1 & 0xFFFFFFFFu) + (p2 & 0xFFFFFFFFu);
  q += uint64_t{1} << 31;  // round the dropped low half
  return {p3 + (p1 >> 32) + (p2 >> 32) + (q >> 32), x.e + y.e + 64};
}

DiyFp normalize(DiyFp x) {
  while ((x.f >> 63) == 0) {
    x.f <<= 1;
    --x.e;
  }
  return x;
}

struct CachedPower {
  uint64_t f;
  int e;
  int k;
};

// 10^k for k = -300, -292, ..., 324 as f * 2^e, f a 64-bit significand rounded to nearest.
constexpr CachedPower kCachedPowers[] = {
    {0xAB70FE17C79AC6CA, -1060, -300}, {0xFF77B1FCBEBCDC4F, -1034, -292},
    {0xBE5691EF416BD60C, -1007, -284}, {0x8DD01FAD907FFC3C, -980, -276},
    {0xD3515C2831559A83, -954, -268},  {0x9D71AC8FADA6C9B5, -927, -260},
    {0xEA9C227723EE8BCB, -901, -252},  {0xAECC49914078536D, -874, -244},
    {0x823C12795DB6CE57, -847, -236},  {0xC21094364DFB5637, -821, -228},
    {0x9096EA6F3848984F, -794, -220},  {0xD77485CB25823AC7, -768, -212},
    {0xA086CFCD97BF97F4, -741, -204},  {0xEF340A98172AACE5, -715, -196},
    {0xB23867FB2A35B28E, -688, -188},  {0x84C8D4DFD2C63F3B, -661, -180},
    {0xC5DD44271AD3CDBA, -635, -172},  {0x936B9FCEBB25C996, -608, -164},
    {0xDBAC6C247D62A584, -582, -156},  {0xA3AB66580D5FDAF6, -555, -148},
    {0xF3E2F893DEC3F126, -529, -140},  {0xB5B5ADA8AAFF80B8, -502, -132},
    {0x87625F056C7C4A8B, -475, -124},  {0xC9BCFF6034C13053, -449, -116},
    {0x964E858C91BA2655, -422, -108},  {0xDFF9772470297EBD, -396, -100},
    {0xA6DFBD9FB8E5B88F, -369, -92},   {0xF8A95FCF88747D94, -343, -84},
    {0xB94470938FA89BCF, -316, -76},   {0x8A08F0F8BF0F156B, -289, -68},
    {0xCDB02555653131B6, -263, -60},   {0x993FE2C6D07B7FAC, -236, -52},
    {0xE45C10C42A2B3B06, -210, -44},   {0xAA242499697392D3, -183, -36},
    {0xFD87B5F28300CA0E, -157, -28},   {0xBCE5086492111AEB, -130, -20},
    {0x8CBCCC096F5088CC, -103, -12},   {0xD1B71758E219652C, -77, -4},
    {0x9C40000000000000, -50, 4},      {0xE8D4A51000000000, -24, 12},
    {0xAD78EBC5AC620000, 3, 20},       {0x813F3978F8940984, 30, 28},
    {0xC097CE7BC90715B3, 56, 36},      {0x8F7E32CE7BEA5C70, 83, 44},
    {0xD5D238A4ABE98068, 109, 52},     {0x9F4F2726179A2245, 136, 60},
    {0xED63A231D4C4FB27, 162, 68},     {0xB0DE65388CC8ADA8, 189, 76},
    {0x83C7088E1AAB65DB, 216, 84},     {0xC45D1DF942711D9A, 242, 92},
    {0x924D692CA61BE758, 269, 100},    {0xDA01EE641A708DEA, 295, 108},
    {0xA26DA3999AEF774A, 322, 116},    {0xF209787BB47D6B85, 348, 124},
    {0xB454E4A179DD1877, 375, 132},    {0x865B86925B9BC5C2, 402, 140},
    {0xC83553C5C8965D3D, 428, 148},    {0x952AB45CFA97A0B3, 455, 156},
    {0xDE469FBD99A05FE3, 481, 164},    {0xA59BC234DB398C25, 508, 172},
    {0xF6C69A72A3989F5C, 534, 180},    {0xB7DCBF5354E9BECE, 561, 188},
    {0x88FCF317F22241E2, 588, 196},    {0xCC20CE9BD35C78A5, 614, 204},
    {0x98165AF37B2153DF, 641, 212},    {0xE2A0B5DC971F303A, 667, 220},
    {0xA8D9D1535CE3B396, 694, 228},    {0xFB9B7CD9A4A7443C, 720, 236},
    {0xBB764C4CA7A44410, 747, 244},    {0x8BAB8EEFB6409C1A, 774, 252},
    {0xD01FEF10A657842C, 800, 260},    {0x9B10A4E5E9913129, 827, 268},
    {0xE7109BFBA19C0C9D, 853, 276},    {0xAC2820D9623BF429, 880, 284},
    {0x80444B5E7AA7CF85, 907, 292},    {0xBF21E44003ACDD2D, 933, 300},
    {0x8E679C2F5E44FF8F, 960, 308},    {0xD433179D9C8CB841, 986, 316},
    {0x9E19DB92B4E31BA9, 1013, 324},
};

// The cached power c = 10^-k that brings a number of binary exponent e into [-60, -32].
CachedPower cached_power(int e) {
  constexpr int kAlpha = -60;
  const int f = kAlpha - e - 1;
  const int k = (f * 78913) / (1 << 18) + (f > 0 ? 1 : 0);  // ceil(f * log10(2))
  const int index = (300 + k + 7) / 8;
  return kCachedPowers[index];
}

void round_last_digit(char* buf, int len, uint64_t dist, uint64_t delta, uint64_t rest,
                      uint64_t ten_k) {
  // Move the last digit down while that brings the number closer to w and stays in range.
  while (rest < dist && delta - rest >= ten_k &&
         (rest + ten_k < dist || dist - rest > rest + ten_k - dist)) {
    --buf[len - 1];
    rest += ten_k;
  }
}

// Digits of a number in [low, high] as short as Grisu2 finds, closest to w.
void generate_digits(char* buf, int& len, int& decimal_exponent, DiyFp low, DiyFp w, DiyFp high) {
  uint64_t delta = high.f - low.f;
  uint64_t dist = high.f - w.f;
  const int shift = -high.e;
  const uint64_t one = uint64_t{1} << shift;
  auto p1 = static_cast<uint32_t>(high.f >> shift);
  uint64_t p2 = high.f & (one - 1);
  uint32_t pow10 = 1;
  int n = 1;
  while (n < 10 && p1 >= pow10 * 10) {
    pow10 *= 10;
    ++n;
  }
  while (n > 0) {
    buf[len++] = static_cast<char>('0' + p1 / pow10);
    p1 %= pow10;
    --n;
    uint64_t rest = (uint64_t{p1} << shift) + p2;
    if (rest <= delta) {
      decimal_exponent += n;
      round_last_digit(buf, len, dist, delta, rest, uint64_t{pow10} << shift);
      return;
    }
    pow10 /= 10;
  }
  int m = 0;
  for (;;) {
    p2 *= 10;
    buf[len++] = static_cast<char>('0' + (p2 >> shift));
    p2 &= one - 1;
    ++m;
    delta *= 10;
    dist *= 10;
    if (p2 <= delta) break;
  }
  decimal_exponent -= m;
  round_last_digit(buf, len, dist, delta, p2, one);
}

// v (finite, > 0) = digits * 10^decimal_exponent.
void shortest(double v, char* buf, int& len, int& decimal_exponent) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  const uint64_t kHidden = uint64_t{1} << 52;
  const uint64_t fraction = bits & (kHidden - 1);
  const auto biased = static_cast<int>(bits >> 52);
  const DiyFp value =
      biased == 0 ? DiyFp{fraction, 1 - 1075} : DiyFp{fraction + kHidden, biased - 1075};
  // The midpoints to the neighbouring doubles (the lower one is closer at a power of two).
  const bool lower_closer = fraction == 0 && biased > 1;
  const DiyFp plus = normalize({2 * value.f + 1, value.e - 1});
  DiyFp minus =
      lower_closer ? DiyFp{4 * value.f - 1, value.e - 2} : DiyFp{2 * value.f - 1, value.e - 1};
  minus = {minus.f << (minus.e - plus.e), plus.e};
  const DiyFp w = normalize(value);

  const CachedPower c = cached_power(plus.e);
  const DiyFp cp{c.f, c.e};
  const DiyFp sw = multiply(w, cp);
  const DiyFp sminus = multiply(minus, cp);
  const DiyFp splus = multiply(plus, cp);
  len = 0;
  decimal_exponent = -c.k;
  generate_digits(buf, len, decimal_exponent, {sminus.f + 1, sminus.e}, sw, {splus.f - 1, splus.e});
}

}  // namespace grisu

// nlohmann's float format: Grisu2's digits, written plainly when the decimal point falls in
// [-4, 15) digits ("1.0", "0.0001", "123.5"), otherwise as d.ddde+XX with at least two
// exponent digits ("1e-05", "1.5e+20").
void dump_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out.append("null");
    return;
  }
  if (std::signbit(x)) {
    out.push_back('-');
    x = -x;
  }
  if (x == 0) {
    out.append("0.0");
    return;
  }
  char digits[32];
  int len = 0;
  int decimal_exponent = 0;
  grisu::shortest(x, digits, len, decimal_exponent);
  const int k = len;
  const int n = len + decimal_exponent;  // the decimal point sits after n digits
  constexpr int kMinExp = -4;
  constexpr int kMaxExp = 15;
  if (k <= n && n <= kMaxExp) {
    out.append(digits, static_cast<size_t>(k));
    out.append(static_cast<size_t>(n - k), '0');
    out.append(".0");
  } else if (0 < n && n <= kMaxExp) {
    out.append(digits, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits + n, static_cast<size_t>(k - n));
  } else if (kMinExp < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, static_cast<size_t>(k));
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits + 1, static_cast<size_t>(k - 1));
    }
    out.push_back('e');
    int e = n - 1;
    out.push_back(e < 0 ? '-' : '+');
    unsigned u = static_cast<unsigned>(e < 0 ? -e : e);
    if (u >= 100) out.push_back(static_cast<char>('0' + u / 100));
    out.push_back(static_cast<char>('0' + u / 10 % 10));
    out.push_back(static_cast<char>('0' + u % 10));
  }
}

struct Dumper {
  std::string& out;
  int indent;
  char indent_char;
  bool ensure_ascii;

  void newline(int level) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * level), indent_char);
  }

  void member(std::string_view key, const Json& v, int level) {
    if (indent >= 0) newline(level + 1);
    dump_string(out, key, ensure_ascii);
    out.append(indent >= 0 ? ": " : ":");
    value(v, level + 1);
  }

  void value(const Json& j, int level) {
    switch (j.type()) {
      case Json::Type::kNull:
        out.append("null");
        return;
      case Json::Type::kDiscarded:
        out.append("<discarded>");
        return;
      case Json::Type::kBoolean:
        out.append(j.get_bool() ? "true" : "false");
        return;
      case Json::Type::kInteger:
        dump_integer(out, j.get_int64());
        return;
      case Json::Type::kUnsigned:
        dump_integer(out, j.get_uint64());
        return;
      case Json::Type::kFloat:
        dump_double(out, j.get_double());
        return;
      case Json::Type::kString:
        dump_string(out, j.string_ref(), ensure_ascii);
        return;
      case Json::Type::kArray: {
        const Json::Array& a = j.array_ref();
        if (a.empty()) {
          out.append("[]");
          return;
        }
        out.push_back('[');
        bool first = true;
        for (const Json& e : a) {
          if (!first) out.push_back(',');
          first = false;
          if (indent >= 0) newline(level + 1);
          value(e, level + 1);
        }
        if (indent >= 0) newline(level);
        out.push_back(']');
        return;
      }
      case Json::Type::kObject:
      case Json::Type::kOrderedObject: {
        if (j.empty()) {
          out.append("{}");
          return;
        }
        out.push_back('{');
        bool first = true;
        auto each = [&](const std::string& k, const Json& v) {
          if (!first) out.push_back(',');
          first = false;
          member(k, v, level);
        };
        if (j.type() == Json::Type::kObject) {
          for (const auto& [k, v] : j.object_ref()) each(k, v);
        } else {
          for (const auto& [k, v] : j.ordered_ref()) each(k, v);
        }
        if (indent >= 0) newline(level);
        out.push_back('}');
        return;
      }
    }
  }
};

}  // namespace

std::string Json::dump(int indent, char indent_char, bool ensure_ascii,
                       error_handler_t /*error_handler*/) const {
  std::string out;
  Dumper{out, indent, indent_char, ensure_ascii}.value(*this, 0);
  return out;
}

// ---- parse ----

namespace {

enum class ParseStatus : uint8_t { kOk, kInvalid, kTooDeep };

// Strict JSON as nlohmann's lexer and parser accept it, without recursion: open arrays and
// objects live on a fixed stack of kMaxJsonDepth entries.
class Parser {
 public:
  explicit Parser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  ParseStatus parse(Json& out) {
    // nlohmann skips a UTF-8 byte order mark (and refuses a partial one).
    if (p_ < end_ && static_cast<uint8_t>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<uint8_t>(p_[1]) != 0xBB ||
          static_cast<uint8_t>(p_[2]) != 0xBF) {
        return ParseStatus::kInvalid;
      }
      p_ += 3;
    }
    Json* stack[kMaxJsonDepth];
    uint32_t depth = 0;
    Json* target = &out;
    for (;;) {
      // A value into *target.
      skip_space();
      if (p_ >= end_) return ParseStatus::kInvalid;
      char c = *p_;
      bool opened = false;
      if (c == '{' || c == '[') {
        ++p_;
        if (depth == kMaxJsonDepth) return ParseStatus::kTooDeep;
        *target = c == '{' ? Json::object() : Json::array();
        skip_space();
        if (p_ < end_ && *p_ == (c == '{' ? '}' : ']')) {
          ++p_;
        } else {
          stack[depth++] = target;
          opened = true;
          if (c == '{') {
            target = member_slot(*target);
            if (!target) return ParseStatus::kInvalid;
          } else {
            Json::Array& a = target->array_ref();
            a.emplace_back();
            target = &a.back();
          }
        }
      } else if (!scalar(*target)) {
        return ParseStatus::kInvalid;
      }
      if (opened) continue;
      // After a value: close containers or move to the next element.
      for (;;) {
        if (depth == 0) {
          skip_space();
          return p_ == end_ ? ParseStatus::kOk : ParseStatus::kInvalid;
        }
        skip_space();
        if (p_ >= end_) return ParseStatus::kInvalid;
        Json* top = stack[depth - 1];
        char d = *p_++;
        if (d == ',') {
          if (top->is_object()) {
            skip_space();
            target = member_slot(*top);
            if (!target) return ParseStatus::kInvalid;
          } else {
            Json::Array& a = top->array_ref();
            a.emplace_back();
            target = &a.back();
          }
          break;
        }
        if (d != (top->is_object() ? '}' : ']')) return ParseStatus::kInvalid;
        --depth;
      }
    }
  }

 private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // Reads `"key":` (whitespace allowed around) and answers the member's slot, emptied.
  Json* member_slot(Json& object) {
    if (p_ >= end_ || *p_ != '"') return nullptr;
    ++p_;
    std::string key;
    if (!string_body(key)) return nullptr;
    skip_space();
    if (p_ >= end_ || *p_ != ':') return nullptr;
    ++p_;
    Json::Object& o = object.object_ref();
    auto [it, inserted] = o.try_emplace(std::move(key));
    if (!inserted) it->second = Json();  // a repeated key: the last one wins
    return &it->second;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool scalar(Json& out) {
    switch (*p_) {
      case '"': {
        ++p_;
        std::string s;
        if (!string_body(s)) return false;
        out = Json(std::move(s));
        return true;
      }
      case 't':
        out = true;
        return literal("true");
      case 'f':
        out = false;
        return literal("false");
      case 'n':
        out = nullptr;
        return literal("null");
      default:
        return number(out);
    }
  }

  bool hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int v = hex_digit_value(p_[i]);
      if (v < 0) return false;
      out = (out << 4) | static_cast<uint32_t>(v);
    }
    p_ += 4;
    return true;
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // The rest of a string after its opening quote: escapes decoded, control characters and
  // invalid UTF-8 refused.
  bool string_body(std::string& s) {
    for (;;) {
      const char* run = p_;
      while (run < end_) {
        auto c = static_cast<uint8_t>(*run);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      s.append(p_, static_cast<size_t>(run - p_));
      p_ = run;
      if (p_ >= end_) return false;
      auto c = static_cast<uint8_t>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        int len = utf8_valid_length(std::string_view(p_, static_cast<size_t>(end_ - p_)), 0);
        if (len <= 0) return false;
        s.append(p_, static_cast<size_t>(len));
        p_ += len;
        continue;
      }
      // A backslash.
      ++p_;
      if (p_ >= end_) return false;
      char e = *p_++;
      switch (e) {
        case '"':
          s.push_back('"');
          break;
        case '\\':
          s.push_back('\\');
          break;
        case '/':
          s.push_back('/');
          break;
        case 'b':
          s.push_back('\b');
          break;
        case 'f':
          s.push_back('\f');
          break;
        case 'n':
          s.push_back('\n');
          break;
        case 'r':
          s.push_back('\r');
          break;
        case 't':
          s.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(s, cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? as nlohmann reads it: an integer is
  // unsigned when it is not negative, signed when it is, and a double when it does not fit.
  bool number(Json& out) {
    const char* start = p_;
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ >= end_ || !is_digit(*p_)) return false;
    uint64_t mantissa = 0;
    int digits = 0;         // significant digits accumulated into mantissa
    int dropped = 0;        // integer digits past the 19th (not in mantissa)
    bool overflow = false;  // the integer part does not fit in uint64
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && is_digit(*p_)) {
        auto d = static_cast<uint64_t>(*p_ - '0');
        if (digits < 19) {
          mantissa = mantissa * 10 + d;
          ++digits;
        } else {
          if (!overflow && (mantissa > (UINT64_MAX - d) / 10)) overflow = true;
          if (!overflow) mantissa = mantissa * 10 + d;
          ++dropped;
          ++digits;
        }
        ++p_;
      }
    }
    bool is_float = false;
    int frac_digits = 0;
    if (p_ < end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      if (p_ >= end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) {
        if (digits < 19) {
          mantissa = mantissa * 10 + static_cast<uint64_t>(*p_ - '0');
          if (mantissa != 0) ++digits;
          ++frac_digits;
        } else {
          digits = 99;  // too many digits for the fast path
        }
        ++p_;
      }
    }
    int exponent = 0;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      bool exp_negative = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
        exp_negative = *p_ == '-';
        ++p_;
      }
      if (p_ >= end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) {
        if (exponent < 100000) exponent = exponent * 10 + (*p_ - '0');
        ++p_;
      }
      if (exp_negative) exponent = -exponent;
    }
    if (!is_float) {
      if (!overflow && dropped <= 1) {
        if (!negative) {
          out = static_cast<unsigned long long>(mantissa);
          return true;
        }
        if (mantissa <= static_cast<uint64_t>(INT64_MAX) + 1) {
          out = static_cast<long long>(mantissa == static_cast<uint64_t>(INT64_MAX) + 1
                                           ? INT64_MIN
                                           : -static_cast<int64_t>(mantissa));
          return true;
        }
      }
    } else if (digits <= 19 && dropped == 0 && mantissa < (uint64_t{1} << 53)) {
      // Exact in a double, and so is 10^|e| for |e| <= 22: one correctly rounded operation.
      static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                          1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      int e = exponent - frac_digits;
      if (e >= -22 && e <= 22) {
        double v = static_cast<double>(mantissa);
        v = e < 0 ? v / kPow10[-e] : v * kPow10[e];
        out = negative ? -v : v;
        return true;
      }
    }
    // Everything else (long mantissas, large exponents, integers past 64 bits): strtod.
    std::string text(start, static_cast<size_t>(p_ - start));
    double v = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(v)) return false;  // nlohmann refuses a number that overflows a double
    out = v;
    return true;
  }

  const char* p_;
  const char* end_;
};

ParseStatus parse_into(std::string_view text, Json& out) {
  ParseStatus status = Parser(text).parse(out);
  if (status != ParseStatus::kOk) out = Json();
  return status;
}

}  // namespace

Json Json::parse(std::string_view text, std::nullptr_t, bool) {
  Json out;
  if (parse_into(text, out) != ParseStatus::kOk) return Json(Type::kDiscarded);
  return out;
}

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

Result<Json> parse_json(std::string_view text) {
  Json j;
  if (parse_into(text, j) != ParseStatus::kOk) {
    // Deep text is refused as too deep even where it is also malformed (the parser stops at
    // the first of the two it meets; the bracket count decides).
    if (json_nesting_depth(text) > kMaxJsonDepth) {
      return Error{.code = "json_too_deep",
                   .message = "request body nests arrays and objects deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels",
                   .field = ""};
    }
    return Error{.code = "invalid_json", .message = "request body is not valid JSON", .field = ""};
  }
  return j;
}
Result<Json> parse_json_object(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed.ok()) return parsed;
  if (!parsed.value().is_object()) {
    return Error{.code = "invalid_json", .message = "expected a JSON object", .field = ""};
  }
  return parsed;
}

FieldReader::FieldReader(const Json& object, std::string prefix, FieldReaderOptions options)
    : object_(object), prefix_(std::move(prefix)), options_(options) {}

std::string FieldReader::qualified(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

void FieldReader::fail(std::string_view name, std::string message) {
  std::string field = qualified(name);
  if (options_.problems == FieldProblems::kEvery) {
    for (const FieldProblem& p : problems_) {
      if (p.field == field) return;  // one problem per field is enough
    }
    problems_.push_back({field, field + " " + message});
    return;
  }
  if (!error_) {
    error_ =
        Error{.code = std::string(options_.code), .message = field + " " + message, .field = field};
  }
}

const Json* FieldReader::find(std::string_view name) {
  seen_.emplace(name);
  if (error_ || !object_.is_object()) return nullptr;
  auto it = object_.find(std::string(name));
  if (it == object_.end()) return nullptr;
  if (options_.nulls == FieldNulls::kAbsent && it->is_null()) return nullptr;
  return &*it;
}

const Json* FieldReader::read_json(std::string_view name) { return find(name); }

namespace {

// An integer, or a float without fraction below 2^53, as int64.
std::optional<int64_t> whole_value(const Json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace

void FieldReader::read_whole(std::string_view name, int64_t& out, std::string_view what) {
  const Json* v = find(name);
  if (!v) return;
  auto n = whole_value(*v);
  if (!n) {
    fail(name, "must be " + std::string(what));
    return;
  }
  out = *n;
}

void FieldReader::read_int(std::string_view name, int64_t& out, int64_t min, int64_t max) {
  const Json* v = find(name);
  if (!v) return;
  auto n = whole_value(*v);
  if (!n || *n < min || *n > max) {
    fail(name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return;
  }
  out = *n;
}

void FieldReader::read_query_int(std::string_view name, int64_t& out, int64_t min, int64_t max) {
  const Json* v = find(name);
  if (!v) return;
  std::string_view text = v->is_string() ? std::string_view(v->string_ref()) : std::string_view();
  bool digits = !text.empty() && text.size() <= 16 &&
                text.find_first_not_of("0123456789") == std::string_view::npos;
  int64_t n = 0;
  for (char ch : digits ? text : std::string_view()) n = n * 10 + (ch - '0');
  if (!digits || n < min || n > max) {
    fail(name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return;
  }
  out = n;
}

void FieldReader::read_time(std::string_view name, TimePoint& out) {
  std::optional<TimePoint> t;
  const Json* v = find(name);
  if (!v) return;
  if (v->is_null()) {
    fail(name, "must be a time in epoch milliseconds");
    return;
  }
  read_time(name, t);
  if (t) out = *t;
}

void FieldReader::read_time(std::string_view name, std::optional<TimePoint>& out) {
  const Json* v = find(name);
  if (!v) return;
  if (v->is_null()) {
    out.reset();
    return;
  }
  auto ms = whole_value(*v);
  if (!ms || *ms < -kMaxEpochMs || *ms > kMaxEpochMs) {
    fail(name, "must be a time in epoch milliseconds");
    return;
  }
  out = from_epoch_ms(*ms);
}

void FieldReader::read_optional_string(std::string_view name, std::optional<std::string>& out,
                                       size_t max_bytes) {
  const Json* v = find(name);
  if (!v) return;
  if (v->is_null()) {
    out.reset();
    return;
  }
  if (!v->is_string() || v->string_ref().size() > max_bytes) {
    fail(name, max_bytes == SIZE_MAX
                   ? std::string("must be a string")
                   : "must be a string of at most " + std::to_string(max_bytes) + " bytes");
    return;
  }
  out = v->get<std::string>();
}

void FieldReader::read_strings(std::string_view name, std::vector<std::string>& out,
                               size_t max_items) {
  const Json* v = find(name);
  if (!v) return;
  if (!v->is_array() || v->size() > max_items) {
    fail(name, "must be a list of at most " + std::to_string(max_items) + " strings");
    return;
  }
  std::vector<std::string> items;
  items.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(name, "must hold only strings");
      return;
    }
    items.push_back((*v)[i].get<std::string>());
  }
  out = std::move(items);
}

bool FieldReader::has(std::string_view name) { return find(name) != nullptr; }

void FieldReader::require(std::string_view name) {
  if (!find(name) && object_.is_object()) fail(name, "is required");
}

void FieldReader::read_uint(std::string_view name, uint32_t& out, uint64_t min, uint64_t max) {
  const Json* v = find(name);
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
  const Json* v = find(name);
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
  const Json* v = find(name);
  if (!v) return;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    fail(name, "must be a number");
    return;
  }
  double value = v->get<double>();
  bool below = min_exclusive ? value <= min : value < min;
  if (below || value > max) {
    Json lo = min, hi = max;
    fail(name, std::string("must be ") + (min_exclusive ? "greater than " : "at least ") +
                   lo.dump() + " and at most " + hi.dump());
    return;
  }
  out = value;
}

void FieldReader::read_string(std::string_view name, std::string& out) {
  const Json* v = find(name);
  if (!v) return;
  if (!v->is_string()) {
    fail(name, "must be a string");
    return;
  }
  out = v->get<std::string>();
}

void FieldReader::read_bool(std::string_view name, bool& out) {
  const Json* v = find(name);
  if (!v) return;
  if (!v->is_boolean()) {
    fail(name, "must be true or false");
    return;
  }
  out = v->get<bool>();
}

std::optional<Error> FieldReader::finish() {
  if (error_) return error_;
  std::string code(options_.code);
  if (!object_.is_object()) {
    return Error{.code = code,
                 .message = (prefix_.empty() ? "input" : prefix_) + " must be an object",
                 .field = prefix_};
  }
  for (const auto& item : object_.items()) {
    if (options_.unknowns == FieldUnknowns::kRefused && !seen_.contains(item.key())) {
      return Error{.code = code,
                   .message = qualified(item.key()) + " is not a known field",
                   .field = qualified(item.key())};
    }
  }
  if (!problems_.empty()) {
    return Error{.code = code,
                 .message = problems_[0].message,
                 .field = problems_[0].field,
                 .problems = problems_};
  }
  return std::nullopt;
}

std::vector<FieldProblem> FieldReader::finish_problems() {
  std::vector<FieldProblem> out;
  if (!object_.is_object()) {
    std::string what = prefix_.empty() ? "input" : prefix_;
    out.push_back({prefix_, what + " must be an object"});
  } else {
    for (const auto& item : object_.items()) {
      std::string field = qualified(item.key());
      if (!seen_.contains(item.key())) out.push_back({field, field + " is not a known field"});
    }
  }
  if (error_) out.push_back({error_->field, error_->message});
  for (FieldProblem& p : problems_) {
    bool named = false;
    for (const FieldProblem& q : out) named = named || q.field == p.field;
    if (!named) out.push_back(std::move(p));
  }
  problems_.clear();
  return out;
}

}  // namespace r2w
