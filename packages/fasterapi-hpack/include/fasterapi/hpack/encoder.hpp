// The HPACK encoder, RFC 7541 sections 4 and 6, with its indexing strategy.
//
// Theory of operation. For each field, in order of preference:
//   1. a full match in the static table, then in the dynamic table: an indexed field (6.1);
//   2. otherwise a literal (6.2) whose name is a static index, else a dynamic index, else literal,
//      and whose strings are Huffman-coded when that is not longer (5.2; ties go to Huffman, as in
//      the examples of RFC 7541 Appendix C);
//   3. the literal is "never indexed" (6.2.3, 7.1.3) when the field is sensitive: the caller says
//      so, or (unless EncoderOptions::never_index_sensitive is off) it is a credential
//      (authorization, proxy-authorization, set-cookie, a cookie shorter than kShortCookie octets:
//      guessable, 7.1.3); "without indexing" (6.2.2) when the entry would take more than 3/4 of the
//      table (it would evict nearly everything for one field); else "incremental indexing" (6.2.1),
//      and the field enters the dynamic table.
// A field that is not marked sensitive is first looked up whole in the dynamic table: one that is
// there went in as indexable, so it has no full static match (those are sent indexed, never
// inserted) and the automatic rule did not call it sensitive (a rule of name and value only), and
// looking there first gives what the order above gives. Otherwise the static table is searched (a
// hash of the name's length and three of its octets picks the name, whose entries are adjacent in
// Appendix A). The dynamic table is searched through two open-addressing hash indexes, one by name
// and value (every entry) and one by name (entries whose name is not static: a static name is
// referenced by its static index). A slot is 8 octets: a 32-bit tag of the hash (never 0: 0 is an
// empty slot) and the low 32 bits of the entry's id. A slot whose entry was evicted is stale and is
// reused; an index is rebuilt from the live entries when its used slots reach half of it, and grows
// only when the live entries need it. Each entry keeps its two hashes (EntryHashes), so a rebuild
// hashes nothing. Name and value are hashed only when the field could be found or indexed (not for
// a field the caller marks sensitive). A table size change (set_max_table_size) is emitted at
// the start of the next block: the smallest size set since the last block and then the final one
// when they differ (4.2), else the final one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "huffman.hpp"
#include "integer.hpp"
#include "static_table.hpp"
#include "table.hpp"

namespace fasterapi::hpack {

// 7.1.3: a cookie shorter than this is guessable by brute force through the compression ratio.
inline constexpr std::size_t kShortCookie = 20;

// Whether a field is a credential that must never enter a compression context (7.1.3).
constexpr bool is_sensitive(std::string_view name, std::string_view value) noexcept {
  return name == "authorization" || name == "proxy-authorization" || name == "set-cookie" ||
         (name == "cookie" && value.size() < kShortCookie);
}

namespace detail {

// is_sensitive() for a name whose static index (the first of its entries, 0 if none) is known.
constexpr bool is_sensitive_static(std::uint32_t name_index, std::size_t value_size) noexcept {
  constexpr std::uint32_t kAuthorization = 23, kCookie = 32, kProxyAuthorization = 49, kSetCookie = 55;
  static_assert(kStaticTable[kAuthorization - 1].name == "authorization" && kStaticTable[kCookie - 1].name == "cookie" &&
                kStaticTable[kProxyAuthorization - 1].name == "proxy-authorization" &&
                kStaticTable[kSetCookie - 1].name == "set-cookie");
  return name_index == kAuthorization || name_index == kProxyAuthorization || name_index == kSetCookie ||
         (name_index == kCookie && value_size < kShortCookie);
}

}  // namespace detail

// A growable octet buffer that does not zero what it hands out.
class Buffer {
 public:
  const std::uint8_t* data() const noexcept { return buf_.get(); }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(buf_.get()), size_}; }
  // Room for n more octets at the end; commit() what was written.
  std::uint8_t* reserve(std::size_t n) {
    if (size_ + n > cap_) {
      const std::size_t cap = std::max<std::size_t>({256, 2 * cap_, size_ + n});
      std::unique_ptr<std::uint8_t[]> fresh(new std::uint8_t[cap]);
      if (size_) std::memcpy(fresh.get(), buf_.get(), size_);
      buf_ = std::move(fresh);
      cap_ = cap;
    }
    return buf_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }

 private:
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t size_ = 0, cap_ = 0;
};

