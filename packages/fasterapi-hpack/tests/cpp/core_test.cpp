// Tests of the C++ core through its public headers only, as the native server compiles them.
// Built by tests/test_cpp_core.py with sanitizers; exits non-zero on the first failed check.
#include <fasterapi/hpack/hpack.hpp>

#include <cstdio>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fh = fasterapi::hpack;

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

using Headers = std::vector<std::pair<std::string, std::string>>;

std::vector<std::uint8_t> unhex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  }
  return out;
}

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    out += d[static_cast<std::uint8_t>(c) >> 4];
    out += d[static_cast<std::uint8_t>(c) & 15];
  }
  return out;
}

fh::Errc decode(fh::Decoder& d, const std::vector<std::uint8_t>& block, Headers& out,
                std::vector<fh::Representation>* reps = nullptr) {
  out.clear();
  return d.decode(block.data(), block.size(), [&](const fh::Field& f) {
    out.emplace_back(std::string(f.name), std::string(f.value));
    if (reps) reps->push_back(f.representation);
  });
}

std::string encode(fh::Encoder& e, const Headers& headers, bool huffman, bool sensitive = false) {
  fh::Buffer out;
  e.begin_block(out);
  for (const auto& [n, v] : headers) e.encode_field(n, v, sensitive, huffman, out);
  return std::string(out.view());
}

void test_huffman() {
  // Every byte value, alone and in a run, round trips.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (int i = 0; i < 256; ++i) {
    const std::string one(1, static_cast<char>(i));
    std::string coded, back;
    fh::huffman::encode(one, coded);
    CHECK(coded.size() == fh::huffman::encoded_length(one));
    CHECK(fh::huffman::decode(reinterpret_cast<const std::uint8_t*>(coded.data()), coded.size(), back) == fh::Errc::none);
    CHECK(back == one);
  }
  std::string coded, back;
  fh::huffman::encode(all, coded);
  CHECK(fh::huffman::decode(reinterpret_cast<const std::uint8_t*>(coded.data()), coded.size(), back) == fh::Errc::none);
  CHECK(back == all);
  // RFC 7541 C.4.1: "www.example.com".
  coded.clear();
  fh::huffman::encode("www.example.com", coded);
  CHECK(hex(coded) == "f1e3c2e5f23a6ba0ab90f4ff");
  // The empty string.
  back.clear();
  CHECK(fh::huffman::decode(nullptr, 0, back) == fh::Errc::none && back.empty());
  // Padding: 8 one-bits is too long; zero bits are not EOS; EOS itself is an error.
  const std::uint8_t eight_ones[] = {0xff};
  CHECK(fh::huffman::decode(eight_ones, 1, back) == fh::Errc::huffman_padding);
  const std::uint8_t zero_pad[] = {0x00};  // '0' (00000) then 000: not the EOS prefix
  CHECK(fh::huffman::decode(zero_pad, 1, back) == fh::Errc::huffman_padding);
  const std::uint8_t eos[] = {0xff, 0xff, 0xff, 0xff};  // 30 ones = EOS, then 2 more
  CHECK(fh::huffman::decode(eos, 4, back) == fh::Errc::huffman_eos);
  const std::uint8_t a_padded[] = {0x1f};  // 'a' (00011) + 111
  back.clear();
  CHECK(fh::huffman::decode(a_padded, 1, back) == fh::Errc::none && back == "a");
}

