// Byte-level text helpers of the router: percent-decoding (RFC 3986 section 2.1),
// UTF-8 validation (RFC 3629 section 4) and the character classes of the converters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fasterapi::router::text {

inline constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }

inline constexpr int hex_value(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline constexpr bool is_hex(unsigned char c) noexcept { return hex_value(c) >= 0; }

// True when every byte is ASCII and none is '%': such a path needs no decoding and is valid UTF-8.
inline bool is_plain(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kPercent = kOnes * static_cast<unsigned char>('%');
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    const std::uint64_t x = w ^ kPercent;  // a zero byte where w has '%'
    if (((w | ((x - kOnes) & ~x)) & kHigh) != 0) return false;
    p += 8;
    n -= 8;
  }
  for (; n != 0; ++p, --n) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80 || c == '%') return false;
  }
  return true;
}

// Appends the percent-decoding of `in` to `out`. An escape that is not '%' followed by two
// hex digits is kept as it is, as urllib.parse.unquote does; '+' is not special in a path.
inline void percent_decode_append(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%' && i + 2 < n && is_hex(static_cast<unsigned char>(in[i + 1])) &&
        is_hex(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(hex_value(static_cast<unsigned char>(in[i + 1])) * 16 +
                                      hex_value(static_cast<unsigned char>(in[i + 2]))));
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// RFC 3629: shortest forms only, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
inline bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
    }
    p += len;
  }
  return true;
}

// RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//                                   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
inline constexpr bool is_tchar(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

inline bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace fasterapi::router::text
