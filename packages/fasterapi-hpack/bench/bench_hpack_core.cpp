// The C-level half of bench_hpack.py: fasterapi-hpack's C++ core against nghttp2's HPACK deflater and
// inflater, with no Python anywhere. bench_hpack.py compiles this file at bench time (g++ -O2, into a
// temp dir) and feeds it the same inputs it times through the Python APIs. Each side is compiled in
// only when its macro is defined:
//   BENCH_FASTERAPI  fasterapi::hpack::Encoder / Decoder   (-I <fasterapi-hpack include>)
//   BENCH_NGHTTP2    nghttp2_hd_deflate_hd / nghttp2_hd_inflate_hd2 (Debian's libnghttp2-dev: -lnghttp2)
// By hand, with nghttp2 only:
//   g++ -O2 -std=c++20 -DBENCH_NGHTTP2 bench_hpack_core.cpp -lnghttp2 -o bench_hpack_core
//
// Input on stdin, one line per input: `case <name> <file>`. The file holds the input's header blocks,
// each as `block`, then one `h <name>\t<value>` line per field, then `wire <hex>`: the block as
// python-hpack encodes it on that connection, which every decoder decodes (so all decode the same
// octets). Arguments: <runs> <min_run_ms>. With runs = 0 the program only runs each codec once per
// input and prints what it saw (bench_hpack.py checks that before it asks for timings).
// One line per (codec, input, operation) on stdout, fields separated by tabs:
//   <codec> <case> <encode|decode> <what it saw> <octets> <median ns per input> <ns of each run, ','>
// <what it saw> is `<fields> <name+value octets> <fnv-1a 64 of every name NUL value LF, hex>` over
// all blocks: for a decoder, of what it decoded; for an encoder, of what its output decodes to (with
// nghttp2's inflater when it is compiled in, else ours). <octets> is the encoded size of all blocks.
//
// What one iteration does: a fresh encoder (or decoder) with the default 4096-octet table, then every
// block of the input in order, Huffman on (each encoder codes a string when that is shorter); a
// decoder counts the fields and their octets, as a caller that looks at each field would.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifdef BENCH_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif
#ifdef BENCH_FASTERAPI
#include <fasterapi/hpack/decoder.hpp>
#include <fasterapi/hpack/encoder.hpp>
#endif

namespace {

// Keeps the compiler from dropping a result it can see is unused.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_hpack_core: %s\n", message.c_str());
  std::exit(2);
}

struct Header {
  std::string name, value;
};

struct Block {
  std::vector<Header> headers;
  std::string wire;
};

struct Case {
  std::string name;
  std::vector<Block> blocks;
};

// What a decoder saw, or what an encoder's output decodes to.
struct Seen {
  std::size_t fields = 0, octets = 0;
  std::uint64_t fnv = 0xcbf29ce484222325ull;
  bool describe = false;  // hash too (not in the timed loop)

  void field(std::string_view name, std::string_view value) {
    ++fields;
    octets += name.size() + value.size();
    if (!describe) return;
    auto mix = [this](std::string_view s) {
      for (const char c : s) fnv = (fnv ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    };
    mix(name);
    mix(std::string_view("\0", 1));
    mix(value);
    mix("\n");
  }
  std::string text() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv));
    return std::to_string(fields) + ' ' + std::to_string(octets) + ' ' + hex;
  }
};

// The encoded blocks of one input, reused across iterations.
struct Wires {
  std::vector<std::string> blocks;
  std::size_t octets() const {
    std::size_t n = 0;
    for (const auto& b : blocks) n += b.size();
    return n;
  }
};

// --- nghttp2 ------------------------------------------------------------------------------------
#ifdef BENCH_NGHTTP2

struct Nghttp2 {
  static constexpr const char* name = "nghttp2";
  std::vector<std::vector<nghttp2_nv>> nvs;  // per block, built once per input (views into the Case)
  std::vector<std::uint8_t> out = std::vector<std::uint8_t>(1 << 16);
  const Case* prepared = nullptr;

