// Tests of the C++ core through its public headers only, as the native server compiles them.
// Built by tests/test_cpp_core.py with sanitizers; exits non-zero on the first failed check.
#include <fasterapi/http1/parser.hpp>
#include <fasterapi/http1/serializer.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace fh = fasterapi::http1;

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

// Feeds `stream` in pieces of `step` bytes the way a server does (keeping unconsumed bytes in its
// own buffer) and returns a transcript of the events.
std::string transcript(fh::Role role, const std::string& stream, std::size_t step, fh::Config config = {}) {
  fh::Parser p(role, config);
  std::string buffer, out;
  for (std::size_t pos = 0; pos < stream.size(); pos += step) {
    buffer.append(stream, pos, step);
    while (true) {
      fh::Event ev;
      std::size_t used = 0;
      const fh::Status s = p.next(buffer, ev, used);
      if (s == fh::Status::error) return out + "error:" + std::string(fh::errc_name(p.error())) + "@" + std::to_string(p.error_offset());
      if (s == fh::Status::event) {
        switch (ev.kind) {
          case fh::Event::Kind::head:
            out += "head:" + std::string(ev.head->method) + " " + std::string(ev.head->target) + " " +
                   std::to_string(ev.head->status) + " h=" + std::to_string(ev.head->headers.size());
            for (const fh::Header& h : ev.head->headers) out += "|" + std::string(h.name) + "=" + std::string(h.value);
            out += ";";
            break;
          case fh::Event::Kind::data: out += "data:" + std::string(ev.data) + ";"; break;
          case fh::Event::Kind::end: out += "end:" + std::to_string(ev.trailers.size()) + ";"; break;
          case fh::Event::Kind::upgrade: out += "upgrade:" + std::string(ev.data) + ";"; break;
        }
      }
      buffer.erase(0, used);
      if (s == fh::Status::need_more) break;
    }
  }
  return out;
}

std::string merge_data(const std::string& t) {  // body pieces differ with the step; their bytes do not
  std::string out;
  std::size_t i = 0;
  while (i < t.size()) {
    if (t.compare(i, 5, "data:") == 0) {
      if (out.size() >= 1 && out.back() == '\x01') {
        out.pop_back();
      } else {
        out += "data:";
      }
      const std::size_t end = t.find(';', i);
      out += t.substr(i + 5, end - i - 5) + '\x01';
      i = end + 1;
    } else {
      const std::size_t end = t.find(';', i);
      if (end == std::string::npos) {
        out += t.substr(i);
        break;
      }
      if (!out.empty() && out.back() == '\x01') out.back() = ';';
      out += t.substr(i, end - i + 1);
      i = end + 1;
    }
  }
  return out;
}

void test_split_invariance() {
  const std::string stream =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;k=v\r\nabc\r\n0\r\nT: 1\r\n\r\n"
      "GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
  const std::string whole = transcript(fh::Role::request, stream, stream.size());
  CHECK(whole ==
        "head:GET /a 0 h=1|Host=x;end:0;head:POST /b 0 h=1|Content-Length=5;data:hello;end:0;"
        "head:PUT /c 0 h=1|Transfer-Encoding=chunked;data:abc;end:1;"
        "head:GET /ws 0 h=2|Connection=upgrade|Upgrade=websocket;end:0;upgrade:;");
  for (std::size_t step = 1; step < 20; ++step) {
    CHECK(merge_data(transcript(fh::Role::request, stream, step)).find("head:GET /ws") != std::string::npos);
    CHECK(merge_data(transcript(fh::Role::request, stream.substr(0, stream.size() - 1), step)) ==
          merge_data(transcript(fh::Role::request, stream.substr(0, stream.size() - 1), stream.size())));
  }
}

