// Compact JSON text (RFC 8259) into a growable buffer: the value-level writing of dumps(), with no
// Python in it. The caller walks its objects and calls put_*; strings come in as UTF-8 or as the
// fixed-width code units a Python str stores (1, 2 or 4 bytes each), so no str is ever re-encoded
// into a temporary first.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <system_error>
#include <utility>

namespace fasterapi::server::json {

// Nesting limit for both directions: simdjson's default, far beyond real documents, and shallow
// enough that the recursive reader and writer never come near the end of a thread's stack.
inline constexpr std::size_t kMaxDepth = 1024;

namespace detail {

// RFC 8259 section 7: '"', '\' and U+0000..U+001F must be escaped; nothing else is. Entry 0 means
// "copy as is", 'u' means \u00XX, any other letter is the short form \<letter>. The same set and the
// same lowercase hex as the stdlib's encoder with ensure_ascii=False (so U+007F is not escaped).
struct EscapeTable {
  char entry[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) entry[c] = 'u';
    entry[static_cast<unsigned char>('\b')] = 'b';
    entry[static_cast<unsigned char>('\f')] = 'f';
    entry[static_cast<unsigned char>('\n')] = 'n';
    entry[static_cast<unsigned char>('\r')] = 'r';
    entry[static_cast<unsigned char>('\t')] = 't';
    entry[static_cast<unsigned char>('"')] = '"';
    entry[static_cast<unsigned char>('\\')] = '\\';
  }
};
inline constexpr EscapeTable kEscape{};

}  // namespace detail

