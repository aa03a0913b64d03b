// The C-level half of bench_http1.py: fasterapi-http1's C++ core against llhttp and picohttpparser,
// with no Python anywhere. bench_http1.py compiles this file at bench time (g++ -O2, into a temp
// dir) together with the C sources of the anchors it found, and feeds it the same inputs it times
// through the Python APIs. Each parser is compiled in only when its macro is defined:
//   BENCH_FASTERAPI  fasterapi::http1::Parser   (-I fasterapi_http1.get_include())
//   BENCH_LLHTTP     llhttp                      (llhttp.c api.c http.c, -I <dir of llhttp.h>)
//   BENCH_PICO       picohttpparser, scalar      (picohttpparser.c, compiled with -U__SSE4_2__)
// By hand, for instance with llhttp only:
//   gcc -O2 -c llhttp.c api.c http.c -I<llhttp include>
//   g++ -O2 -std=c++20 -DBENCH_LLHTTP -I<llhttp include> bench_http1_core.cpp *.o -o bench_http1_core
//
// Input on stdin, one line per input: `case <name> <file>` (the file holds the raw bytes).
// Arguments: <runs> <min_run_ms>. With runs = 0 the program only parses each input once and
// prints what each parser saw (bench_http1.py checks that before it asks for timings).
// One line per (parser, input) on stdout, fields separated by tabs:
//   <parser> <case> <what it saw> <median ns per input> <ns of each run, ','>
// where <what it saw> lists the messages, '|'-separated, each as
//   <method> <target> <header count> <header bytes: names + values> <body length>
//
// What one iteration does, per parser (the work a server does before it can route the request):
// - fasterapi: Parser::next() until need_more; a Head gives method, target and the header views
//   (the parser also works out the framing, keep-alive, Expect and Upgrade); Data adds up the body.
// - llhttp: llhttp_execute() over the whole buffer, with callbacks that record method, URL and
//   each header name/value as views into the buffer (as a server embedding llhttp does) and add
//   up the body; llhttp_reset() first.
// - picohttpparser: phr_parse_request() per message into a phr_header array, then the
//   Content-Length lookup the caller must do itself (pico does not frame bodies) to skip the body
//   and find the next message.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifdef BENCH_LLHTTP
#include "llhttp.h"
#endif
#ifdef BENCH_PICO
#include "picohttpparser.h"
#endif
#ifdef BENCH_FASTERAPI
#include <fasterapi/http1/parser.hpp>
#endif

namespace {

constexpr std::size_t kMaxMessages = 64;
constexpr std::size_t kMaxHeaders = 100;  // as fasterapi's default max_headers

// Keeps the compiler from dropping a result it can see is unused.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

struct Span {
  const char* p = nullptr;
  std::size_t n = 0;
  // Callback parsers may hand a span over in pieces; within one buffer the pieces are adjacent.
  void append(const char* at, std::size_t len) {
    if (p == nullptr) p = at;
    n += len;
  }
  std::string_view view() const { return {p, n}; }
};

struct Message {
  Span method, target;
  std::size_t headers = 0;
  std::size_t header_bytes = 0;  // filled only when describing (not in the timed loop)
  std::size_t body = 0;
};

// What one parse of one input produced.
struct Sink {
  Message msgs[kMaxMessages];
  std::size_t count = 0;
  bool describe = false;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_http1_core: %s\n", message.c_str());
  std::exit(2);
}

// --- picohttpparser -----------------------------------------------------------------------------
#ifdef BENCH_PICO

bool iequals_content_length(const char* name, std::size_t len) {
  static constexpr char kName[] = "content-length";
  if (len != sizeof kName - 1) return false;
  for (std::size_t i = 0; i < len; ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != kName[i]) return false;
  }
  return true;
}

struct Pico {
  phr_header headers[kMaxHeaders];

