// The error codes of the HPACK core. Every decoding error is one of these plus the byte offset in the
// header block where it was found; a decoder that returned one keeps returning it (the connection's
// compression context is lost: RFC 7541 section 2.2 makes any decoding error a connection error).
#pragma once

#include <cstdint>
#include <string_view>

namespace fasterapi::hpack {

enum class Errc : std::uint8_t {
  none = 0,
  truncated,                    // the block ends inside a representation (a prefix integer, a string length)
  integer_overflow,             // 5.1: above kMaxInteger, or more continuation octets than kMaxContinuationBytes
  string_past_end,              // 5.2: a string's length runs past the end of the block
  huffman_eos,                  // 5.2: the EOS symbol inside a Huffman-coded string
  huffman_padding,              // 5.2: padding longer than 7 bits, or not the most significant bits of EOS
  index_zero,                   // 6.1: index 0 is not used
  index_out_of_range,           // 2.3.3: an index past the static and the dynamic table
  table_size_too_large,         // 6.3: a size update above the SETTINGS_HEADER_TABLE_SIZE we advertised
  table_size_update_misplaced,  // 4.2: a size update after the first field of a block
  too_many_table_size_updates,  // 4.2: more than kMaxTableSizeUpdates at the start of a block
  table_size_not_reduced,       // 4.2: our setting went below the table size and the block did not follow
  header_list_too_large,        // RFC 9113 6.5.2: name + value + 32 per field, summed, above the limit
};

constexpr std::string_view errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::none: return "none";
    case Errc::truncated: return "truncated";
    case Errc::integer_overflow: return "integer_overflow";
    case Errc::string_past_end: return "string_past_end";
    case Errc::huffman_eos: return "huffman_eos";
    case Errc::huffman_padding: return "huffman_padding";
    case Errc::index_zero: return "index_zero";
    case Errc::index_out_of_range: return "index_out_of_range";
    case Errc::table_size_too_large: return "table_size_too_large";
    case Errc::table_size_update_misplaced: return "table_size_update_misplaced";
    case Errc::too_many_table_size_updates: return "too_many_table_size_updates";
    case Errc::table_size_not_reduced: return "table_size_not_reduced";
    case Errc::header_list_too_large: return "header_list_too_large";
  }
  return "unknown";
}

}  // namespace fasterapi::hpack
