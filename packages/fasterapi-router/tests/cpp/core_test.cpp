// Tests of the C++ core through its public header only, as a C++ user (or the native server)
// compiles it: g++ -std=c++20 -I$(python -c 'import fasterapi_router; print(fasterapi_router.get_include())').
// Built by tests/test_cpp_core.py with sanitizers; exits non-zero on the first failed check.
#include <fasterapi/router/router.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace fr = fasterapi::router;

namespace {

int failures = 0;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                            \
    }                                                                        \
  } while (0)

std::string params_of(const fr::Match& m) {
  std::string out;
  for (const fr::Capture& c : m.params()) {
    out += std::string(c.name) + "=" + std::string(c.value) + ":" + std::string(fr::converter_name(c.converter)) + ";";
  }
  return out;
}

fr::Router rest_api() {
  fr::Router r;
  const char* routes[][2] = {
      {"GET", "/"},
      {"GET", "/users"},
      {"POST", "/users"},
      {"GET", "/users/me"},
      {"GET", "/users/{user_id:int}"},
      {"DELETE", "/users/{user_id:int}"},
      {"GET", "/users/{name}"},
      {"GET", "/users/{user_id:int}/posts/{post_id:uuid}"},
      {"GET", "/files/{name}.{ext}"},
      {"GET", "/files/{rest:path}"},
      {"GET", "/v{major:int}.{minor:int}/status"},
      {"*", "/any"},
  };
  for (const auto& rt : routes) {
    const fr::AddResult res = r.add(rt[0], rt[1]);
    CHECK(res.status == fr::AddStatus::added);
  }
  CHECK(r.mount("/static").ok());
  r.freeze();
  return r;
}

void test_matching() {
  const fr::Router r = rest_api();
  fr::Match m;

  CHECK(r.match("GET", "/", m) == fr::Outcome::found && r.route(m.route()).pattern == "/");
  CHECK(r.match("GET", "/users/me", m) == fr::Outcome::found && r.route(m.route()).pattern == "/users/me");
  CHECK(r.match("GET", "/users/42", m) == fr::Outcome::found && params_of(m) == "user_id=42:int;");
  CHECK(r.match("GET", "/users/bob", m) == fr::Outcome::found && params_of(m) == "name=bob:str;");
  // %6D is 'm': the segment is decoded before the literal comparison.
  CHECK(r.match("GET", "/users/%6De", m) == fr::Outcome::found && r.route(m.route()).pattern == "/users/me");
  // %2F stays inside the segment.
  CHECK(r.match("GET", "/users/a%2Fb", m) == fr::Outcome::found && params_of(m) == "name=a/b:str;");
  CHECK(r.match("GET", "/users/7/posts/12345678-1234-1234-1234-123456789ABC", m) == fr::Outcome::found &&
        params_of(m) == "user_id=7:int;post_id=12345678-1234-1234-1234-123456789ABC:uuid;");
  CHECK(r.match("GET", "/files/a.tar.gz", m) == fr::Outcome::found && params_of(m) == "name=a.tar:str;ext=gz:str;");
  CHECK(r.match("GET", "/files/dir/a.txt", m) == fr::Outcome::found && params_of(m) == "rest=dir/a.txt:path;");
  CHECK(r.match("GET", "/files/", m) == fr::Outcome::found && params_of(m) == "rest=:path;");
  CHECK(r.match("GET", "/v2.10/status", m) == fr::Outcome::found && params_of(m) == "major=2:int;minor=10:int;");
  CHECK(r.match("PATCH", "/any", m) == fr::Outcome::found);
  CHECK(r.match("GET", "/static/css/a%20b.css", m) == fr::Outcome::found && m.has_tail() &&
        m.tail() == "/css/a%20b.css");

  CHECK(r.match("PUT", "/users/42", m) == fr::Outcome::method_not_allowed);
  CHECK(r.match("GET", "/nope", m) == fr::Outcome::not_found);
  CHECK(r.match("GET", "users", m) == fr::Outcome::not_found);
  CHECK(r.match("GET", "", m) == fr::Outcome::not_found);
  // Invalid UTF-8 after decoding: no str param takes it.
  CHECK(r.match("GET", "/users/%FF", m) == fr::Outcome::not_found);

  const auto allowed = r.allowed_methods("/users/42", m);
  CHECK(allowed.size() == 2 && allowed[0] == "DELETE" && allowed[1] == "GET");
  const auto redirect = r.redirect_slash("/static", m);
  CHECK(redirect && *redirect == "/static/");
  CHECK(!r.redirect_slash("/", m));
}

void test_errors() {
  fr::Router r;
  CHECK(r.add("GET", "/a/{id:int}").ok());
  fr::AddResult res = r.add("GET", "/a/{other:int}");
  CHECK(res.status == fr::AddStatus::conflict && res.route == 0);
  CHECK(res.message == "GET /a/{other:int} conflicts with GET /a/{id:int}, added before it");
  res = r.add("GET", "/a/{id:bogus}");
  CHECK(res.status == fr::AddStatus::invalid_pattern && res.pattern_error == fr::PatternErrc::unknown_converter &&
        res.offset == 7);
  res = r.add("GET", "/{a}{b}");
  CHECK(res.pattern_error == fr::PatternErrc::adjacent_params);
  res = r.add("GET", "/{p:path}/x");
  CHECK(res.pattern_error == fr::PatternErrc::path_not_last);
  res = r.add("G E T", "/x");
  CHECK(res.status == fr::AddStatus::invalid_method);

  fr::Router first({fr::ConflictPolicy::first_wins});
  CHECK(first.add("GET", "/x/{a}").status == fr::AddStatus::added);
  CHECK(first.add("GET", "/x/{b}").status == fr::AddStatus::shadowed);
  CHECK(first.routes().size() == 1);

  fr::Router sub;
  CHECK(sub.add("GET", "/a/{id:int}").ok());
  fr::Router top;
  CHECK(top.add("GET", "/api/a/{x:int}").ok());
  std::vector<fr::RouteId> added;
  res = top.include("/api", sub, &added);
  CHECK(res.status == fr::AddStatus::conflict && added.empty() && top.routes().size() == 1);

  top.freeze();
  CHECK(top.add("GET", "/b").status == fr::AddStatus::frozen);
}

// Many threads look up the same frozen router; each result must equal the single-thread one.
void test_threads() {
  const fr::Router r = rest_api();
  const std::vector<std::string> paths = {
      "/users/42", "/users/bob", "/files/a.tar.gz", "/files/x/y/z", "/v1.2/status", "/static/x", "/users/%6De",
      "/users/a%2Fb", "/nope", "/users/7/posts/12345678123412341234123456789abc"};
  std::vector<std::string> expected;
  fr::Match m;
  for (const std::string& p : paths) {
    const fr::Outcome o = r.match("GET", p, m);
    expected.push_back(std::to_string(static_cast<int>(o)) + "|" + std::to_string(m.route()) + "|" + params_of(m));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      fr::Match local;
      for (int i = 0; i < 20000; ++i) {
        const std::size_t k = static_cast<std::size_t>(i + t) % paths.size();
        const fr::Outcome o = r.match("GET", paths[k], local);
        const std::string got =
            std::to_string(static_cast<int>(o)) + "|" + std::to_string(local.route()) + "|" + params_of(local);
        if (got != expected[k]) mismatches.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(mismatches.load() == 0);
}

}  // namespace

int main() {
  test_matching();
  test_errors();
  test_threads();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::puts("core_test: all checks passed");
  return 0;
}
