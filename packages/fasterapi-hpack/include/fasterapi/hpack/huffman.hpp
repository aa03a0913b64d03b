// The HPACK Huffman code, RFC 7541 section 5.2 and Appendix B, usable on its own (QPACK uses the
// same code, RFC 9204 section 4.1.2).
//
// Theory of operation. The code is canonical, so the codes come from the lengths in
// huffman_table.hpp: the codes of one length are consecutive numbers, and the first code of length
// L + 1 is (first code of length L + their count) << 1.
// Decoding keeps the next input bits left-aligned in a 64-bit buffer, refilled 7 octets at a time,
// and looks the next kLookupBits bits up in a 4096-entry table built at compile time: the one or two
// symbols whose codes fit in them (the shortest code is 5 bits), with their lengths. A code longer
// than kLookupBits (rare in text: control characters, octets above 0x7f, a few ASCII symbols) is
// found by the canonical rule: the first length L whose L-bit prefix is below the end of the codes
// of length L. EOS decoded is an error; at the end, what is left must be at most 7 bits, all ones
// (5.2). Encoding adds two symbols' codes at a time to a left-aligned 64-bit accumulator and stores
// its 8 octets big-endian, advancing by the completed octets (a branch-free bit writer).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "errors.hpp"
#include "huffman_table.hpp"

namespace fasterapi::hpack::huffman {

inline constexpr int kEos = 256;
// Padding is at most 7 bits (5.2): a string ending deeper on the all-ones path is an error.
inline constexpr int kMaxPaddingBits = 7;

namespace detail {

struct Codes {
  std::array<std::uint32_t, 257> code{};
};

constexpr Codes make_codes() {
  Codes c;
  std::array<int, 257> order{};
  for (int i = 0; i < 257; ++i) order[static_cast<std::size_t>(i)] = i;
  // Insertion sort by (length, symbol): 257 elements, at compile time.
  for (int i = 1; i < 257; ++i) {
    const int s = order[static_cast<std::size_t>(i)];
    int j = i - 1;
    while (j >= 0 && kCodeLengths[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])] >
                         kCodeLengths[static_cast<std::size_t>(s)]) {
      order[static_cast<std::size_t>(j + 1)] = order[static_cast<std::size_t>(j)];
      --j;
    }
    order[static_cast<std::size_t>(j + 1)] = s;
  }
  std::uint32_t code = 0;
  int previous = kCodeLengths[static_cast<std::size_t>(order[0])];
  for (int i = 0; i < 257; ++i) {
    const int s = order[static_cast<std::size_t>(i)];
    const int len = kCodeLengths[static_cast<std::size_t>(s)];
    if (i) code = (code + 1) << (len - previous);
    previous = len;
    c.code[static_cast<std::size_t>(s)] = code;
  }
  return c;
}

inline constexpr Codes kCodes = make_codes();

// The canonical code by length: codes of length L are first[L] .. first[L] + count[L] - 1, and the
// k-th of them is the symbol sorted[offset[L] + k].
struct Canonical {
  std::array<std::uint32_t, 32> first{};
  std::array<std::uint32_t, 32> count{};
  std::array<std::uint32_t, 32> offset{};
  std::array<std::uint16_t, 257> sorted{};
};

constexpr Canonical make_canonical() {
  Canonical c;
  std::uint32_t k = 0;
  for (std::uint32_t len = 1; len < 32; ++len) {
    c.offset[len] = k;
    for (int s = 0; s < 257; ++s) {
      if (kCodeLengths[static_cast<std::size_t>(s)] != len) continue;
      if (c.count[len] == 0) c.first[len] = kCodes.code[static_cast<std::size_t>(s)];
      ++c.count[len];
      c.sorted[k++] = static_cast<std::uint16_t>(s);
    }
  }
  return c;
}

inline constexpr Canonical kCanonical = make_canonical();
inline constexpr int kMinCodeLength = 5;
inline constexpr int kMaxCodeLength = 30;

// The symbol whose code begins the left-aligned 32 bits `x`, and its length (the length is
// kMaxCodeLength + 1 if none does, which the complete HPACK code never gives).
struct Found {
  int symbol;
  unsigned length;
};
constexpr Found find_code(std::uint32_t x, unsigned min_length) noexcept {
  for (unsigned len = min_length; len <= static_cast<unsigned>(kMaxCodeLength); ++len) {
    const std::uint32_t k = (x >> (32 - len)) - kCanonical.first[len];
    if (k < kCanonical.count[len]) return {kCanonical.sorted[kCanonical.offset[len] + k], len};
  }
  return {-1, kMaxCodeLength + 1};
}