  bool parse(std::string_view in, Sink& s) {
    s.count = 0;
    std::size_t off = 0;
    while (off < in.size()) {
      const char* method = nullptr;
      const char* path = nullptr;
      std::size_t method_len = 0, path_len = 0, num_headers = kMaxHeaders;
      int minor = -1;
      const int r = phr_parse_request(in.data() + off, in.size() - off, &method, &method_len, &path, &path_len,
                                      &minor, headers, &num_headers, 0);
      if (r <= 0 || s.count == kMaxMessages) return false;
      std::size_t body = 0;
      for (std::size_t i = 0; i < num_headers; ++i) {
        if (headers[i].name != nullptr && iequals_content_length(headers[i].name, headers[i].name_len)) {
          body = 0;
          for (std::size_t k = 0; k < headers[i].value_len; ++k) {
            const char c = headers[i].value[k];
            if (c < '0' || c > '9') return false;
            body = body * 10 + static_cast<std::size_t>(c - '0');
          }
        }
      }
      off += static_cast<std::size_t>(r);
      if (body > in.size() - off) return false;
      Message& m = s.msgs[s.count++];
      m.method = {method, method_len};
      m.target = {path, path_len};
      m.headers = num_headers;
      m.body = body;
      if (s.describe) {
        m.header_bytes = 0;
        for (std::size_t i = 0; i < num_headers; ++i) m.header_bytes += headers[i].name_len + headers[i].value_len;
      }
      off += body;
    }
    return true;
  }
};

#endif

// --- llhttp -------------------------------------------------------------------------------------
#ifdef BENCH_LLHTTP

struct Llhttp {
  struct Field {
    Span name, value;
  };
  llhttp_t parser;
  llhttp_settings_t settings;
  Sink* sink = nullptr;
  Message* cur = nullptr;
  Field fields[kMaxHeaders];
  std::size_t nfields = 0;
  bool in_value = true;  // the last callback was a value (so a name starts a new field)
  bool overflow = false;

  static Llhttp& self(llhttp_t* p) { return *static_cast<Llhttp*>(p->data); }

  Llhttp() {
    llhttp_settings_init(&settings);
    settings.on_message_begin = [](llhttp_t* p) -> int {
      Llhttp& b = self(p);
      if (b.sink->count == kMaxMessages) {
        b.overflow = true;
        return -1;
      }
      b.cur = &b.sink->msgs[b.sink->count];
      *b.cur = Message{};
      b.nfields = 0;
      b.in_value = true;
      return 0;
    };
    settings.on_method = [](llhttp_t* p, const char* at, std::size_t len) -> int {
      self(p).cur->method.append(at, len);
      return 0;
    };
    settings.on_url = [](llhttp_t* p, const char* at, std::size_t len) -> int {
      self(p).cur->target.append(at, len);
      return 0;
    };
    settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t len) -> int {
      Llhttp& b = self(p);
      if (b.in_value) {
        if (b.nfields == kMaxHeaders) {
          b.overflow = true;
          return -1;
        }
        b.fields[b.nfields++] = Field{};
        b.in_value = false;
      }
      b.fields[b.nfields - 1].name.append(at, len);
      return 0;
    };
    settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t len) -> int {
      Llhttp& b = self(p);
      b.in_value = true;
      b.fields[b.nfields - 1].value.append(at, len);
      return 0;
    };
    settings.on_headers_complete = [](llhttp_t* p) -> int {
      Llhttp& b = self(p);
      b.cur->headers = b.nfields;
      if (b.sink->describe) {
        for (std::size_t i = 0; i < b.nfields; ++i) b.cur->header_bytes += b.fields[i].name.n + b.fields[i].value.n;
      }
      return 0;
    };
    settings.on_body = [](llhttp_t* p, const char*, std::size_t len) -> int {
      self(p).cur->body += len;
      return 0;
    };
    settings.on_message_complete = [](llhttp_t* p) -> int {
      ++self(p).sink->count;
      return 0;
    };
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    parser.data = this;
  }
  Llhttp(const Llhttp&) = delete;
  Llhttp& operator=(const Llhttp&) = delete;

  bool parse(std::string_view in, Sink& s) {
    s.count = 0;
    sink = &s;
    overflow = false;
    llhttp_reset(&parser);
    return llhttp_execute(&parser, in.data(), in.size()) == HPE_OK && !overflow;
  }
};

#endif

// --- fasterapi-http1 ----------------------------------------------------------------------------
// OURS: the C++ core through its header API (include/fasterapi/http1/parser.hpp). One parser per
// connection, reused for each input (it is idle again after each message's End).
#ifdef BENCH_FASTERAPI

namespace fh = fasterapi::http1;

struct Fasterapi {
  fh::Parser parser{fh::Role::request};

