// Character classes of HTTP/1.1 (RFC 9110 section 5.6, RFC 9112), as 256-entry tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace fasterapi::http1::chars {

enum : std::uint8_t {
  kTchar = 1,      // token characters: "!#$%&'*+-.^_`|~", DIGIT, ALPHA
  kFieldVchar = 2, // field-value characters: VCHAR / obs-text (0x80-0xFF), and SP / HTAB
  kTarget = 4,     // request-target characters: visible ASCII (RFC 3986 characters and more)
  kHex = 8,
  kDigit = 16,
  kReason = 32,    // reason-phrase: HTAB / SP / VCHAR / obs-text
};

inline constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) v |= kTchar;
    switch (c) {
      case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
      case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        v |= kTchar;
        break;
      default:
        break;
    }
    const bool vchar = c >= 0x21 && c <= 0x7E;
    if (vchar || c >= 0x80 || c == ' ' || c == '\t') v |= kFieldVchar | kReason;
    if (vchar) v |= kTarget;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    if (digit) v |= kDigit;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kTable = make_table();

inline constexpr bool is(unsigned char c, std::uint8_t cls) noexcept { return (kTable[c] & cls) != 0; }
inline constexpr bool is_tchar(unsigned char c) noexcept { return is(c, kTchar); }
inline constexpr bool is_digit(unsigned char c) noexcept { return is(c, kDigit); }
inline constexpr bool is_hex(unsigned char c) noexcept { return is(c, kHex); }
inline constexpr int hex_value(unsigned char c) noexcept {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
inline constexpr unsigned char lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

// ASCII case-insensitive comparison with a lowercase literal.
inline constexpr bool iequals(std::string_view s, std::string_view lower_literal) noexcept {
  if (s.size() != lower_literal.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (lower(static_cast<unsigned char>(s[i])) != static_cast<unsigned char>(lower_literal[i])) return false;
  }
  return true;
}

// The same comparison, eight bytes at a time, for bytes a parser has already checked (tokens and
// field values): OR-ing 0x20 folds A-Z onto a-z, and no such byte but those folds onto a letter, a
// digit or '-' (only controls would, and they are refused first). The literal must be lowercase
// letters, digits and '-'.
inline bool iequals_checked(std::string_view s, std::string_view lower_literal) noexcept {
  const std::size_t n = s.size();
  if (n != lower_literal.size()) return false;
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) {
      if ((static_cast<unsigned char>(s[i]) | 0x20) != static_cast<unsigned char>(lower_literal[i])) return false;
    }
    return true;
  }
  constexpr std::uint64_t kFold = 0x2020202020202020ull;
  const auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    if ((word(s.data() + i) | kFold) != word(lower_literal.data() + i)) return false;
  }
  return (word(s.data() + n - 8) | kFold) == word(lower_literal.data() + n - 8);  // the last 8, overlapping
}

}  // namespace fasterapi::http1::chars