void test_integers() {
  std::uint8_t buf[fh::kMaxIntegerLength];
  // RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with 8 bits.
  CHECK(fh::encode_integer(buf, 10, 5, 0) == 1 && buf[0] == 10);
  CHECK(fh::encode_integer(buf, 1337, 5, 0) == 3 && buf[0] == 31 && buf[1] == 154 && buf[2] == 10);
  CHECK(fh::encode_integer(buf, 42, 8, 0) == 1 && buf[0] == 42);
  const std::uint32_t values[] = {0, 1, 30, 31, 32, 127, 128, 1337, 65535, 0xFFFFFFFFu};
  for (const unsigned prefix : {4u, 5u, 6u, 7u, 8u}) {
    for (const std::uint32_t v : values) {
      const std::size_t n = fh::encode_integer(buf, v, prefix, 0);
      const std::uint8_t* p = buf;
      std::uint32_t got = 0;
      CHECK(fh::decode_integer(p, buf + n, prefix, got) == fh::Errc::none && got == v && p == buf + n);
      // Every proper prefix is truncated.
      for (std::size_t cut = 1; cut < n; ++cut) {
        p = buf;
        CHECK(fh::decode_integer(p, buf + cut, prefix, got) == fh::Errc::truncated);
      }
    }
  }
  // 2^32 does not fit; six continuation octets are too many even for a small value.
  const std::uint8_t big[] = {0x1f, 0xe1, 0xff, 0xff, 0xff, 0x0f};  // 31 + 0xffffffe1 = 2^32
  const std::uint8_t* p = big;
  std::uint32_t got = 0;
  CHECK(fh::decode_integer(p, big + sizeof big, 5, got) == fh::Errc::integer_overflow);
  const std::uint8_t max[] = {0x1f, 0xe0, 0xff, 0xff, 0xff, 0x0f};  // 31 + 0xffffffe0 = 2^32 - 1
  p = max;
  CHECK(fh::decode_integer(p, max + sizeof max, 5, got) == fh::Errc::none && got == 0xFFFFFFFFu);
  const std::uint8_t longer[] = {0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  p = longer;
  CHECK(fh::decode_integer(p, longer + sizeof longer, 5, got) == fh::Errc::integer_overflow);
  const std::uint8_t five[] = {0x1f, 0x80, 0x80, 0x80, 0x80, 0x01};  // five continuations: allowed
  p = five;
  CHECK(fh::decode_integer(p, five + sizeof five, 5, got) == fh::Errc::none && got == 31 + (1u << 28));
}

void test_static_lookup() {
  for (std::uint32_t i = 1; i <= fh::kStaticTableSize; ++i) {
    const fh::StaticEntry& e = fh::kStaticTable[i - 1];
    const fh::StaticMatch m = fh::static_find(e.name, e.value);
    CHECK(m.full && m.index == i);
  }
  CHECK(fh::static_find(":status", "201").index == 8 && !fh::static_find(":status", "201").full);
  CHECK(fh::static_find("x-unknown", "").index == 0);
  CHECK(fh::static_find("", "").index == 0);
  static_assert(fh::static_find(":method", "POST").index == 3);
}

// RFC 7541 C.3 (no Huffman) and C.4 (Huffman): three requests on one connection.
void test_rfc_requests() {
  const Headers r1 = {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"}};
  const Headers r2 = {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"},
                      {"cache-control", "no-cache"}};
  const Headers r3 = {{":method", "GET"}, {":scheme", "https"}, {":path", "/index.html"},
                      {":authority", "www.example.com"}, {"custom-key", "custom-value"}};
  const char* plain[] = {"828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
                         "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"};
  const char* huff[] = {"828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"};
  for (const bool h : {false, true}) {
    fh::Decoder d;
    fh::Encoder e;
    const char** wires = h ? huff : plain;
    const Headers* reqs[] = {&r1, &r2, &r3};
    for (int i = 0; i < 3; ++i) {
      Headers got;
      CHECK(decode(d, unhex(wires[i]), got) == fh::Errc::none);
      CHECK(got == *reqs[i]);
      CHECK(hex(encode(e, *reqs[i], h)) == wires[i]);
    }
    CHECK(d.table().size() == 164 && d.table().count() == 3);
    CHECK(e.table().size() == 164);
  }
}

// RFC 7541 C.5: responses with a 256-octet table, evictions included.
void test_rfc_responses() {
  fh::Decoder d(256);
  Headers got;
  CHECK(decode(d, unhex("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
                        "6e1768747470733a2f2f7777772e6578616d706c652e636f6d"),
               got) == fh::Errc::none);
  CHECK(got.size() == 4 && got[0].second == "302" && d.table().size() == 222);
  CHECK(decode(d, unhex("4803333037c1c0bf"), got) == fh::Errc::none);
  CHECK(got.size() == 4 && got[0].second == "307" && got[3].first == "location" && d.table().size() == 222);
  CHECK(decode(d, unhex("88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
                        "3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
                        "657273696f6e3d31"),
               got) == fh::Errc::none);
  CHECK(got.size() == 6 && got[5].first == "set-cookie" && d.table().size() == 215 && d.table().count() == 3);
}

void test_decoder_errors() {
  struct Case {
    const char* wire;
    fh::Errc errc;
    std::size_t offset;
  };
  const Case cases[] = {
      {"80", fh::Errc::index_zero, 0},
      {"82be", fh::Errc::index_out_of_range, 1},          // 62 with an empty dynamic table
      {"82ff80808080808000", fh::Errc::integer_overflow, 1},
      {"82ff", fh::Errc::truncated, 1},
      {"400361", fh::Errc::string_past_end, 1},
      {"4001", fh::Errc::string_past_end, 1},             // the name's one octet is missing
      {"40", fh::Errc::truncated, 1},
      {"4001610", fh::Errc::truncated, 3},                // value missing (odd digit dropped)
      {"40016181ff", fh::Errc::huffman_padding, 3},
      {"4001618400000000", fh::Errc::huffman_padding, 3},
      {"400161", fh::Errc::truncated, 3},
      {"3fe21f", fh::Errc::table_size_too_large, 0},      // 31 + 0x62 + (0x1f << 7) = 4097
      {"8220", fh::Errc::table_size_update_misplaced, 1},
      {"202020", fh::Errc::too_many_table_size_updates, 2},
  };
  for (const Case& c : cases) {
    fh::Decoder d;
    Headers got;
    const fh::Errc e = decode(d, unhex(c.wire), got);
    if (e != c.errc || d.error_offset() != c.offset) {
      std::fprintf(stderr, "  %s: got %s@%zu\n", c.wire, std::string(fh::errc_name(e)).c_str(), d.error_offset());
    }
    CHECK(e == c.errc);
    CHECK(d.error_offset() == c.offset);
    // Sticky.
    CHECK(decode(d, unhex("82"), got) == c.errc && got.empty());
  }
  // 4096 itself is allowed (3fe11f), 4097 is not (3fe21f).
  {
    fh::Decoder at;
    Headers got;
    CHECK(decode(at, unhex("3fe11f82"), got) == fh::Errc::none && got.size() == 1);
    fh::Decoder past;
    CHECK(decode(past, unhex("3fe21f82"), got) == fh::Errc::table_size_too_large && past.error_offset() == 0);
  }
  // The allowed size lowered: the next block must open with an update at or below it.
  {
    fh::Decoder d;
    Headers got;
    d.set_max_allowed_table_size(100);
    CHECK(decode(d, unhex("82"), got) == fh::Errc::table_size_not_reduced && d.error_offset() == 0);
    fh::Decoder d2;
    d2.set_max_allowed_table_size(100);
    CHECK(decode(d2, unhex("3f4582"), got) == fh::Errc::none && d2.table().max_size() == 100);
    fh::Decoder d3;
    d3.set_max_allowed_table_size(100);
    CHECK(decode(d3, unhex("3f46"), got) == fh::Errc::table_size_too_large);
  }
  // Header list size: ":method GET" is 7 + 3 + 32 = 42.
  {
    fh::Decoder at(4096, 84);
    Headers got;
    CHECK(decode(at, unhex("8282"), got) == fh::Errc::none && got.size() == 2);
    fh::Decoder past(4096, 83);
    CHECK(decode(past, unhex("8282"), got) == fh::Errc::header_list_too_large && past.error_offset() == 1);
  }
  // The bomb: one large entry indexed a thousand times is refused after a handful.
  {
    fh::Decoder d(4096, 65536);
    std::vector<std::uint8_t> wire = {0x40, 0x01, 'a', 0x7f, 0x80 | (3000 - 127) % 128, (3000 - 127) / 128};
    wire.insert(wire.end(), 3000, 'x');
    for (int i = 0; i < 1000; ++i) wire.push_back(0xbe);
    std::size_t calls = 0;
    const fh::Errc e = d.decode(wire.data(), wire.size(), [&](const fh::Field&) { ++calls; });
    CHECK(e == fh::Errc::header_list_too_large);
    CHECK(calls == 21);  // 3033 octets each: 21 fit in 65536
  }
}

void test_table() {
  fh::DynamicTable t(100);
  CHECK(t.insert("aaaa", "bbbb"));  // 40
  CHECK(t.insert("cccc", "dddd"));  // 80
  CHECK(t.insert("eeee", "ffff"));  // evicts the first
  CHECK(t.count() == 2 && t.size() == 80 && t.at(0).name == "eeee" && t.at(1).name == "cccc");
  CHECK(t.oldest_id() == 1 && t.next_id() == 3 && t.at(0).id == 2);
  // A name that points at the entry the insert evicts (4.4).
  const fh::DynamicTable::Entry old = t.at(1);
  CHECK(t.insert(old.name, "gggggggg"));
  CHECK(t.at(0).name == "cccc" && t.at(0).value == "gggggggg");
  CHECK(!t.insert(std::string(80, 'x'), ""));  // 112 > 100: empties the table
  CHECK(t.count() == 0 && t.size() == 0);
  t.set_max_size(4096);
  // Many inserts through compactions and ring growth keep contents right.
  for (int i = 0; i < 5000; ++i) {
    const std::string v = std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'v');
    CHECK(t.insert("k" + std::to_string(i % 7), v));
    CHECK(t.at(0).value == v);
    if (t.count() > 10) CHECK(t.at(10).value == std::to_string(i - 10) + std::string(static_cast<std::size_t>((i - 10) % 50), 'v'));
    CHECK(t.size() <= 4096);
  }
  t.set_max_size(0);
  CHECK(t.count() == 0);
}

void test_encoder() {
  fh::Encoder e;
  fh::Decoder d;
  Headers got;
  std::vector<fh::Representation> reps;
  // Sensitive fields are never indexed, by name or when asked.
  const Headers h = {{":method", "GET"}, {"authorization", "secret"}, {"cookie", "short"},
                     {"cookie", std::string(25, 'c')}, {"x-long", std::string(3100, 'l')}, {"x-a", "1"}};
  const std::string block = encode(e, h, true);
  CHECK(decode(d, unhex(hex(block)), got, &reps) == fh::Errc::none);
  CHECK(got == h);
  CHECK(reps[0] == fh::Representation::indexed);
  CHECK(reps[1] == fh::Representation::never_indexed);
  CHECK(reps[2] == fh::Representation::never_indexed);
  CHECK(reps[3] == fh::Representation::incremental);
  CHECK(reps[4] == fh::Representation::without_indexing);  // 3138 > 3/4 of 4096
  CHECK(reps[5] == fh::Representation::incremental);
  // The second time, what was indexed is one octet each.
  reps.clear();
  const std::string again = encode(e, {{"cookie", std::string(25, 'c')}, {"x-a", "1"}, {"x-a", "2"}}, true);
  CHECK(decode(d, unhex(hex(again)), got, &reps) == fh::Errc::none);
  CHECK(reps[0] == fh::Representation::indexed && reps[1] == fh::Representation::indexed);
  CHECK(again.size() == 2 + 1 + 1 + 1);  // two indexed, then x-a by dynamic name index + "2"
  CHECK(got[2].second == "2");
  // Size updates: lowered then raised is two updates, min first.
  e.set_max_table_size(0);
  e.set_max_table_size(4096);
  const std::string resized = encode(e, {{":method", "GET"}}, true);
  CHECK(hex(resized) == "203fe11f82");
  CHECK(decode(d, unhex(hex(resized)), got) == fh::Errc::none && d.table().count() == 0);
  e.set_max_table_size(2000);
  e.set_max_table_size(1000);
  const std::string lowered = encode(e, {}, true);
  CHECK(hex(lowered) == "3fc907");  // 1000 only
  CHECK(encode(e, {}, true).empty());
  // Many distinct fields through the hash indexes and evictions, round trip against the decoder.
  fh::Encoder e2;
  fh::Decoder d2;
  for (int i = 0; i < 3000; ++i) {
    const Headers fields = {{"x-k" + std::to_string(i % 13), "v" + std::to_string(i % 101)},
                            {"x-k" + std::to_string(i % 5), "w"}};
    const std::string b = encode(e2, fields, i % 2 == 0);
    CHECK(decode(d2, unhex(hex(b)), got) == fh::Errc::none);
    CHECK(got == fields);
    CHECK(e2.table().count() == d2.table().count());
  }
  // Through evictions and index rebuilds (which read the hashes kept with each entry), what the table
  // holds is still found: a live field is one indexed octet, a live name is referenced by index.
  fh::Encoder e3;
  fh::Decoder d3;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "x-n" + std::to_string(i % 3);
    const std::string fresh = encode(e3, {{":path", "/p" + std::to_string(i)}, {name, "v" + std::to_string(i)}}, i % 2 == 0);
    CHECK(decode(d3, unhex(hex(fresh)), got) == fh::Errc::none);
    const std::string back = std::to_string(i >= 5 ? i - 5 : i);
    const std::string indexed = encode(e3, {{":path", "/p" + back}, {name, "v" + std::to_string(i)}}, false);
    CHECK(indexed.size() == 2 && (static_cast<std::uint8_t>(indexed[0]) & 0x80) && (static_cast<std::uint8_t>(indexed[1]) & 0x80));
    const std::string by_name = encode(e3, {{name, "w" + std::to_string(i)}}, false);
    CHECK((static_cast<std::uint8_t>(by_name[0]) & 0xc0) == 0x40 && (static_cast<std::uint8_t>(by_name[0]) & 0x3f) != 0);
    CHECK(decode(d3, unhex(hex(indexed + by_name)), got) == fh::Errc::none);
    CHECK(got.size() == 3 && got[0].second == "/p" + back && got[2].second == "w" + std::to_string(i));
  }
}

}  // namespace

int main() {
  test_huffman();
  test_integers();
  test_static_lookup();
  test_rfc_requests();
  test_rfc_responses();
  test_decoder_errors();
  test_table();
  test_encoder();
  if (failures) {
    std::printf("%d checks failed\n", failures);
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}