  bool parse(std::string_view in, Sink& s) {
    s.count = 0;
    if (parser.error() != fh::Errc::none) parser.reset();
    std::size_t off = 0;
    fh::Event ev;
    Message* cur = nullptr;
    while (true) {
      std::size_t used = 0;
      const fh::Status st = parser.next(in.substr(off), ev, used);
      off += used;
      if (st == fh::Status::need_more) break;
      if (st == fh::Status::error) return false;
      switch (ev.kind) {
        case fh::Event::Kind::head: {
          if (s.count == kMaxMessages) return false;
          cur = &s.msgs[s.count];
          cur->method = {ev.head->method.data(), ev.head->method.size()};
          cur->target = {ev.head->target.data(), ev.head->target.size()};
          cur->headers = ev.head->headers.size();
          cur->body = 0;
          if (s.describe) {
            cur->header_bytes = 0;
            for (const fh::Header& h : ev.head->headers) cur->header_bytes += h.name.size() + h.value.size();
          }
          break;
        }
        case fh::Event::Kind::data: cur->body += ev.data.size(); break;
        case fh::Event::Kind::end: ++s.count; break;
        case fh::Event::Kind::upgrade: return false;
      }
    }
    return off == in.size();
  }
};

#endif
// --- end of OURS --------------------------------------------------------------------------------

struct Case {
  std::string name;
  std::string bytes;
};

std::string describe(const Sink& s) {
  std::string out;
  for (std::size_t i = 0; i < s.count; ++i) {
    const Message& m = s.msgs[i];
    if (i) out += '|';
    out += std::string(m.method.view()) + ' ' + std::string(m.target.view()) + ' ' + std::to_string(m.headers) + ' ' +
           std::to_string(m.header_bytes) + ' ' + std::to_string(m.body);
  }
  return out;
}

// Nanoseconds per input over `iterations` parses (the parser is called directly, not through a
// pointer, so none pays an indirect call the others do not).
template <class P>
double run_once(P& p, std::string_view in, Sink& s, std::size_t iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) {
    keep(in.data());  // the input may have changed: nothing is hoisted out of the loop
    const bool ok = p.parse(in, s);
    keep(ok);
    keep(s.count);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
         static_cast<double>(iterations);
}

template <class P>
void bench(const char* parser_name, P& p, const std::vector<Case>& cases, int runs, double min_run_ns) {
  static Sink sink;  // large: not on the stack
  for (const Case& c : cases) {
    const std::string_view in = c.bytes;
    sink.describe = true;
    if (!p.parse(in, sink)) fail(std::string(parser_name) + " rejected the input " + c.name);
    const std::string seen = describe(sink);
    sink.describe = false;
    if (runs == 0) {
      std::printf("%s\t%s\t%s\t-\t-\n", parser_name, c.name.c_str(), seen.c_str());
      continue;
    }
    // Calibrate: double the iterations until one run takes min_run_ns.
    std::size_t iterations = 64;
    while (run_once(p, in, sink, iterations) * static_cast<double>(iterations) < min_run_ns) iterations *= 2;
    std::vector<double> per_run;
    for (int r = 0; r < runs; ++r) per_run.push_back(run_once(p, in, sink, iterations));
    std::vector<double> sorted = per_run;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t mid = sorted.size() / 2;
    const double median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    std::string all;
    for (const double ns : per_run) {
      if (!all.empty()) all += ',';
      all += std::to_string(ns);
    }
    std::printf("%s\t%s\t%s\t%.3f\t%s\n", parser_name, c.name.c_str(), seen.c_str(), median, all.c_str());
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: bench_http1_core <runs> <min_run_ms> < cases");
  const int runs = std::atoi(argv[1]);
  const double min_run_ns = std::atof(argv[2]) * 1e6;
  if (runs < 0 || min_run_ns <= 0) fail("runs must be >= 0 and min_run_ms positive");

  std::vector<Case> cases;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string kind, name, path;
    fields >> kind >> name >> path;
    if (kind != "case" || name.empty() || path.empty()) fail("bad line: " + line);
    std::ifstream file(path, std::ios::binary);
    if (!file) fail("cannot read " + path);
    cases.push_back(Case{name, std::string(std::istreambuf_iterator<char>(file), {})});
  }

#ifdef BENCH_FASTERAPI
  {
    static Fasterapi ours;
    bench("fasterapi", ours, cases, runs, min_run_ns);
  }
#endif
#ifdef BENCH_LLHTTP
  {
    static Llhttp llhttp;
    bench("llhttp", llhttp, cases, runs, min_run_ns);
  }
#endif
#ifdef BENCH_PICO
  {
    static Pico pico;
    bench("picohttpparser", pico, cases, runs, min_run_ns);
  }
#endif
  return 0;
}
