// The router's C++ core timed on its own: what a lookup costs the native server, with no Python.
// bench_router.py compiles this file against the installed headers and feeds it the same route
// table and requests it times through the Python API, so the two figures sit in one table:
//   g++ -O2 -std=c++20 -I"$(python -c 'import fasterapi_router; print(fasterapi_router.get_include())')"
//       bench_router_core.cpp -o bench_router_core   (one command)
//
// Input on stdin, one item per line (fields separated by single spaces):
//   route <METHOD> <pattern>
//   case <name> <METHOD> <path>
// Arguments: <runs> <min_run_ms>. Each case is first answered once and then timed in <runs> runs
// of at least <min_run_ms> each. One line per case on stdout, fields separated by tabs:
//   <name> <outcome> <pattern or -> <params: name=value;...> <redirect or -> <median ns> <ns of each run, ','>
// A lookup here is what the binding's Router.lookup() does: match, then on a 405 the allowed
// methods and on a 404 the trailing-slash redirect. Params stay text (the binding converts them).
#include <fasterapi/router/router.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fr = fasterapi::router;

namespace {

// Keeps the compiler from dropping a result it can see is unused.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

struct Case {
  std::string name;
  std::string method;
  std::string path;
};

struct Answer {
  fr::Outcome outcome = fr::Outcome::not_found;
  std::size_t methods = 0;              // 405: how many are allowed
  std::optional<std::string> redirect;  // 404: the trailing-slash redirect
};

Answer lookup(const fr::Router& router, std::string_view method, std::string_view path, fr::Match& m) {
  Answer a;
  a.outcome = router.match(method, path, m);
  if (a.outcome == fr::Outcome::method_not_allowed) {
    a.methods = router.allowed_methods(path, m).size();
  } else if (a.outcome == fr::Outcome::not_found) {
    a.redirect = router.redirect_slash(path, m);
  }
  return a;
}

// Nanoseconds per lookup over `iterations` lookups.
double run_once(const fr::Router& router, const Case& c, std::size_t iterations, fr::Match& m) {
  const std::string_view method = c.method, path = c.path;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) {
    const Answer a = lookup(router, method, path, m);
    keep(a.outcome);
    keep(a.methods);
    keep(m.route());
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
         static_cast<double>(iterations);
}

const char* outcome_name(fr::Outcome o) {
  switch (o) {
    case fr::Outcome::found: return "found";
    case fr::Outcome::method_not_allowed: return "405";
    case fr::Outcome::not_found: return "404";
  }
  return "?";
}

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_router_core: %s\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: bench_router_core <runs> <min_run_ms> < table");
  const int runs = std::atoi(argv[1]);
  const double min_run_ns = std::atof(argv[2]) * 1e6;
  if (runs < 1 || min_run_ns <= 0) fail("runs and min_run_ms must be positive");

  fr::Router router;
  std::vector<Case> cases;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "route") {
      std::string method, pattern;
      fields >> method >> pattern;
      const fr::AddResult res = router.add(method, pattern);
      if (res.status != fr::AddStatus::added) fail("cannot add " + method + " " + pattern + ": " + res.message);
    } else if (kind == "case") {
      Case c;
      fields >> c.name >> c.method >> c.path;
      cases.push_back(c);
    } else {
      fail("unknown line: " + line);
    }
  }
  router.freeze();

  fr::Match m;
  for (const Case& c : cases) {
    // The answer, for bench_router.py to check against the Python API and Starlette.
    const Answer a = lookup(router, c.method, c.path, m);
    std::string pattern = "-", params;
    if (a.outcome == fr::Outcome::found) {
      pattern = router.route(m.route()).pattern;
      for (const fr::Capture& cap : m.params()) {
        params += std::string(cap.name) + "=" + std::string(cap.value) + ";";
      }
    }

    // Calibrate: double the iterations until one run takes min_run_ns.
    std::size_t iterations = 1000;
    while (run_once(router, c, iterations, m) * static_cast<double>(iterations) < min_run_ns) iterations *= 2;
    std::vector<double> per_run;
    for (int r = 0; r < runs; ++r) per_run.push_back(run_once(router, c, iterations, m));
    std::vector<double> sorted = per_run;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t mid = sorted.size() / 2;
    const double median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;

    std::string all;
    for (const double ns : per_run) {
      if (!all.empty()) all += ',';
      all += std::to_string(ns);
    }
    std::printf("%s\t%s\t%s\t%s\t%s\t%.3f\t%s\n", c.name.c_str(), outcome_name(a.outcome), pattern.c_str(),
                params.c_str(), a.redirect ? a.redirect->c_str() : "-", median, all.c_str());
  }
  return 0;
}
