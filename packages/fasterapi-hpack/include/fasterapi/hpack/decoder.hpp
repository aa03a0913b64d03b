// The HPACK decoder, RFC 7541 sections 3, 4 and 6: a complete header block in, one callback per field.
//
// Theory of operation. decode() reads representations from the front of the block; the first
// octet's high bits say which one (section 6):
//   1xxxxxxx  indexed field (6.1), 7-bit index
//   01xxxxxx  literal with incremental indexing (6.2.1), 6-bit name index, 0 = literal name
//   001xxxxx  dynamic table size update (6.3), 5-bit size
//   0001xxxx  literal never indexed (6.2.3), 4-bit name index
//   0000xxxx  literal without indexing (6.2.2), 4-bit name index
// Size updates may only open a block (4.2), at most kMaxTableSizeUpdates of them. The header list
// size (name + value + 32 per field, RFC 9113 6.5.2) is added up before each field reaches the
// callback, from lengths known before anything is copied, so a small block of indexed references
// cannot make the caller build a huge list (the "HPACK bomb"). Any error is returned with the byte
// offset where it was found, and is sticky: the dynamic table may no longer match the peer's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "errors.hpp"
#include "huffman.hpp"
#include "integer.hpp"
#include "static_table.hpp"
#include "table.hpp"

namespace fasterapi::hpack {

// Python-hpack's default: 64 KiB of decoded header list (with the 32-octet overhead per field).
inline constexpr std::size_t kDefaultMaxHeaderListSize = 65536;
// 4.2: a block may lower then raise the size (two updates); a third has no use but to burn CPU.
inline constexpr int kMaxTableSizeUpdates = 2;

enum class Representation : std::uint8_t { indexed, incremental, without_indexing, never_indexed };
enum class Source : std::uint8_t { literal, static_table, dynamic_table };

inline constexpr std::uint64_t kNoEntry = ~std::uint64_t{0};

// One decoded field. The views are valid until the callback returns.
struct Field {
  std::string_view name, value;
  Representation representation;
  // Where the name (and, for an indexed field, the value) came from.
  Source source;
  std::uint32_t static_index;  // 1..61 when source == static_table
  std::uint64_t entry_id;      // the dynamic entry's id when source == dynamic_table
  std::uint64_t inserted_id;   // incremental: the id of the entry just added, kNoEntry if it was too large
  std::size_t offset;          // the representation's first octet in the block
};

class Decoder {
 public:
  explicit Decoder(std::uint32_t max_table_size = kDefaultTableSize,
                   std::size_t max_header_list_size = kDefaultMaxHeaderListSize)
      : table_(max_table_size), max_allowed_table_size_(max_table_size), max_header_list_size_(max_header_list_size) {}

  // The SETTINGS_HEADER_TABLE_SIZE we advertised (and the peer acknowledged): size updates above it
  // are errors, and if it falls below the table's size the next block must open with an update.
  void set_max_allowed_table_size(std::uint32_t n) noexcept { max_allowed_table_size_ = n; }
  std::uint32_t max_allowed_table_size() const noexcept { return max_allowed_table_size_; }
  void set_max_header_list_size(std::size_t n) noexcept { max_header_list_size_ = n; }
  std::size_t max_header_list_size() const noexcept { return max_header_list_size_; }
  // Sets the table's maximum size directly (as python-hpack's Decoder.header_table_size does).
  void set_table_size(std::uint32_t n) noexcept { table_.set_max_size(n); }
  const DynamicTable& table() const noexcept { return table_; }

  Errc error() const noexcept { return error_; }
  std::size_t error_offset() const noexcept { return error_offset_; }

