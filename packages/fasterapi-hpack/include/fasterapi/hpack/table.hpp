// The dynamic table, RFC 7541 sections 2.3.2, 4.1-4.4.
//
// Entries are FIFO: inserted at the front (dynamic index 1 is the newest), evicted from the back.
// Every entry gets an id, counting up from 0 in insertion order and never reused, so that a caller
// may cache per-entry data by id (what an id names never changes). The bytes of the entries sit one
// after the other in one arena, oldest first; the arena is compacted (the live bytes moved to its
// start) when the next entry does not fit at its end, and grows so that after a compaction at least
// half of it is free, so each byte is moved O(1) times on average. The entry descriptors live in a
// ring indexed by id, with the hashes the owner computed for the entry (the encoder's index keys), so
// that re-indexing the live entries never hashes their octets again. No allocation per entry.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace fasterapi::hpack {

// 4.1: the size of an entry is its name and value lengths plus 32 (an estimate of its overhead).
inline constexpr std::size_t kEntryOverhead = 32;
// RFC 9113 6.5.2: the initial value of SETTINGS_HEADER_TABLE_SIZE, on both sides.
inline constexpr std::uint32_t kDefaultTableSize = 4096;

constexpr std::size_t entry_size(std::size_t name_len, std::size_t value_len) noexcept {
  return name_len + value_len + kEntryOverhead;
}

// What an owner hashed an entry to, kept with it (the encoder's index keys; the decoder keeps none).
struct EntryHashes {
  std::uint64_t name = 0;   // the encoder: the name's key, 0 if the entry is not in its name index
  std::uint64_t field = 0;  // the encoder: the key of name and value
};

class DynamicTable {
 public:
  struct Entry {
    std::string_view name, value;
    std::uint64_t id;
    EntryHashes hashes;
  };

  explicit DynamicTable(std::uint32_t max_size = kDefaultTableSize) : max_size_(max_size) {}
  DynamicTable(const DynamicTable&) = delete;
  DynamicTable& operator=(const DynamicTable&) = delete;
  DynamicTable(DynamicTable&&) noexcept = default;
  DynamicTable& operator=(DynamicTable&&) noexcept = default;

  std::size_t count() const noexcept { return count_; }
  std::size_t size() const noexcept { return size_; }  // the sum of the entry sizes (4.1)
  std::uint32_t max_size() const noexcept { return max_size_; }
  std::uint64_t next_id() const noexcept { return first_id_ + count_; }  // the id of the next insert
  std::uint64_t oldest_id() const noexcept { return first_id_; }
  bool contains_id(std::uint64_t id) const noexcept { return id >= first_id_ && id < first_id_ + count_; }

  // The entry at dynamic position i (0 = newest = dynamic index 1); i < count().
  Entry at(std::size_t i) const noexcept { return by_id(first_id_ + count_ - 1 - i); }

  // The live entry with this id; contains_id(id).
  Entry by_id(std::uint64_t id) const noexcept {
    const Slot& s = ring_[id & ring_mask_];
    const char* p = arena_.get() + (s.pos - arena_base_);
    return {{p, s.name_len}, {p + s.name_len, s.value_len}, id, s.hashes};
  }

  // 4.3: a new maximum evicts entries from the back until the table fits.
  void set_max_size(std::uint32_t max_size) noexcept {
    max_size_ = max_size;
    while (size_ > max_size_) evict_oldest();
  }

  // 4.4: evicts from the back until the entry fits, then inserts it at the front. An entry larger
  // than the maximum empties the table and is not inserted (returns false). name and value may point
  // into this table (a name referenced by index): they are read before anything is moved. `hashes`
  // stay with the entry (Entry::hashes).
  bool insert(std::string_view name, std::string_view value, const EntryHashes& hashes = {}) {
    const std::size_t need = entry_size(name.size(), value.size());
    if (need > max_size_) {
      clear();
      return false;
    }
    while (size_ + need > max_size_) evict_oldest();
    const std::size_t bytes = name.size() + value.size();
    std::size_t tail = static_cast<std::size_t>(tail_pos_ - arena_base_);
    if (tail + bytes > arena_cap_) {
      make_room(name, value, bytes);
      tail = static_cast<std::size_t>(tail_pos_ - arena_base_);
    }
    char* dst = arena_.get() + tail;
    if (!name.empty()) std::memmove(dst, name.data(), name.size());
    if (!value.empty()) std::memmove(dst + name.size(), value.data(), value.size());
    if (count_ + 1 > ring_mask_ + 1 || ring_mask_ == 0) grow_ring();
    const std::uint64_t id = first_id_ + count_;
    ring_[id & ring_mask_] = {tail_pos_, static_cast<std::uint32_t>(name.size()),
                              static_cast<std::uint32_t>(value.size()), hashes};
    ++count_;
    tail_pos_ += bytes;
    size_ += need;
    return true;
  }