// Decoding table: indexed by the next kLookupBits bits. An entry: bits 0-7 the bits its symbols take
// (0: the first code is longer than kLookupBits), 8-15 the first symbol, 16-23 the second, 24-27 the
// bits the first takes, 28 set if there is a second symbol. The length sits in the low bits so that
// the buffer can be shifted by the entry itself.
inline constexpr unsigned kLookupBits = 12;

constexpr std::array<std::uint32_t, 1u << kLookupBits> make_decode_table() {
  std::array<std::uint32_t, 1u << kLookupBits> t{};
  for (std::uint32_t i = 0; i < (1u << kLookupBits); ++i) {
    const std::uint32_t x = i << (32 - kLookupBits);
    const Found a = find_code(x, kMinCodeLength);
    if (a.length > kLookupBits) continue;  // 0: slow path (EOS is 30 bits: never here)
    std::uint32_t e = a.length | (static_cast<std::uint32_t>(a.symbol) << 8) | (a.length << 24);
    const Found b = find_code(x << a.length, kMinCodeLength);
    if (a.length + b.length <= kLookupBits) {
      e = (a.length + b.length) | (static_cast<std::uint32_t>(a.symbol) << 8) |
          (static_cast<std::uint32_t>(b.symbol) << 16) | (a.length << 24) | (1u << 28);
    }
    t[i] = e;
  }
  return t;
}

inline constexpr std::array<std::uint32_t, 1u << kLookupBits> kDecodeTable = make_decode_table();

inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap64(w);
#else
  std::uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | p[i];
  return r;
#endif
}

inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
#else
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
#endif
}

}  // namespace detail

// The code of a symbol, right-aligned, and its length in bits.
constexpr std::uint32_t code_of(int symbol) noexcept { return detail::kCodes.code[static_cast<std::size_t>(symbol)]; }
constexpr int code_length(int symbol) noexcept { return kCodeLengths[static_cast<std::size_t>(symbol)]; }

// The encoded length of `s` in octets.
inline std::size_t encoded_length(std::string_view s) noexcept {
  std::size_t bits = 0;
  for (const char c : s) bits += kCodeLengths[static_cast<std::uint8_t>(c)];
  return (bits + 7) / 8;
}

// The octets an encoder may write past the code's end (encode_with_slack).
inline constexpr std::size_t kEncodeSlack = 8;

namespace detail {

// Writes the code of s[i..] from the accumulator state (acc: `bits` < 8 pending bits, left-aligned)
// one octet at a time: exactly the code's octets.
inline std::uint8_t* encode_tail(const std::uint8_t* p, const std::uint8_t* end, std::uint8_t* dst,
                                 std::uint64_t acc, unsigned bits) noexcept {
  for (; p < end; ++p) {
    const unsigned len = kCodeLengths[*p];
    acc |= static_cast<std::uint64_t>(kCodes.code[*p]) << (64 - bits - len);
    bits += len;
    while (bits >= 8) {
      *dst++ = static_cast<std::uint8_t>(acc >> 56);
      acc <<= 8;
      bits -= 8;
    }
  }
  if (bits) *dst++ = static_cast<std::uint8_t>((acc | (~std::uint64_t{0} >> bits)) >> 56);  // EOS padding
  return dst;
}

// Appends the codes of p[0..3] to acc (`bits` < 8 pending bits, left-aligned), stores acc's 8 octets
// at dst (which has room for them) and moves dst past the complete ones; false, and nothing done,
// when the four codes take more than 56 bits (text takes 5 to 8 bits a symbol). The encoders take
// four symbols per step while they can, then two.
inline bool encode_four(const std::uint8_t*& p, std::uint8_t*& dst, std::uint64_t& acc, unsigned& bits) noexcept {
  const unsigned l0 = kCodeLengths[p[0]], l1 = kCodeLengths[p[1]], l2 = kCodeLengths[p[2]], l3 = kCodeLengths[p[3]];
  const unsigned n = l0 + l1 + l2 + l3;
  if (n > 56) return false;
  const std::uint64_t v = (static_cast<std::uint64_t>(kCodes.code[p[0]]) << (l1 + l2 + l3)) |
                          (static_cast<std::uint64_t>(kCodes.code[p[1]]) << (l2 + l3)) |
                          (static_cast<std::uint64_t>(kCodes.code[p[2]]) << l3) | kCodes.code[p[3]];
  p += 4;
  acc |= v << (64 - bits - n);
  bits += n;
  store_be64(dst, acc);
  dst += bits >> 3;
  acc <<= bits & ~7u;
  bits &= 7u;
  return true;
}

// Encodes while at least 8 octets of room remain before dst_end, then exactly.
inline std::uint8_t* encode_bounded(std::string_view s, std::uint8_t* dst, const std::uint8_t* dst_end) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::uint8_t* const end = p + s.size();
  std::uint64_t acc = 0;  // pending bits, left-aligned
  unsigned bits = 0;      // < 8 between steps
  while (end - p >= 4 && dst_end - dst >= 8 && encode_four(p, dst, acc, bits)) {
  }
  // Two symbols per step: at most 7 + 56 bits pending, so a pair of codes up to 56 bits in all.
  while (end - p >= 2 && dst_end - dst >= 8) {
    const unsigned l0 = kCodeLengths[p[0]], l1 = kCodeLengths[p[1]];
    std::uint64_t v;
    unsigned n;
    if (l0 + l1 <= 56) {
      v = (static_cast<std::uint64_t>(kCodes.code[p[0]]) << l1) | kCodes.code[p[1]];
      n = l0 + l1;
      p += 2;
    } else {  // two long codes (30 and 27+ bits): one at a time
      v = kCodes.code[p[0]];
      n = l0;
      p += 1;
    }
    acc |= v << (64 - bits - n);
    bits += n;
    store_be64(dst, acc);
    dst += bits >> 3;
    acc <<= bits & ~7u;
    bits &= 7u;
  }
  return encode_tail(p, end, dst, acc, bits);
}

}  // namespace detail