class Writer {
 public:
  Writer() noexcept = default;
  // Writes into `heap` (from malloc, `capacity` bytes; the Writer now owns it) once the inline
  // buffer is outgrown: a caller that keeps a buffer between documents spares the page faults and
  // regrowth of a fresh one for every large document.
  Writer(char* heap, std::size_t capacity) noexcept {
    if (heap && capacity > kInline) {
      data_ = heap;
      cap_ = capacity;
    } else {
      std::free(heap);
    }
  }
  ~Writer() {
    if (data_ != inline_) std::free(data_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // The heap buffer and its capacity, given up to the caller (null if none); the Writer is empty after.
  std::pair<char*, std::size_t> release() noexcept {
    std::pair<char*, std::size_t> out{data_ == inline_ ? nullptr : data_, data_ == inline_ ? 0 : cap_};
    data_ = inline_;
    cap_ = kInline;
    size_ = 0;
    return out;
  }

  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  // Room for `extra` more bytes; throws std::bad_alloc (the binding turns it into MemoryError).
  void reserve(std::size_t extra) {
    if (cap_ - size_ >= extra) return;
    std::size_t cap = cap_ * 2;
    while (cap - size_ < extra) cap *= 2;
    char* grown = static_cast<char*>(data_ == inline_ ? std::malloc(cap) : std::realloc(data_, cap));
    if (!grown) throw std::bad_alloc();
    if (data_ == inline_) std::memcpy(grown, inline_, size_);
    data_ = grown;
    cap_ = cap;
  }

  void put(char c) {
    reserve(1);
    data_[size_++] = c;
  }
  void put(std::string_view s) {
    reserve(s.size());
    std::memcpy(data_ + size_, s.data(), s.size());
    size_ += s.size();
  }
  void put_null() { put(std::string_view("null")); }
  void put_bool(bool b) { put(b ? std::string_view("true") : std::string_view("false")); }

  template <class Int>
  void put_int(Int v) {
    reserve(24);
    size_ = static_cast<std::size_t>(std::to_chars(data_ + size_, data_ + size_ + 24, v).ptr - data_);
  }

  // A float as Python's repr() writes it (and so json.dumps): the shortest digits that round-trip,
  // positional for exponents -4..15 with at least one digit after the point, otherwise d.ddde+XX.
  // false for NaN and the infinities, which JSON cannot represent.
  bool put_double(double v) {
    if (!std::isfinite(v)) return false;
    if (put_short_decimal(v)) return true;
    // to_chars gives the same shortest round-trip digits as CPython's dtoa mode 0; only the layout
    // differs, so take its scientific form apart and lay it out the way repr() does.
    char sci[40];
    const char* end = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific).ptr;
    const char* p = sci;
    reserve(40);
    char* out = data_ + size_;
    if (*p == '-') *out++ = *p++;
    char digits[20];
    int n = 0;
    for (; p < end && *p != 'e'; ++p)
      if (*p != '.') digits[n++] = *p;
    int exp = 0;
    std::from_chars(p + 1 + (p[1] == '+'), end, exp);  // p points at 'e'
    if (exp >= -4 && exp < 16) {
      if (exp >= 0) {
        for (int i = 0; i <= exp; ++i) *out++ = i < n ? digits[i] : '0';
        *out++ = '.';
        if (n > exp + 1) {
          for (int i = exp + 1; i < n; ++i) *out++ = digits[i];
        } else {
          *out++ = '0';
        }
      } else {
        *out++ = '0';
        *out++ = '.';
        for (int i = 0; i < -exp - 1; ++i) *out++ = '0';
        for (int i = 0; i < n; ++i) *out++ = digits[i];
      }
    } else {
      *out++ = digits[0];
      if (n > 1) {
        *out++ = '.';
        for (int i = 1; i < n; ++i) *out++ = digits[i];
      }
      *out++ = 'e';
      *out++ = exp < 0 ? '-' : '+';
      const int a = exp < 0 ? -exp : exp;
      if (a < 10) *out++ = '0';
      out = std::to_chars(out, out + 4, a).ptr;
    }
    size_ = static_cast<std::size_t>(out - data_);
    return true;
  }

  // The fast path of put_double for the floats APIs mostly carry (prices, coordinates, 0.5, 100.0):
  // v is m / 10^k for an integer m below 10^15 and k <= 8. The check m / 10^k == v is exact
  // (m and 10^k are exact doubles, so it is one correctly rounded division: how the text "m e-k"
  // parses), so that text round-trips; and it is the shortest that does, since two different
  // decimals of at most 15 digits (DBL_DIG) never round to the same double. That is repr()'s
  // choice of digits; the layout is positional because 1e-4 <= |v| < 1e15.
  bool put_short_decimal(double v) {
    static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    static constexpr std::uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    const double a = std::fabs(v);
    if (!(a < 1e15) || (a < 1e-4 && a != 0)) return false;
    for (int k = 0; k < 9; ++k) {
      const double m = a * kPow10[k];
      if (m >= 1e15) return false;
      if (m != std::floor(m) || m / kPow10[k] != a) continue;
      // m can end in zeros: a * 10^k is rounded, so a smaller k may have missed (0.07 * 100 is
      // 7.000000000000001). The same number with the zeros dropped is the one repr() writes.
      auto digits = static_cast<std::uint64_t>(m);
      while (k > 0 && digits % 10 == 0) {
        digits /= 10;
        --k;
      }
      reserve(40);
      char* out = data_ + size_;
      if (std::signbit(v)) *out++ = '-';
      out = std::to_chars(out, out + 20, digits / kPow10Int[k]).ptr;
      *out++ = '.';
      if (k == 0) {
        *out++ = '0';
      } else {
        std::uint64_t frac = digits % kPow10Int[k];
        for (int i = k - 1; i >= 0; --i, frac /= 10) out[i] = static_cast<char>('0' + frac % 10);
        out += k;
      }
      size_ = static_cast<std::size_t>(out - data_);
      return true;
    }
    return false;
  }

  // A JSON string from valid UTF-8 (or ASCII): quotes, escapes, everything else copied, eight
  // bytes at a time while none of them needs escaping (the common case by far). A tail of fewer
  // than eight bytes is checked as one word too: the last eight bytes of the string (rewriting a
  // few already copied, identical, bytes).
  void put_string_utf8(const char* s, std::size_t n) {
    reserve(n + 2);
    char* out = data_ + size_;
    *out++ = '"';
    std::size_t i = 0;
    while (i < n) {
      std::uint64_t w;
      if (i + 8 <= n) {
        std::memcpy(&w, s + i, 8);
        if (!needs_escape(w)) {
          std::memcpy(out, &w, 8);
          out += 8;
          i += 8;
          continue;
        }
      } else if (n >= 8) {
        std::memcpy(&w, s + n - 8, 8);
        if (!needs_escape(w)) {  // s[n-8, i) was clean too, so it was copied as is: same bytes
          std::memcpy(out - (i - (n - 8)), &w, 8);
          out += n - i;
          break;
        }
      }
      // Strings under 8 bytes go byte by byte: gathering them into a word costs a variable-length
      // copy and a stalled load (measured slower).
      const unsigned char c = static_cast<unsigned char>(s[i++]);
      const char e = detail::kEscape.entry[c];
      if (e == 0) {
        *out++ = static_cast<char>(c);
        continue;
      }
      size_ = static_cast<std::size_t>(out - data_);
      put_escape(e, c);
      reserve(n - i + 1);  // put_escape may have moved the buffer
      out = data_ + size_;
    }
    *out++ = '"';
    size_ = static_cast<std::size_t>(out - data_);
  }

  // A JSON string from code points stored one per Unit (a Python str's 1-, 2- or 4-byte form),
  // written as UTF-8. false on a surrogate code point, which UTF-8 cannot carry (RFC 3629 section 3).
  template <class Unit>
  bool put_string_units(const Unit* s, std::size_t n) {
    reserve(n * (sizeof(Unit) == 1 ? 2 : sizeof(Unit) == 2 ? 3 : 4) + 2);
    char* out = data_ + size_;
    *out++ = '"';
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t c = s[i];
      if (c < 0x80) {
        const char e = detail::kEscape.entry[c];
        if (e == 0) [[likely]] {
          *out++ = static_cast<char>(c);
          continue;
        }
        size_ = static_cast<std::size_t>(out - data_);
        put_escape(e, static_cast<unsigned char>(c));
        reserve((n - i) * 4 + 1);  // put_escape may have moved the buffer
        out = data_ + size_;
      } else if (c < 0x800) {
        *out++ = static_cast<char>(0xC0 | (c >> 6));
        *out++ = static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        if (c >= 0xD800 && c <= 0xDFFF) {
          size_ = static_cast<std::size_t>(out - data_);
          return false;
        }
        *out++ = static_cast<char>(0xE0 | (c >> 12));
        *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        *out++ = static_cast<char>(0x80 | (c & 0x3F));
      } else {
        *out++ = static_cast<char>(0xF0 | (c >> 18));
        *out++ = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        *out++ = static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    *out++ = '"';
    size_ = static_cast<std::size_t>(out - data_);
    return true;
  }

 private:
  void put_escape(char e, unsigned char c) {
    reserve(6);
    data_[size_++] = '\\';
    if (e != 'u') {
      data_[size_++] = e;
      return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    data_[size_++] = 'u';
    data_[size_++] = '0';
    data_[size_++] = '0';
    data_[size_++] = kHex[c >> 4];
    data_[size_++] = kHex[c & 0xF];
  }

  // Whether any of the 8 bytes is a control character, '"' or '\\' (bit tricks from "Bit Twiddling
  // Hacks": a byte below 0x20, or a zero byte after xor with the character; exact as a yes/no).
  static constexpr bool needs_escape(std::uint64_t w) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    const std::uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
    return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
  }

  // Most documents of an API (a response body) fit here and never touch the heap until the copy
  // into the result.
  static constexpr std::size_t kInline = 4096;
  char inline_[kInline];
  char* data_ = inline_;
  std::size_t size_ = 0;
  std::size_t cap_ = kInline;
};

}  // namespace fasterapi::server::json