namespace detail {

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// 64 x 64 -> 128-bit multiply, folded: the mixing step of the hash.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
  __extension__ typedef unsigned __int128 u128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
#else
  const std::uint64_t r = (a ^ (a >> 31)) * (b | 1);
  return r ^ (r >> 29) ^ b;
#endif
}

inline constexpr std::uint64_t kK0 = 0xa0761d6478bd642full, kK1 = 0xe7037ed1a0b428dbull,
                               kK2 = 0x8ebc6af09c88c6e3ull, kK3 = 0x589965cc75374cc3ull;

// A fast hash of n octets (wyhash-like: 16 octets per multiply, two lanes above 32 octets). Only an
// index key: every hit is checked for equality.
inline std::uint64_t hash_bytes(const char* p, std::size_t n, std::uint64_t seed) noexcept {
  std::uint64_t a, b;
  seed ^= n * kK2;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n) {
      a = (std::uint64_t{static_cast<std::uint8_t>(p[0])} << 16) | (std::uint64_t{static_cast<std::uint8_t>(p[n >> 1])} << 8) |
          static_cast<std::uint8_t>(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    std::uint64_t s1 = seed ^ kK3;
    while (n > 32) {
      seed = mum(load64(p) ^ kK1, load64(p + 8) ^ seed);
      s1 = mum(load64(p + 16) ^ kK2, load64(p + 24) ^ s1);
      p += 32;
      n -= 32;
    }
    seed ^= s1;
    if (n > 16) {
      seed = mum(load64(p) ^ kK1, load64(p + 8) ^ seed);
    }
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  return mum(a ^ kK1 ^ seed, b ^ kK0);
}

// The name's key: a hash of its octets.
inline std::uint64_t name_key(std::string_view name) noexcept { return hash_bytes(name.data(), name.size(), kK0); }
inline std::uint64_t pair_hash(std::uint64_t key, std::string_view value) noexcept {
  return hash_bytes(value.data(), value.size(), key);
}

// Maps a hash to the ids of the dynamic entries having it (newest first along a probe); the caller
// checks each candidate.
class EntryIndex {
 public:
  EntryIndex() = default;
  EntryIndex(const EntryIndex&) = delete;
  EntryIndex& operator=(const EntryIndex&) = delete;

  // The newest live entry with this hash for which match(entry) holds, else kNone.
  template <class Match>
  std::uint64_t find(const DynamicTable& t, std::uint64_t hash, Match&& match) const noexcept {
    if (!slots_) return kNone;
    const std::uint32_t tag = tag_of(hash);
    const auto first = static_cast<std::uint32_t>(t.oldest_id());
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.tag == 0) return kNone;
      if (s.tag == tag) {
        const std::uint32_t age = s.id - first;  // ids are consecutive: wraps past 2^32 consistently
        if (age < t.count()) {
          const std::uint64_t id = t.oldest_id() + age;
          if (match(t.by_id(id))) return id;
        }
      }
    }
  }

  // Adds the newest entry `id`. rehash(entry) gives the hash of a live entry (for a rebuild), and
  // same(a, b) says whether two entries have one key (the older one's slot is then taken over).
  template <class Rehash, class Same>
  void add(const DynamicTable& t, std::uint64_t hash, std::uint64_t id, Rehash&& rehash, Same&& same) {
    if (!slots_ || 2 * (used_ + 1) > mask_ + 1) rebuild(t, id, rehash);
    const std::uint32_t tag = tag_of(hash);
    const auto first = static_cast<std::uint32_t>(t.oldest_id());
    const DynamicTable::Entry e = t.by_id(id);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.tag == 0) {
        ++used_;
        s = {tag, static_cast<std::uint32_t>(id)};
        return;
      }
      const std::uint32_t age = s.id - first;
      const bool stale = age >= t.count();
      if (stale || (s.tag == tag && same(t.by_id(t.oldest_id() + age), e))) {
        s = {tag, static_cast<std::uint32_t>(id)};  // a stale slot, or an older entry with the same key
        return;
      }
    }
  }

  void clear() noexcept {
    if (slots_) std::memset(static_cast<void*>(slots_.get()), 0, (mask_ + 1) * sizeof(Slot));
    used_ = 0;
  }

  static constexpr std::uint64_t kNone = ~std::uint64_t{0};

 private:
  struct Slot {
    std::uint32_t tag;  // 0: empty
    std::uint32_t id;   // the entry's id, low 32 bits
  };
  static constexpr std::size_t kMinSlots = 64;  // a fresh connection's first blocks, without a rebuild

  static std::uint32_t tag_of(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32) | 1u; }

  // Rehashes the live entries but `skip` (the one being added, which the caller places next) into an
  // index at most half full, growing it only if the live entries need more than a quarter of it.
  template <class Rehash>
  void rebuild(const DynamicTable& t, std::uint64_t skip, Rehash&& rehash) {
    std::size_t cap = slots_ ? mask_ + 1 : kMinSlots;
    while (cap < 4 * (t.count() + 1)) cap *= 2;
    if (!slots_ || cap != mask_ + 1) {
      slots_.reset(new Slot[cap]());
      mask_ = cap - 1;
    } else {
      std::memset(static_cast<void*>(slots_.get()), 0, cap * sizeof(Slot));
    }
    used_ = 0;
    // Newest first, so that a probe meets the newest entry of a key first.
    for (std::uint64_t id = t.next_id(); id-- > t.oldest_id();) {
      if (id == skip) continue;
      const DynamicTable::Entry e = t.by_id(id);
      std::uint64_t hash;
      if (!rehash(e, hash)) continue;  // not in this index
      std::size_t i = hash & mask_;
      while (slots_[i].tag) i = (i + 1) & mask_;
      slots_[i] = {tag_of(hash), static_cast<std::uint32_t>(id)};
      ++used_;
    }
  }

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};

}  // namespace detail