void test_errors() {
  CHECK(transcript(fh::Role::request, "GET / HTTP/1.1\r\nA : b\r\n\r\n", 100) == "error:whitespace_before_colon@17");
  CHECK(transcript(fh::Role::request, "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 100)
            .starts_with("error:content_length_and_transfer_encoding"));
  fh::Config small;
  small.limits.max_headers = 1;
  CHECK(transcript(fh::Role::request, "GET / HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n", 100, small) == "error:too_many_headers@22");
  CHECK(fh::status_hint(fh::Errc::request_line_too_long) == 414);
}

void test_serializer() {
  std::string out;
  const fh::Header headers[] = {{"content-type", "text/plain"}, {"content-length", "2"}};
  CHECK(fh::write_response_head(out, 200, "OK", headers).ok());
  CHECK(out == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n");
  const fh::Header bad[] = {{"x", "a\r\nInjected: 1"}};
  out.clear();
  CHECK(fh::write_response_head(out, 200, "OK", bad).error == fh::WriteErrc::invalid_header_value && out.empty());
  fh::write_chunk(out, "hello");
  CHECK(out == "5\r\nhello\r\n");
  // What the serializer writes, the parser reads back.
  std::string req;
  const fh::Header h2[] = {{"Host", "a"}, {"Content-Length", "3"}};
  CHECK(fh::write_request_head(req, "POST", "/x", h2).ok());
  req += "abc";
  CHECK(transcript(fh::Role::request, req, 3) == "head:POST /x 0 h=2|Host=a|Content-Length=3;data:abc;end:0;");
}

// Every vector path finds what the scalar loop finds: each byte value, at each position, in
// buffers of every length around the vector widths.
void test_scans_agree() {
  namespace scan = fh::scan;
  std::string buf;
  int mismatches = 0;
  for (std::size_t n = 0; n <= 70; ++n) {
    for (std::size_t pos = 0; pos < n || (n == 0 && pos == 0); ++pos) {
      for (int b = 0; b < 256; ++b) {
        buf.assign(n, 'a');
        if (n != 0) buf[pos] = static_cast<char>(b);
        const char* d = buf.data();
        const std::size_t crlf = scan::crlf_scalar(d, n), bad = scan::invalid_field_byte_scalar(d, n);
        if (scan::find_crlf(d, n) != crlf || scan::find_invalid_field_byte(d, n) != bad) ++mismatches;
#ifdef FASTERAPI_HTTP1_X86
        if (scan::crlf_sse2(d, n) != crlf || scan::invalid_field_byte_sse2(d, n) != bad) ++mismatches;
        if (scan::cpu_has_avx2() && (scan::crlf_avx2(d, n) != crlf || scan::invalid_field_byte_avx2(d, n) != bad)) {
          ++mismatches;
        }
#endif
      }
      if (n == 0) break;
    }
  }
  CHECK(mismatches == 0);
  std::printf("scan implementation: %s\n", scan::implementation());
}

// The 64-byte masks of the field-line walk agree with the byte-by-byte rule, for each byte value
// at each position, strict and relaxed.
void test_masks_agree() {
  namespace scan = fh::scan;
  int mismatches = 0;
  for (const bool relaxed : {false, true}) {
    for (std::size_t pos = 0; pos < 64; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string buf(64, 'a');
        buf[pos] = static_cast<char>(b);
        buf[(pos + 17) % 64] = '\t';
        const std::uint64_t want = scan::field_mask64_scalar(buf.data(), relaxed);
        const auto c = static_cast<unsigned char>(b);
        const bool bad = relaxed ? (c == '\r' || c == '\n') : (c < 0x20 && c != '\t') || c == 0x7F;
        if (((want >> pos) & 1u) != static_cast<std::uint64_t>(bad) || (want & ~(std::uint64_t{1} << pos)) != 0) {
          ++mismatches;
        }
        if (scan::Baseline::field_mask64(buf.data(), relaxed) != want) ++mismatches;
#ifdef FASTERAPI_HTTP1_X86
        if (scan::field_mask64_sse2(buf.data(), relaxed) != want) ++mismatches;
        if (scan::cpu_has_avx2() && scan::field_mask64_avx2(buf.data(), relaxed) != want) ++mismatches;
#endif
        const std::uint64_t names = scan::non_tchar_mask64_scalar(buf.data());
        if (((names >> pos) & 1u) != static_cast<std::uint64_t>(!fh::chars::is_tchar(c))) ++mismatches;
#ifdef FASTERAPI_HTTP1_X86
        if (scan::cpu_has_avx2() && scan::non_tchar_mask64_avx2(buf.data()) != names) ++mismatches;
#endif
      }
    }
  }
  CHECK(mismatches == 0);
}

// The word-at-a-time comparison agrees with the byte-by-byte one for every byte a name or a value
// may hold (all but CR, which neither may), at each position of each literal the parser uses.
void test_iequals_checked() {
  int mismatches = 0;
  for (const std::string_view lit : {"content-length", "transfer-encoding", "connection", "upgrade", "expect",
                                     "chunked", "close", "keep-alive", "te", "x"}) {
    for (std::size_t pos = 0; pos < lit.size(); ++pos) {
      for (int b = 0; b < 256; ++b) {
        if (b == '\r') continue;
        std::string s(lit);
        s[pos] = static_cast<char>(b);
        if (fh::chars::iequals_checked(s, lit) != fh::chars::iequals(s, lit)) ++mismatches;
        std::string upper(s);
        for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        if (fh::chars::iequals_checked(upper, lit) != fh::chars::iequals(upper, lit)) ++mismatches;
      }
    }
    if (fh::chars::iequals_checked(std::string(lit) + "s", lit) || fh::chars::iequals_checked(lit.substr(1), lit)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

}  // namespace

int main() {
  test_iequals_checked();
  test_scans_agree();
  test_masks_agree();
  test_split_invariance();
  test_errors();
  test_serializer();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::puts("core_test: all checks passed");
  return 0;
}