// Writes the code of `s` to dst (encoded_length(s) octets), padded with the high bits of EOS.
inline std::size_t encode_to(std::string_view s, std::uint8_t* dst) noexcept {
  const std::size_t n = encoded_length(s);
  return static_cast<std::size_t>(detail::encode_bounded(s, dst, dst + n) - dst);
}

inline constexpr std::size_t kLonger = ~std::size_t{0};

// Writes the code of `s` to dst if it is not longer than `s`, and returns its length; else returns
// kLonger (dst then holds garbage). dst has room for s.size() + kEncodeSlack octets.
inline std::size_t encode_if_not_longer(std::string_view s, std::uint8_t* dst) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::uint8_t* const end = p + s.size();
  std::uint8_t* const start = dst;
  const std::uint8_t* const limit = dst + s.size();  // every store starts at or before it
  std::uint64_t acc = 0;
  unsigned bits = 0;
  while (end - p >= 4 && detail::encode_four(p, dst, acc, bits)) {
    if (dst > limit) return kLonger;
  }
  while (end - p >= 2) {
    const unsigned l0 = kCodeLengths[p[0]], l1 = kCodeLengths[p[1]];
    std::uint64_t v;
    unsigned n;
    if (l0 + l1 <= 56) {
      v = (static_cast<std::uint64_t>(detail::kCodes.code[p[0]]) << l1) | detail::kCodes.code[p[1]];
      n = l0 + l1;
      p += 2;
    } else {
      v = detail::kCodes.code[p[0]];
      n = l0;
      p += 1;
    }
    acc |= v << (64 - bits - n);
    bits += n;
    detail::store_be64(dst, acc);
    dst += bits >> 3;
    acc <<= bits & ~7u;
    bits &= 7u;
    if (dst > limit) return kLonger;
  }
  if (p < end) {
    const unsigned n = kCodeLengths[*p];
    acc |= static_cast<std::uint64_t>(detail::kCodes.code[*p]) << (64 - bits - n);
    bits += n;
    detail::store_be64(dst, acc);
    dst += bits >> 3;
    acc <<= bits & ~7u;
    bits &= 7u;
    if (dst > limit) return kLonger;
  }
  if (bits) *dst++ = static_cast<std::uint8_t>((acc | (~std::uint64_t{0} >> bits)) >> 56);  // EOS padding
  return dst > limit ? kLonger : static_cast<std::size_t>(dst - start);
}

// Writes the code of `s` (`coded` = encoded_length(s) octets) to dst, which has room for
// coded + kEncodeSlack octets: the octets past the code may be overwritten.
inline std::size_t encode_with_slack(std::string_view s, std::size_t coded, std::uint8_t* dst) noexcept {
  return static_cast<std::size_t>(detail::encode_bounded(s, dst, dst + coded + kEncodeSlack) - dst);
}

