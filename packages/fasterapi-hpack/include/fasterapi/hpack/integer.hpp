// Prefix integers, RFC 7541 section 5.1.
//
//   if I < 2^N - 1, encode I on N bits
//   else
//       encode (2^N - 1) on N bits
//       I = I - (2^N - 1)
//       while I >= 128
//            encode (I % 128 + 128) on 8 bits
//            I = I / 128
//       encode I on 8 bits
#pragma once

#include <cstddef>
#include <cstdint>

#include "errors.hpp"

namespace fasterapi::hpack {

// No HPACK quantity (an index, a string length, a table size) needs more than 32 bits.
inline constexpr std::uint64_t kMaxInteger = 0xFFFFFFFFu;
// ceil(32 / 7): enough continuation octets for any value up to kMaxInteger; more is padding or an attack.
inline constexpr int kMaxContinuationBytes = 5;
// The longest encoding of a value up to kMaxInteger: the prefix octet and the continuations.
inline constexpr std::size_t kMaxIntegerLength = 1 + kMaxContinuationBytes;

// Reads an integer whose prefix is the low `prefix_bits` bits of *p; advances p past it.
// On error p is unspecified.
inline Errc decode_integer(const std::uint8_t*& p, const std::uint8_t* end, unsigned prefix_bits,
                           std::uint32_t& out) noexcept {
  const std::uint32_t mask = (1u << prefix_bits) - 1;
  std::uint64_t value = *p++ & mask;
  if (value < mask) {
    out = static_cast<std::uint32_t>(value);
    return Errc::none;
  }
  unsigned shift = 0;
  for (int i = 0;; ++i) {
    if (i == kMaxContinuationBytes) return Errc::integer_overflow;
    if (p == end) return Errc::truncated;
    const std::uint8_t b = *p++;
    value += static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (value > kMaxInteger) return Errc::integer_overflow;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  out = static_cast<std::uint32_t>(value);
  return Errc::none;
}

// The octets encode_integer() writes for `value`.
constexpr std::size_t integer_length(std::uint32_t value, unsigned prefix_bits) noexcept {
  const std::uint32_t mask = (1u << prefix_bits) - 1;
  if (value < mask) return 1;
  std::size_t n = 2;
  for (value -= mask; value >= 128; value >>= 7) ++n;
  return n;
}

// Writes `value` with the high bits of the first octet set to `flags`; returns the octets written
// (at most kMaxIntegerLength).
inline std::size_t encode_integer(std::uint8_t* dst, std::uint32_t value, unsigned prefix_bits,
                                  std::uint8_t flags) noexcept {
  const std::uint32_t mask = (1u << prefix_bits) - 1;
  if (value < mask) {
    dst[0] = static_cast<std::uint8_t>(flags | value);
    return 1;
  }
  dst[0] = static_cast<std::uint8_t>(flags | mask);
  value -= mask;
  std::size_t n = 1;
  while (value >= 128) {
    dst[n++] = static_cast<std::uint8_t>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  dst[n++] = static_cast<std::uint8_t>(value);
  return n;
}

}  // namespace fasterapi::hpack