  void prepare(const Case& c) {
    if (prepared == &c) return;
    nvs.clear();
    for (const Block& b : c.blocks) {
      std::vector<nghttp2_nv> nv;
      for (const Header& h : b.headers) {
        nv.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(h.name.data())),
                                reinterpret_cast<std::uint8_t*>(const_cast<char*>(h.value.data())), h.name.size(),
                                h.value.size(), NGHTTP2_NV_FLAG_NONE});
      }
      nvs.push_back(std::move(nv));
    }
    prepared = &c;
  }

  // One iteration: a new deflater, every block. `keep_wires` (describe only) stores the output.
  bool encode(const Case& c, Wires* keep_wires) {
    prepare(c);
    nghttp2_hd_deflater* deflater = nullptr;
    if (nghttp2_hd_deflate_new(&deflater, 4096) != 0) return false;
    bool ok = true;
    for (auto& nv : nvs) {
      const ssize_t n = nghttp2_hd_deflate_hd(deflater, out.data(), out.size(), nv.data(), nv.size());
      if (n < 0) {
        ok = false;
        break;
      }
      keep(out.data());
      if (keep_wires) keep_wires->blocks.emplace_back(reinterpret_cast<const char*>(out.data()), n);
    }
    nghttp2_hd_deflate_del(deflater);
    return ok;
  }

  static bool decode_blocks(const std::vector<std::string>& wires, Seen& seen) {
    nghttp2_hd_inflater* inflater = nullptr;
    if (nghttp2_hd_inflate_new(&inflater) != 0) return false;
    bool ok = true;
    for (const std::string& w : wires) {
      const auto* in = reinterpret_cast<const std::uint8_t*>(w.data());
      std::size_t left = w.size();
      while (true) {
        nghttp2_nv nv;
        int flags = 0;
        const ssize_t used = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, left, 1);
        if (used < 0) {
          ok = false;
          break;
        }
        in += used;
        left -= static_cast<std::size_t>(used);
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
          seen.field({reinterpret_cast<const char*>(nv.name), nv.namelen},
                     {reinterpret_cast<const char*>(nv.value), nv.valuelen});
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) break;
        if (used == 0 && left == 0) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
      nghttp2_hd_inflate_end_headers(inflater);
    }
    nghttp2_hd_inflate_del(inflater);
    return ok;
  }

  std::vector<std::string> wires_of(const Case& c) {
    std::vector<std::string> w;
    for (const Block& b : c.blocks) w.push_back(b.wire);
    return w;
  }

  std::vector<std::string> wires;
  const Case* wires_for = nullptr;
  bool decode(const Case& c, Seen& seen) {
    if (wires_for != &c) {
      wires = wires_of(c);
      wires_for = &c;
    }
    return decode_blocks(wires, seen);
  }
};

#endif

// --- fasterapi-hpack ----------------------------------------------------------------------------
// OURS: the C++ core through its header API (include/fasterapi/hpack/encoder.hpp, decoder.hpp): a new
// Encoder / Decoder per iteration, as nghttp2's deflater / inflater.
#ifdef BENCH_FASTERAPI

namespace fh = fasterapi::hpack;

struct Fasterapi {
  static constexpr const char* name = "fasterapi";
  fh::Buffer out;  // reused: the caller's frame buffer

  bool encode(const Case& c, Wires* keep_wires) {
    fh::Encoder encoder;
    for (const Block& b : c.blocks) {
      out.clear();
      encoder.begin_block(out);
      for (const Header& h : b.headers) encoder.encode_field(h.name, h.value, false, true, out);
      keep(out.data());
      if (keep_wires) keep_wires->blocks.emplace_back(out.view());
    }
    return true;
  }

  static bool decode_blocks(const std::vector<std::string>& wires, Seen& seen) {
    fh::Decoder decoder;
    for (const std::string& w : wires) {
      const fh::Errc e = decoder.decode(reinterpret_cast<const std::uint8_t*>(w.data()), w.size(),
                                        [&](const fh::Field& f) { seen.field(f.name, f.value); });
      if (e != fh::Errc::none) return false;
    }
    return true;
  }

  std::vector<std::string> wires;
  const Case* wires_for = nullptr;
  bool decode(const Case& c, Seen& seen) {
    if (wires_for != &c) {
      wires.clear();
      for (const Block& b : c.blocks) wires.push_back(b.wire);
      wires_for = &c;
    }
    return decode_blocks(wires, seen);
  }
};

#endif
// --- end of OURS --------------------------------------------------------------------------------