  void clear() noexcept {
    first_id_ += count_;
    count_ = 0;
    size_ = 0;
    head_pos_ = tail_pos_;
  }

 private:
  struct Slot {
    std::uint64_t pos;  // logical position of the name in the arena's byte stream
    std::uint32_t name_len, value_len;
    EntryHashes hashes;
  };

  void evict_oldest() noexcept {
    const Slot& s = ring_[first_id_ & ring_mask_];
    size_ -= entry_size(s.name_len, s.value_len);
    head_pos_ += s.name_len + s.value_len;
    ++first_id_;
    --count_;
  }

  bool points_into_arena(std::string_view s) const noexcept {
    const auto p = reinterpret_cast<std::uintptr_t>(s.data());
    const auto a = reinterpret_cast<std::uintptr_t>(arena_.get());
    return !s.empty() && arena_ && p >= a && p < a + arena_cap_;
  }

  // Compacts the live bytes to the start of a (maybe larger) arena. The new entry's name and value,
  // if they point into the arena, are copied into the new arena's tail first.
  void make_room(std::string_view& name, std::string_view& value, std::size_t bytes) {
    const std::size_t live = static_cast<std::size_t>(tail_pos_ - head_pos_);
    std::size_t cap = arena_cap_;
    if (2 * (live + bytes) > cap) {
      // The first arena holds a default table's worth at once: a new connection grows it no more.
      const std::size_t first = arena_cap_ ? 0 : std::min<std::size_t>(max_size_, kDefaultTableSize);
      cap = std::max<std::size_t>({2 * (live + bytes), 256, first});
    }
    const char* old = arena_.get() + (head_pos_ - arena_base_);
    if (cap != arena_cap_ || points_into_arena(name) || points_into_arena(value)) {
      std::unique_ptr<char[]> fresh(new char[cap]);
      if (live) std::memcpy(fresh.get(), old, live);
      // Copy the new entry's bytes now, while the old arena still holds them.
      if (!name.empty()) std::memcpy(fresh.get() + live, name.data(), name.size());
      if (!value.empty()) std::memcpy(fresh.get() + live + name.size(), value.data(), value.size());
      name = {fresh.get() + live, name.size()};
      value = {fresh.get() + live + name.size(), value.size()};
      arena_ = std::move(fresh);
      arena_cap_ = cap;
    } else if (live) {
      std::memmove(arena_.get(), old, live);
    }
    arena_base_ = head_pos_;
  }

  void grow_ring() {
    const std::size_t cap = ring_mask_ ? 2 * (ring_mask_ + 1) : 16;
    std::unique_ptr<Slot[]> fresh(new Slot[cap]);
    for (std::uint64_t id = first_id_; id < first_id_ + count_; ++id) fresh[id & (cap - 1)] = ring_[id & ring_mask_];
    ring_ = std::move(fresh);
    ring_mask_ = cap - 1;
  }

  std::unique_ptr<char[]> arena_;
  std::size_t arena_cap_ = 0;
  std::uint64_t arena_base_ = 0;  // logical position of arena_[0]
  std::uint64_t head_pos_ = 0;    // logical position of the oldest entry's bytes
  std::uint64_t tail_pos_ = 0;    // logical position after the newest entry's bytes
  std::unique_ptr<Slot[]> ring_;
  std::size_t ring_mask_ = 0;
  std::uint64_t first_id_ = 0;  // id of the oldest live entry
  std::size_t count_ = 0;
  std::size_t size_ = 0;
  std::uint32_t max_size_;
};

}  // namespace fasterapi::hpack