// Appends the code of `s` to `out` (a std::string or anything with size() and resize()).
template <class String>
void encode(std::string_view s, String& out) {
  const std::size_t at = out.size();
  out.resize(at + encoded_length(s));
  encode_to(s, reinterpret_cast<std::uint8_t*>(out.data()) + at);
}

// An upper bound of the decoded length of `n` octets (the shortest code is 5 bits), plus the one
// octet of slack decode_to() writes past its output.
constexpr std::size_t max_decoded_length(std::size_t n) noexcept { return n * 8 / 5 + 1; }

struct DecodeResult {
  Errc error;
  std::size_t size;    // octets written to dst
  std::size_t offset;  // on error, the input octet where it was found
};

// Decodes `n` octets into dst, which has room for max_decoded_length(n) octets.
inline DecodeResult decode_to(const std::uint8_t* src, std::size_t n, char* dst) noexcept {
  const auto& table = detail::kDecodeTable;
  constexpr unsigned kShift = 64 - detail::kLookupBits;
  char* const start = dst;
  const std::uint8_t* p = src;
  const std::uint8_t* const end = src + n;
  std::uint64_t buf = 0;  // the next `bits` input bits, left-aligned; zeros after them
  unsigned bits = 0;
  auto eos = [&] {
    const std::size_t consumed = static_cast<std::size_t>(p - src) * 8 - bits;
    return DecodeResult{Errc::huffman_eos, static_cast<std::size_t>(dst - start), (consumed - 1) / 8};
  };
  // While 8 octets can be read: refill to at least 56 bits, decode while 30 (the longest code) remain.
  while (end - p >= 8) {
    buf |= detail::load_be64(p) >> bits;
    p += (63 - bits) >> 3;
    bits |= 56;
    do {
      const std::uint32_t e = table[buf >> kShift];
      const unsigned used = e & 0xffu;
      if (used) {
        dst[0] = static_cast<char>(e >> 8);
        dst[1] = static_cast<char>(e >> 16);
        dst += 1 + ((e >> 28) & 1u);
        buf <<= (e & 63u);
        bits -= used;
      } else {
        const detail::Found f = detail::find_code(static_cast<std::uint32_t>(buf >> 32), detail::kLookupBits + 1);
        buf <<= f.length;
        bits -= f.length;
        if (f.symbol == kEos || f.symbol < 0) return eos();
        *dst++ = static_cast<char>(f.symbol);
      }
    } while (bits >= static_cast<unsigned>(detail::kMaxCodeLength));
  }
  // The last octets: one at a time into the buffer; a code is taken only if all its bits are there.
  while (true) {
    while (bits <= 56 && p < end) {
      buf |= static_cast<std::uint64_t>(*p++) << (56 - bits);
      bits += 8;
    }
    if (bits == 0) break;
    const std::uint32_t e = table[buf >> kShift];
    const unsigned used = e & 0xffu;
    if (used && used <= bits) {
      dst[0] = static_cast<char>(e >> 8);
      dst[1] = static_cast<char>(e >> 16);
      dst += 1 + ((e >> 28) & 1u);
      buf <<= used;
      bits -= used;
      continue;
    }
    if (used) {
      const unsigned first = (e >> 24) & 0xfu;
      if (first > bits) break;
      *dst++ = static_cast<char>(e >> 8);
      buf <<= first;
      bits -= first;
      continue;
    }
    const detail::Found f = detail::find_code(static_cast<std::uint32_t>(buf >> 32), detail::kLookupBits + 1);
    if (f.length > bits) break;
    buf <<= f.length;
    bits -= f.length;
    if (f.symbol == kEos || f.symbol < 0) return eos();
    *dst++ = static_cast<char>(f.symbol);
  }
  const auto size = static_cast<std::size_t>(dst - start);
  // 5.2: the rest is padding: at most 7 bits, the most significant bits of EOS (all ones).
  if (bits > static_cast<unsigned>(kMaxPaddingBits) || (bits && (buf >> (64 - bits)) != (std::uint64_t{1} << bits) - 1)) {
    return {Errc::huffman_padding, size, n - 1};
  }
  return {Errc::none, size, 0};
}

// Appends the decoding of `n` octets to `out`; on error `out` is unchanged.
template <class String>
Errc decode(const std::uint8_t* src, std::size_t n, String& out) {
  const std::size_t at = out.size();
  out.resize(at + max_decoded_length(n));
  const DecodeResult r = decode_to(src, n, reinterpret_cast<char*>(out.data()) + at);
  out.resize(r.error == Errc::none ? at + r.size : at);
  return r.error;
}

}  // namespace fasterapi::hpack::huffman
