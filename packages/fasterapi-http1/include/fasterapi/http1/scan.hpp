// The two scans that take most of a parse: the end of a line, and the first byte a field value
// may not hold. On x86-64 they use AVX2 when the CPU has it (chosen at run time, once), else SSE2,
// which every x86-64 CPU has; elsewhere a table-driven loop. The build never assumes the build
// machine's CPU (no -march=native).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fasterapi/http1/chars.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FASTERAPI_HTTP1_X86 1
#include <immintrin.h>
#endif

namespace fasterapi::http1::scan {

// --- scalar: the reference, and the path on other CPUs -------------------------------------------------

inline std::size_t crlf_scalar(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && p[i] != '\r' && p[i] != '\n') ++i;
  return i;
}

inline std::size_t invalid_field_byte_scalar(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && chars::is(static_cast<unsigned char>(p[i]), chars::kFieldVchar)) ++i;
  return i;
}

inline std::size_t non_tchar_scalar(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && chars::is_tchar(static_cast<unsigned char>(p[i]))) ++i;
  return i;
}

inline std::size_t non_target_scalar(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && chars::is(static_cast<unsigned char>(p[i]), chars::kTarget)) ++i;
  return i;
}

#ifdef FASTERAPI_HTTP1_X86

// --- SSE2 (x86-64 baseline) ---------------------------------------------------------------------

inline std::size_t crlf_sse2(const char* p, std::size_t n) noexcept {
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
  return i + crlf_scalar(p + i, n - i);
}

// A byte is refused when it is a control other than HTAB (0x00-0x08, 0x0A-0x1F) or DEL (0x7F).
inline std::size_t invalid_field_byte_sse2(const char* p, std::size_t n) noexcept {
  const __m128i c1f = _mm_set1_epi8(0x1F), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7F);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x);  // x <= 0x1F, unsigned
    const __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, tab), control), _mm_cmpeq_epi8(x, del));
    const int mask = _mm_movemask_epi8(bad);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
  return i + invalid_field_byte_scalar(p + i, n - i);
}

// A request-target byte is visible ASCII, 0x21-0x7E: as a signed byte, greater than 0x20 and
// less than 0x7F (0x80-0xFF are negative).
inline std::size_t non_target_sse2(const char* p, std::size_t n) noexcept {
  const __m128i low = _mm_set1_epi8(0x20), high = _mm_set1_epi8(0x7F);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, low), _mm_cmpgt_epi8(high, x));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(ok)) ^ 0xFFFFu;
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
  return i + non_target_scalar(p + i, n - i);
}

// --- AVX2 (when the CPU has it) ------------------------------------------------------------------

__attribute__((target("avx2"))) inline std::size_t crlf_avx2(const char* p, std::size_t n) noexcept {
  const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n');
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const unsigned mask = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(x, cr), _mm256_cmpeq_epi8(x, lf))));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
  return i + crlf_sse2(p + i, n - i);
}

__attribute__((target("avx2"))) inline std::size_t invalid_field_byte_avx2(const char* p, std::size_t n) noexcept {
  const __m256i c1f = _mm256_set1_epi8(0x1F), tab = _mm256_set1_epi8('\t'), del = _mm256_set1_epi8(0x7F);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(x, c1f), x);
    const __m256i bad =
        _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(x, tab), control), _mm256_cmpeq_epi8(x, del));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(bad));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
  return i + invalid_field_byte_sse2(p + i, n - i);
}

// Whether the AVX2 paths run: the CPU has AVX2, and FASTERAPI_HTTP1_SIMD=sse2 is not set in the
// environment (which keeps to the x86-64 baseline, for tests and comparisons). Decided once.
inline bool cpu_has_avx2() noexcept {
  static const bool has = [] {
    const char* forced = std::getenv("FASTERAPI_HTTP1_SIMD");
    if (forced != nullptr && std::string_view(forced) == "sse2") return false;
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

#endif  // FASTERAPI_HTTP1_X86

// The scans as policies, for code compiled once per instruction set (a loop over many lines
// calls them inline; see Parser::fast_field_lines).
// 64 bytes at once, one bit per byte: the bytes a field value may not hold (`relaxed`: only CR
// and LF). These bits are where field lines end (or where something is wrong); the parser walks
// them instead of scanning line after line, so that each line's work does not wait on the scan
// of the line before it.
inline std::uint64_t field_mask64_scalar(const char* p, bool relaxed) noexcept {
  std::uint64_t bits = 0;
  for (unsigned k = 0; k < 64; ++k) {
    const auto c = static_cast<unsigned char>(p[k]);
    const bool bad = relaxed ? (c == '\r' || c == '\n') : !chars::is(c, chars::kFieldVchar);
    bits |= static_cast<std::uint64_t>(bad) << k;
  }
  return bits;
}

// One bit per byte of p[0, 64): set where the byte is not a tchar.
inline std::uint64_t non_tchar_mask64_scalar(const char* p) noexcept {
  std::uint64_t bits = 0;
  for (unsigned k = 0; k < 64; ++k) {
    bits |= static_cast<std::uint64_t>(!chars::is_tchar(static_cast<unsigned char>(p[k]))) << k;
  }
  return bits;
}

#ifdef FASTERAPI_HTTP1_X86
inline std::uint64_t field_mask64_sse2(const char* p, bool relaxed) noexcept {
  const __m128i c1f = _mm_set1_epi8(0x1F), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7F);
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  std::uint64_t bits = 0;
  for (unsigned k = 0; k < 4; ++k) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i bad;
    if (relaxed) {
      bad = _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf));
    } else {
      const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x);
      bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, tab), control), _mm_cmpeq_epi8(x, del));
    }
    bits |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(bad))) << (16 * k);
  }
  return bits;
}