struct EncoderOptions {
  std::uint32_t max_table_size = kDefaultTableSize;
  // 7.1.3: send credentials (authorization, proxy-authorization, set-cookie, a cookie shorter than
  // kShortCookie octets) never-indexed even when the caller does not mark them sensitive.
  bool never_index_sensitive = true;
};

class Encoder {
 public:
  explicit Encoder(std::uint32_t max_table_size = kDefaultTableSize) : table_(max_table_size) {}
  explicit Encoder(const EncoderOptions& options)
      : table_(options.max_table_size), never_index_sensitive_(options.never_index_sensitive) {}

  // Schedules a dynamic table size update (the peer's SETTINGS_HEADER_TABLE_SIZE, or less); the
  // table shrinks now, the update goes out at the start of the next block.
  void set_max_table_size(std::uint32_t n) noexcept {
    if (n == table_.max_size() && !pending_) return;
    pending_min_ = pending_ ? std::min(pending_min_, n) : n;
    pending_ = true;
    table_.set_max_size(n);
  }
  std::uint32_t max_table_size() const noexcept { return table_.max_size(); }
  bool size_update_pending() const noexcept { return pending_; }
  const DynamicTable& table() const noexcept { return table_; }
  bool never_index_sensitive() const noexcept { return never_index_sensitive_; }

  // Opens a block: writes the pending size updates (4.2).
  void begin_block(Buffer& out) {
    if (!pending_) return;
    std::uint8_t* dst = out.reserve(2 * kMaxIntegerLength);
    std::size_t n = 0;
    if (pending_min_ < table_.max_size()) n += encode_integer(dst, pending_min_, 5, 0x20);
    n += encode_integer(dst + n, table_.max_size(), 5, 0x20);
    out.commit(n);
    pending_ = false;
  }

