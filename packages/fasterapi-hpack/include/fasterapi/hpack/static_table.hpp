// The static table, RFC 7541 section 2.3.1 and Appendix A, and its lookup for the encoder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace fasterapi::hpack {

struct StaticEntry {
  std::string_view name, value;
};

// Appendix A; index i of the protocol is kStaticTable[i - 1].
inline constexpr std::array<StaticEntry, 61> kStaticTable = {{
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
}};

inline constexpr std::uint32_t kStaticTableSize = 61;

// The longest value of the static table ("gzip, deflate"): a longer value has no full static match.
inline constexpr std::size_t kLongestStaticValue = [] {
  std::size_t n = 0;
  for (const StaticEntry& e : kStaticTable) n = e.value.size() > n ? e.value.size() : n;
  return n;
}();
static_assert(kLongestStaticValue == 13);

struct StaticMatch {
  std::uint32_t index = 0;  // 0: the name is not in the static table
  bool full = false;        // the value matched too
};

namespace detail {

// a == b, without a call for the short strings header names and most values are.
constexpr bool equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (std::is_constant_evaluated()) return a == b;
  const std::size_t n = a.size();
  const char* p = a.data();
  const char* q = b.data();
  auto eq = [](const char* x, const char* y, auto word) {
    decltype(word) u, v;
    std::memcpy(&u, x, sizeof u);
    std::memcpy(&v, y, sizeof v);
    return u == v;
  };
  if (n >= 8) {
    if (n > 32) return std::memcmp(p, q, n) == 0;
    if (n > 16 && !(eq(p + 8, q + 8, std::uint64_t{}) && eq(p + n - 16, q + n - 16, std::uint64_t{}))) return false;
    return eq(p, q, std::uint64_t{}) && eq(p + n - 8, q + n - 8, std::uint64_t{});
  }
  if (n >= 4) return eq(p, q, std::uint32_t{}) && eq(p + n - 4, q + n - 4, std::uint32_t{});
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// Entries of one name are adjacent in Appendix A: the slot keeps the first index and the count.
struct StaticSlot {
  std::uint8_t index = 0, count = 0;
};
inline constexpr std::size_t kStaticSlots = 128;  // > 2 x the 52 distinct names: short probes

constexpr std::size_t static_hash(std::string_view n) noexcept {
  const std::size_t len = n.size();
  return (len * 31u + static_cast<std::uint8_t>(n[0]) * 7u + static_cast<std::uint8_t>(n[len / 2]) * 3u +
          static_cast<std::uint8_t>(n[len - 1])) &
         (kStaticSlots - 1);
}

constexpr std::array<StaticSlot, kStaticSlots> make_static_slots() {
  std::array<StaticSlot, kStaticSlots> slots{};
  for (std::uint32_t i = 0; i < kStaticTableSize;) {
    std::uint32_t j = i + 1;
    while (j < kStaticTableSize && kStaticTable[j].name == kStaticTable[i].name) ++j;
    std::size_t h = static_hash(kStaticTable[i].name);
    while (slots[h].count) h = (h + 1) & (kStaticSlots - 1);
    slots[h] = {static_cast<std::uint8_t>(i + 1), static_cast<std::uint8_t>(j - i)};
    i = j;
  }
  return slots;
}

inline constexpr std::array<StaticSlot, kStaticSlots> kStaticSlotTable = make_static_slots();

}  // namespace detail

// The static entry matching name and value, else the first entry with that name, else index 0.
constexpr StaticMatch static_find(std::string_view name, std::string_view value) noexcept {
  if (name.empty()) return {};
  std::size_t h = detail::static_hash(name);
  while (true) {
    const detail::StaticSlot s = detail::kStaticSlotTable[h];
    if (!s.count) return {};
    if (detail::equal(kStaticTable[s.index - 1u].name, name)) {
      for (std::uint32_t k = 0; k < s.count; ++k) {
        if (detail::equal(kStaticTable[s.index - 1u + k].value, value)) return {s.index + k, true};
      }
      return {s.index, false};
    }
    h = (h + 1) & (detail::kStaticSlots - 1);
  }
}

}  // namespace fasterapi::hpack
