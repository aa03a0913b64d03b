// JSON text (RFC 8259) -> a tree of the caller's values, through simdjson's DOM parser: no Python
// in it. simdjson validates everything first (UTF-8, structure, numbers, escapes, depth), so a
// Builder only ever sees a valid document and can never be left holding half of an invalid one.
//
// Why the DOM API and not On-Demand: the whole document becomes objects anyway, so On-Demand's lazy
// parsing saves nothing, while the DOM's full validation up front is what strictness needs
// (On-Demand reports some errors only when a value is reached, and not at all for skipped ones).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fasterapi/server/json/writer.hpp"  // kMaxDepth

namespace fasterapi::server::json {

// A Builder makes values of type B::Value (null-like on failure) and stops the walk on the first
// failure (out of memory, in practice):
//   Value null(); Value boolean(bool); Value int64(int64_t); Value uint64(uint64_t);
//   Value float64(double); Value string(std::string_view); Value key(std::string_view);
//   Value array(std::size_t n); bool set_item(Value array, std::size_t i, Value item);  // takes item
//   Value object(std::size_t n); bool set_field(Value object, Value key, Value item);  // takes key and item
//   void discard(Value); void too_deep();  // more than kMaxDepth arrays and objects
// `depth` counts the arrays and objects around e.
template <class Builder>
typename Builder::Value build(simdjson::dom::element e, Builder& b, std::size_t depth = 0) {
  using simdjson::dom::element_type;
  using Value = typename Builder::Value;
  const element_type type = e.type();
  if ((type == element_type::ARRAY || type == element_type::OBJECT) && depth == kMaxDepth) [[unlikely]] {
    b.too_deep();
    return Value{};
  }
  switch (type) {
    case element_type::ARRAY: {
      const simdjson::dom::array arr = e.get_array().value_unsafe();
      Value out = b.array(arr.size());
      if (!out) return out;
      std::size_t i = 0;
      for (simdjson::dom::element child : arr) {
        if (!b.set_item(out, i++, build(child, b, depth + 1))) {
          b.discard(out);
          return Value{};
        }
      }
      return out;
    }
    case element_type::OBJECT: {
      // Named: a range-for over the result's value would outlive the simdjson_result holding it.
      const simdjson::dom::object obj = e.get_object().value_unsafe();
      Value out = b.object(obj.size());
      if (!out) return out;
      for (simdjson::dom::key_value_pair field : obj) {
        Value key = b.key(field.key);
        if (!b.set_field(out, key, key ? build(field.value, b, depth + 1) : Value{})) {
          b.discard(out);
          return Value{};
        }
      }
      return out;
    }
    case element_type::STRING:
      return b.string(e.get_string().value_unsafe());
    case element_type::INT64:
      return b.int64(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return b.uint64(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return b.float64(e.get_double().value_unsafe());
    case element_type::BOOL:
      return b.boolean(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return b.null();
  }
  return Value{};
}

// Decoding the strings simdjson has validated and unescaped (so: valid UTF-8, no surrogates) into
// the fixed-width form a caller stores them in (a Python str's 1, 2 or 4 bytes per code point),
// in two passes: measure, then decode with no checks.
struct Utf8Shape {
  std::size_t length = 0;       // code points
  std::uint32_t max_char = 0;   // an upper bound of the same width class as the largest code point
};

inline Utf8Shape utf8_shape(std::string_view s) noexcept {
  std::size_t continuation = 0;
  unsigned char top = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    continuation += (c & 0xC0) == 0x80;
    if (c > top) top = c;
  }
  // The largest lead byte says the width class: U+0080..U+00FF start with C2 or C3, up to U+FFFF
  // with at most EF, beyond with F0..F4. (Continuation bytes, 80..BF, sort below every lead.)
  const std::uint32_t max_char = top < 0x80 ? 0x7F : top < 0xC4 ? 0xFF : top < 0xF0 ? 0xFFFF : 0x10FFFF;
  return {s.size() - continuation, max_char};
}

template <class Unit>
void utf8_decode(std::string_view s, Unit* out) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const std::uint32_t c = *p;
    if (c < 0x80) {
      *out++ = static_cast<Unit>(c);
      p += 1;
    } else if (c < 0xE0) {
      *out++ = static_cast<Unit>(((c & 0x1F) << 6) | (p[1] & 0x3F));
      p += 2;
    } else if (c < 0xF0) {
      *out++ = static_cast<Unit>(((c & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3F));
      p += 3;
    } else {
      *out++ = static_cast<Unit>(((c & 0x07) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3F));
      p += 4;
    }
  }
}

// A parser whose own depth limit lets build() enforce kMaxDepth: simdjson counts a scalar inside the
// innermost container as one more level, so 1024 nested arrays around a number need 1025.
inline simdjson::error_code prepare(simdjson::dom::parser& parser, std::size_t capacity) noexcept {
  return parser.allocate(capacity < 4096 ? 4096 : capacity, kMaxDepth + 1);
}

// What went wrong, in words for a person; simdjson's own messages name its internals ("tape").
inline std::string_view describe(simdjson::error_code code) noexcept {
  switch (code) {
    case simdjson::TAPE_ERROR:
      return "invalid JSON";  // the caller's locator adds what and where
    case simdjson::DEPTH_ERROR:
      return "invalid JSON: nesting deeper than 1024 arrays and objects";
    case simdjson::STRING_ERROR:
      return "invalid JSON string: bad escape sequence or lone surrogate";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "invalid JSON literal (true, false and null are the only ones)";
    case simdjson::NUMBER_ERROR:
      return "invalid JSON number";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::EMPTY:
      return "no JSON value (empty or only whitespace)";
    case simdjson::UNESCAPED_CHARS:
      return "invalid JSON string: unescaped control character";
    case simdjson::UNCLOSED_STRING:
      return "invalid JSON string: no closing quote";
    case simdjson::CAPACITY:
      return "JSON document too large (4 GiB at most)";
    case simdjson::MEMALLOC:
      return "out of memory parsing JSON";
    default:
      return simdjson::error_message(code);
  }
}

}  // namespace fasterapi::server::json
