// Character classes of HTTP/1.1 (RFC 9110 section 5.6, RFC 9112), as 256-entry tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

}  // namespace fasterapi::http1::chars