  // Appends one field representation. `sensitive` asks for a never-indexed literal.
  void encode_field(std::string_view name, std::string_view value, bool sensitive, bool huffman, Buffer& out) {
    // A field found whole in the dynamic table could be indexed when it went in: it has no full
    // static match (that is sent indexed and never inserted) and is not sensitive by the automatic
    // rule (which depends on the name and value only). So such a field is looked up there first and
    // costs no static lookup; the result is the one the static-first order gives.
    // A value longer than every static value has no full static match: such a field goes to the
    // dynamic table first; a shorter one (":status: 200") to the static table first.
    StaticMatch sm;
    const bool static_first = value.size() <= kLongestStaticValue;
    if (static_first) {
      sm = static_find(name, value);
      if (sm.full) {
        write_indexed(sm.index, out);
        return;
      }
    }
    std::uint64_t key = 0, pair = 0;
    bool hashed = false;
    if (!sensitive && table_.count()) {
      key = detail::name_key(name);
      pair = detail::pair_hash(key, value);
      hashed = true;
      const std::uint64_t id = by_pair_.find(table_, pair, [&](const DynamicTable::Entry& e) {
        return detail::equal(e.value, value) && detail::equal(e.name, name);
      });
      if (id != detail::EntryIndex::kNone) {
        write_indexed(dynamic_index(id), out);
        return;
      }
    }
    if (!static_first) sm = static_find(name, value);  // the name only: the value is too long
    if (never_index_sensitive_ && detail::is_sensitive_static(sm.index, value.size())) sensitive = true;
    const bool index = !sensitive && 4 * entry_size(name.size(), value.size()) <= 3 * std::size_t{table_.max_size()};
    std::uint32_t name_index = sm.index;
    if (!name_index && table_.count()) {
      if (!hashed) key = detail::name_key(name);
      const std::uint64_t id = by_name_.find(table_, key, [&](const DynamicTable::Entry& e) { return detail::equal(e.name, name); });
      if (id != detail::EntryIndex::kNone) name_index = dynamic_index(id);
    }
    std::uint8_t* dst = out.reserve(kMaxIntegerLength + 2 * (kMaxIntegerLength + huffman::kEncodeSlack) + name.size() +
                                    value.size());
    std::size_t n;
    if (index) {
      n = encode_integer(dst, name_index, 6, 0x40);  // 6.2.1
    } else {
      n = encode_integer(dst, name_index, 4, sensitive ? 0x10 : 0x00);  // 6.2.3 / 6.2.2
    }
    if (!name_index) n += write_string(dst + n, name, huffman);
    n += write_string(dst + n, value, huffman);
    out.commit(n);
    if (!index) return;
    if (!hashed) {  // an indexable field not hashed yet: the table was empty
      key = detail::name_key(name);
      pair = detail::pair_hash(key, value);
    }
    // The keys stay with the entry: a rebuild of an index reads them instead of hashing again. A name
    // of the static table is referenced by its static index, so its entries are not in by_name_.
    if (!table_.insert(name, value, EntryHashes{sm.index ? 0 : key, pair})) return;
    const std::uint64_t id = table_.next_id() - 1;
    by_pair_.add(
        table_, pair, id,
        [](const DynamicTable::Entry& e, std::uint64_t& h) {
          h = e.hashes.field;
          return true;
        },
        [](const DynamicTable::Entry& a, const DynamicTable::Entry& b) {
          return detail::equal(a.value, b.value) && detail::equal(a.name, b.name);
        });
    if (!sm.index) {
      by_name_.add(
          table_, key, id,
          [](const DynamicTable::Entry& e, std::uint64_t& h) {
            h = e.hashes.name;
            return h != 0;  // (a name whose key is 0 is left out: a lost reference, never a wrong one)
          },
          [](const DynamicTable::Entry& a, const DynamicTable::Entry& b) { return detail::equal(a.name, b.name); });
    }
  }

 private:
  std::uint32_t dynamic_index(std::uint64_t id) const noexcept {
    return static_cast<std::uint32_t>(kStaticTableSize + (table_.next_id() - id));
  }

  static void write_indexed(std::uint32_t index, Buffer& out) {
    if (index < 127) {
      *out.reserve(1) = static_cast<std::uint8_t>(0x80 | index);
      out.commit(1);
      return;
    }
    out.commit(encode_integer(out.reserve(kMaxIntegerLength), index, 7, 0x80));
  }

  // 5.2: Huffman when not longer. dst has room for kMaxIntegerLength + s.size() + kEncodeSlack.
  static std::size_t write_string(std::uint8_t* dst, std::string_view s, bool huffman) noexcept {
    const auto raw = static_cast<std::uint32_t>(s.size());
    if (huffman && raw) {
      // Code it where it goes if its length prefix is as long as the raw one (it is at most as long).
      const std::size_t at = integer_length(raw, 7);
      const std::size_t coded = huffman::encode_if_not_longer(s, dst + at);
      if (coded != huffman::kLonger) {
        const std::size_t prefix = integer_length(static_cast<std::uint32_t>(coded), 7);
        if (prefix != at) std::memmove(dst + prefix, dst + at, coded);
        encode_integer(dst, static_cast<std::uint32_t>(coded), 7, 0x80);
        return prefix + coded;
      }
    }
    const std::size_t n = encode_integer(dst, raw, 7, 0x00);
    if (raw) std::memcpy(dst + n, s.data(), raw);
    return n + raw;
  }

  DynamicTable table_;
  detail::EntryIndex by_pair_;
  detail::EntryIndex by_name_;
  std::uint32_t pending_min_ = 0;
  bool pending_ = false;
  bool never_index_sensitive_ = true;
};

}  // namespace fasterapi::hpack