// The decoder that checks every encoder's output: nghttp2's when it is there (independent of ours).
bool check_decode(const std::vector<std::string>& wires, Seen& seen) {
#if defined(BENCH_NGHTTP2)
  return Nghttp2::decode_blocks(wires, seen);
#elif defined(BENCH_FASTERAPI)
  return Fasterapi::decode_blocks(wires, seen);
#else
  (void)wires;
  (void)seen;
  return false;
#endif
}

template <class Fn>
double run_once(Fn&& fn, std::size_t iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) keep(fn());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
         static_cast<double>(iterations);
}

template <class Fn>
void report(const char* codec, const Case& c, const char* op, const std::string& seen, std::size_t octets,
            Fn&& fn, int runs, double min_run_ns) {
  if (runs == 0) {
    std::printf("%s\t%s\t%s\t%s\t%zu\t-\t-\n", codec, c.name.c_str(), op, seen.c_str(), octets);
    return;
  }
  // Calibrate: double the iterations until one run takes min_run_ns.
  std::size_t iterations = 1;
  while (run_once(fn, iterations) * static_cast<double>(iterations) < min_run_ns) iterations *= 2;
  std::vector<double> per_run;
  for (int r = 0; r < runs; ++r) per_run.push_back(run_once(fn, iterations));
  std::vector<double> sorted = per_run;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  const double median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  std::string all;
  for (const double ns : per_run) {
    if (!all.empty()) all += ',';
    all += std::to_string(ns);
  }
  std::printf("%s\t%s\t%s\t%s\t%zu\t%.3f\t%s\n", codec, c.name.c_str(), op, seen.c_str(), octets, median,
              all.c_str());
  std::fflush(stdout);
}

template <class Codec>
void bench(Codec& codec, const std::vector<Case>& cases, int runs, double min_run_ns) {
  for (const Case& c : cases) {
    // Encode: what the output decodes to, then the timing.
    Wires wires;
    if (!codec.encode(c, &wires)) fail(std::string(Codec::name) + " could not encode " + c.name);
    Seen enc_seen;
    enc_seen.describe = true;
    if (!check_decode(wires.blocks, enc_seen)) fail(std::string(Codec::name) + "'s encoding of " + c.name + " does not decode");
    report(Codec::name, c, "encode", enc_seen.text(), wires.octets(), [&] { return codec.encode(c, nullptr); }, runs,
           min_run_ns);
    // Decode the reference wires.
    Seen dec_seen;
    dec_seen.describe = true;
    if (!codec.decode(c, dec_seen)) fail(std::string(Codec::name) + " could not decode " + c.name);
    std::size_t octets = 0;
    for (const Block& b : c.blocks) octets += b.wire.size();
    Seen sink;
    report(Codec::name, c, "decode", dec_seen.text(), octets, [&] { return codec.decode(c, sink) && sink.fields; },
           runs, min_run_ns);
  }
}

std::string unhex(const std::string& hex) {
  if (hex.size() % 2) fail("odd hex length");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

Case read_case(const std::string& name, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("cannot read " + path);
  Case c{name, {}};
  std::string line;
  while (std::getline(file, line)) {
    if (line == "block") {
      c.blocks.emplace_back();
    } else if (line.rfind("h ", 0) == 0 && !c.blocks.empty()) {
      const std::size_t tab = line.find('\t');
      if (tab == std::string::npos) fail("bad header line in " + path);
      c.blocks.back().headers.push_back({line.substr(2, tab - 2), line.substr(tab + 1)});
    } else if (line.rfind("wire ", 0) == 0 && !c.blocks.empty()) {
      c.blocks.back().wire = unhex(line.substr(5));
    } else if (!line.empty()) {
      fail("bad line in " + path + ": " + line.substr(0, 40));
    }
  }
  if (c.blocks.empty()) fail(path + " holds no block");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: bench_hpack_core <runs> <min_run_ms> < cases");
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
    cases.push_back(read_case(name, path));
  }

#ifdef BENCH_FASTERAPI
  {
    static Fasterapi ours;
    bench(ours, cases, runs, min_run_ns);
  }
#endif
#ifdef BENCH_NGHTTP2
  {
    static Nghttp2 nghttp2;
    bench(nghttp2, cases, runs, min_run_ns);
  }
#endif
  return 0;
}