__attribute__((target("avx2"))) inline std::uint64_t field_mask64_avx2(const char* p, bool relaxed) noexcept {
  const __m256i c1f = _mm256_set1_epi8(0x1F), tab = _mm256_set1_epi8('\t'), del = _mm256_set1_epi8(0x7F);
  const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n');
  std::uint64_t bits = 0;
  for (unsigned k = 0; k < 2; ++k) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    __m256i bad;
    if (relaxed) {
      bad = _mm256_or_si256(_mm256_cmpeq_epi8(x, cr), _mm256_cmpeq_epi8(x, lf));
    } else {
      const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(x, c1f), x);
      bad = _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(x, tab), control), _mm256_cmpeq_epi8(x, del));
    }
    bits |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm256_movemask_epi8(bad))) << (32 * k);
  }
  return bits;
}

// Token characters by nibbles: a byte c below 0x80 is a tchar when bit (c >> 4) of
// kTcharByLowNibble[c & 15] is set; no byte from 0x80 on is.
inline constexpr std::array<std::uint8_t, 16> make_tchar_by_low_nibble() {
  std::array<std::uint8_t, 16> t{};
  for (int c = 0; c < 0x80; ++c) {
    if (chars::is_tchar(static_cast<unsigned char>(c))) {
      t[static_cast<std::size_t>(c & 15)] |= static_cast<std::uint8_t>(1u << (c >> 4));
    }
  }
  return t;
}
alignas(16) inline constexpr std::array<std::uint8_t, 16> kTcharByLowNibble = make_tchar_by_low_nibble();

// One bit per byte of p[0, 64): set where the byte is not a tchar.
__attribute__((target("avx2"))) inline std::uint64_t non_tchar_mask64_avx2(const char* p) noexcept {
  const __m256i by_low = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kTcharByLowNibble.data())));
  const __m256i high_bit = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                            1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  std::uint64_t bits = 0;
  for (unsigned k = 0; k < 2; ++k) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    const __m256i row = _mm256_shuffle_epi8(by_low, _mm256_and_si256(x, nibble));
    const __m256i col = _mm256_shuffle_epi8(high_bit, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
    const __m256i no = _mm256_cmpeq_epi8(_mm256_and_si256(row, col), _mm256_setzero_si256());
    bits |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm256_movemask_epi8(no))) << (32 * k);
  }
  return bits;
}
#endif

// The scans as policies, for code compiled once per instruction set (Parser::fast_field_lines
// inlines them into its loop).
struct Baseline {  // SSE2 on x86-64, the table-driven loops elsewhere
  static constexpr bool kNameMask = false;  // names are scanned byte by byte (no byte shuffle in SSE2)
  static std::uint64_t non_tchar_mask64(const char*) noexcept { return 0; }
  static std::uint64_t field_mask64(const char* p, bool relaxed) noexcept {
#ifdef FASTERAPI_HTTP1_X86
    return field_mask64_sse2(p, relaxed);
#else
    return field_mask64_scalar(p, relaxed);
#endif
  }
};

#ifdef FASTERAPI_HTTP1_X86
struct Avx2 {
  static constexpr bool kNameMask = true;
  __attribute__((target("avx2"))) static std::uint64_t non_tchar_mask64(const char* p) noexcept {
    return non_tchar_mask64_avx2(p);
  }
  __attribute__((target("avx2"))) static std::uint64_t field_mask64(const char* p, bool relaxed) noexcept {
    return field_mask64_avx2(p, relaxed);
  }
};
#endif

// Which implementation runs: "avx2", "sse2" or "scalar".
inline const char* implementation() noexcept {
#ifdef FASTERAPI_HTTP1_X86
  return cpu_has_avx2() ? "avx2" : "sse2";
#else
  return "scalar";
#endif
}

// The index of the first '\r' or '\n' in p[0, n), or n.
inline std::size_t find_crlf(const char* p, std::size_t n) noexcept {
#ifdef FASTERAPI_HTTP1_X86
  if (n >= 32 && cpu_has_avx2()) return crlf_avx2(p, n);
  return crlf_sse2(p, n);
#else
  return crlf_scalar(p, n);
#endif
}

// The index of the first byte of p[0, n) that a request-target may not hold, or n.
inline std::size_t find_non_target(const char* p, std::size_t n) noexcept {
#ifdef FASTERAPI_HTTP1_X86
  return non_target_sse2(p, n);
#else
  return non_target_scalar(p, n);
#endif
}

// The index of the first byte of p[0, n) that a field value may not hold, or n.
inline std::size_t find_invalid_field_byte(const char* p, std::size_t n) noexcept {
#ifdef FASTERAPI_HTTP1_X86
  if (n >= 32 && cpu_has_avx2()) return invalid_field_byte_avx2(p, n);
  return invalid_field_byte_sse2(p, n);
#else
  return invalid_field_byte_scalar(p, n);
#endif
}

}  // namespace fasterapi::http1::scan