  // Decodes one complete header block, calling on_field(const Field&) for each field in order.
  template <class OnField>
  Errc decode(const std::uint8_t* data, std::size_t len, OnField&& on_field) {
    if (error_ != Errc::none) return error_;
    const std::uint8_t* p = data;
    const std::uint8_t* const end = data + len;
    std::size_t list_size = 0;
    int updates = 0;
    bool fields_started = false;
    auto fail = [&](Errc e, const std::uint8_t* at) {
      error_ = e;
      error_offset_ = static_cast<std::size_t>(at - data);
      return e;
    };
    while (p < end) {
      const std::uint8_t* const start = p;
      const std::uint8_t first = *p;
      if ((first & 0xe0) == 0x20) {  // 6.3 dynamic table size update
        if (fields_started) return fail(Errc::table_size_update_misplaced, start);
        if (++updates > kMaxTableSizeUpdates) return fail(Errc::too_many_table_size_updates, start);
        std::uint32_t size = 0;
        if (const Errc e = decode_integer(p, end, 5, size); e != Errc::none) return fail(e, start);
        if (size > max_allowed_table_size_) return fail(Errc::table_size_too_large, start);
        table_.set_max_size(size);
        continue;
      }
      if (!fields_started) {
        fields_started = true;
        if (table_.max_size() > max_allowed_table_size_) return fail(Errc::table_size_not_reduced, start);
      }
      Field f{};
      f.offset = static_cast<std::size_t>(start - data);
      f.inserted_id = kNoEntry;
      std::uint32_t index = 0;
      if (first & 0x80) {  // 6.1 indexed field
        if (const Errc e = decode_integer(p, end, 7, index); e != Errc::none) return fail(e, start);
        if (index == 0) return fail(Errc::index_zero, start);
        if (!lookup(index, f, true)) return fail(Errc::index_out_of_range, start);
        f.representation = Representation::indexed;
        list_size += entry_size(f.name.size(), f.value.size());
        if (list_size > max_header_list_size_) return fail(Errc::header_list_too_large, start);
        on_field(static_cast<const Field&>(f));
        continue;
      }
      unsigned prefix = 4;  // 6.2.2 / 6.2.3
      f.representation = (first & 0x10) ? Representation::never_indexed : Representation::without_indexing;
      if (first & 0x40) {  // 6.2.1
        prefix = 6;
        f.representation = Representation::incremental;
      }
      if (const Errc e = decode_integer(p, end, prefix, index); e != Errc::none) return fail(e, start);
      const std::uint8_t* at = p;
      if (index == 0) {
        f.source = Source::literal;
        if (const Errc e = read_string(p, end, name_buf_, f.name); e != Errc::none) return fail(e, at);
      } else if (!lookup(index, f, false)) {
        return fail(Errc::index_out_of_range, start);
      }
      // The name alone may already be too much; say so before decoding the value.
      if (list_size + entry_size(f.name.size(), 0) > max_header_list_size_) {
        return fail(Errc::header_list_too_large, start);
      }
      at = p;
      if (const Errc e = read_string(p, end, value_buf_, f.value); e != Errc::none) return fail(e, at);
      list_size += entry_size(f.name.size(), f.value.size());
      if (list_size > max_header_list_size_) return fail(Errc::header_list_too_large, start);
      if (f.representation == Representation::incremental) {
        if (table_.insert(f.name, f.value)) {
          const DynamicTable::Entry added = table_.at(0);
          f.inserted_id = added.id;
          f.name = added.name;  // the old views may point into bytes the insert moved
          f.value = added.value;
        }
      }
      on_field(static_cast<const Field&>(f));
    }
    if (!fields_started && table_.max_size() > max_allowed_table_size_) {
      return fail(Errc::table_size_not_reduced, end);
    }
    return Errc::none;
  }

 private:
  // A growable buffer that does not zero what it hands out.
  class Scratch {
   public:
    char* reserve(std::size_t n) {
      if (n > cap_) {
        cap_ = n < 256 ? 256 : n * 2;
        buf_.reset(new char[cap_]);
      }
      return buf_.get();
    }

   private:
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
  };

  // 2.3.3: indices 1..61 are the static table, then the dynamic table, newest first.
  bool lookup(std::uint32_t index, Field& f, bool with_value) const noexcept {
    if (index <= kStaticTableSize) {
      const StaticEntry& e = kStaticTable[index - 1];
      f.name = e.name;
      if (with_value) f.value = e.value;
      f.source = Source::static_table;
      f.static_index = index;
      return true;
    }
    const std::size_t i = index - kStaticTableSize - 1;
    if (i >= table_.count()) return false;
    const DynamicTable::Entry e = table_.at(i);
    f.name = e.name;
    if (with_value) f.value = e.value;
    f.source = Source::dynamic_table;
    f.entry_id = e.id;
    return true;
  }

  // 5.2 string literal: H bit, 7-bit length, octets (Huffman-coded if H).
  static Errc read_string(const std::uint8_t*& p, const std::uint8_t* end, Scratch& buf, std::string_view& out) {
    if (p == end) return Errc::truncated;
    const bool huffman = (*p & 0x80) != 0;
    std::uint32_t n = 0;
    if (const Errc e = decode_integer(p, end, 7, n); e != Errc::none) return e;
    if (n > static_cast<std::size_t>(end - p)) return Errc::string_past_end;
    if (!huffman) {
      out = {reinterpret_cast<const char*>(p), n};
      p += n;
      return Errc::none;
    }
    char* dst = buf.reserve(huffman::max_decoded_length(n));
    const huffman::DecodeResult r = huffman::decode_to(p, n, dst);
    if (r.error != Errc::none) return r.error;
    out = {dst, r.size};
    p += n;
    return Errc::none;
  }

  DynamicTable table_;
  std::uint32_t max_allowed_table_size_;
  std::size_t max_header_list_size_;
  Scratch name_buf_, value_buf_;
  Errc error_ = Errc::none;
  std::size_t error_offset_ = 0;
};

}  // namespace fasterapi::hpack
