// fasterapi::router: an HTTP router with FastAPI/Starlette path syntax.
//
// Theory of operation. Routes live in a radix tree whose edges are path segments. A node has
//   - static edges, one per literal segment, kept sorted for lookup;
//   - dynamic edges (segments with params), kept in priority order: segments mixing literals and
//     params, then whole-segment params by converter (uuid, int, float), then plain {x}/{x:str};
//   - a catch-all edge ({x:path}) and a mount edge, each leading to a terminal node;
//   - a method table: the routes that end at this node, by method ("*" = any other method).
// Two routes end at the same node exactly when they have the same shape (same literals, params in
// the same places with the same converters), which is what makes a conflict.
//
// Matching walks the raw path one segment at a time. A segment is percent-decoded before it is
// compared or converted, so "%2F" never splits a segment. At each node the edges are tried in
// priority order, depth first, backtracking when a subtree has no route for the path and method:
// the first route found in that order wins, whatever the order of registration. Lookups only read
// the tree; all per-lookup state lives in the caller's Match, so lookups may run on many threads at
// once as long as nobody adds routes meanwhile (freeze() makes that a rule).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fasterapi/router/pattern.hpp"
#include "fasterapi/router/text.hpp"

namespace fasterapi::router {

using RouteId = std::uint32_t;
inline constexpr RouteId kNoRoute = 0xFFFFFFFFu;

enum class ConflictPolicy : std::uint8_t {
  error,       // adding a route with the same method and shape as an existing one is an error
  first_wins,  // FastAPI's behaviour: the later duplicate is ignored
};

struct Options {
  ConflictPolicy on_conflict = ConflictPolicy::error;
};

struct Route {
  std::string method;   // "*" matches any method that has no route of its own on the same shape
  std::string pattern;  // as registered; for a mount, the prefix
  bool mount = false;
  std::vector<std::string> param_names;
  std::vector<Converter> param_converters;
};

enum class AddStatus : std::uint8_t { added, shadowed, invalid_method, invalid_pattern, conflict, frozen };

struct AddResult {
  AddStatus status = AddStatus::added;
  RouteId route = kNoRoute;  // added: the new route; shadowed or conflict: the existing one
  PatternErrc pattern_error = PatternErrc::ok;
  std::size_t offset = 0;  // invalid_pattern: where in the pattern
  std::string message;
  // invalid_pattern: the pattern parsed (with include()'s prefix); conflict: the new route.
  std::string pattern;
  std::string method;
  bool mount = false;

  bool ok() const noexcept { return status == AddStatus::added || status == AddStatus::shadowed; }
};

enum class Outcome : std::uint8_t {
  found,
  method_not_allowed,  // the path matches some route, none for this method
  not_found,
};

struct Capture {
  std::string_view name;   // the route's param name
  std::string_view value;  // decoded text, valid UTF-8; int/float/uuid text still to be converted
  Converter converter = Converter::str;
};

// The result of a lookup and the scratch space it used. Reuse one per thread: after the first few
// lookups nothing allocates (a path with percent-escapes or non-ASCII bytes needs its buffers).
// Views stay valid until the next lookup with this Match or until the router is changed.
class Match {
 public:
  RouteId route() const noexcept { return route_; }
  std::span<const Capture> params() const noexcept { return {captures_.data(), count_}; }
  // For a mount: the raw rest of the path, starting with '/'.
  bool has_tail() const noexcept { return has_tail_; }
  std::string_view tail() const noexcept { return tail_; }
  // Whether the path was all ASCII without escapes: then every capture and the tail are ASCII.
  bool ascii() const noexcept { return plain_; }

 private:
  friend class Router;

  struct SegmentView {
    std::size_t raw_end;
    std::string_view decoded;
    bool utf8;
  };

  void reset(std::string_view method, std::string_view path) {
    method_ = method;
    path_ = path;
    route_ = kNoRoute;
    count_ = 0;
    partial_ = false;
    has_tail_ = false;
    tail_ = {};
    plain_ = text::is_plain(path);
    if (!plain_) decode_segments();
  }

  // Only for paths with '%' or non-ASCII bytes: decode the segments the tree can reach.
  void decode_segments() {
    segments_.clear();
    scratch_.clear();
    scratch_.reserve(2 * path_.size() + 1);  // segments + one tail: never reallocates, views stay valid
    std::size_t pos = 1;
    while (pos <= path_.size() && segments_.size() <= kMaxSegments) {
      std::size_t end = path_.find('/', pos);
      if (end == std::string_view::npos) end = path_.size();
      const std::string_view raw = path_.substr(pos, end - pos);
      std::string_view decoded = raw;
      if (raw.find('%') != std::string_view::npos) {
        const std::size_t start = scratch_.size();
        text::percent_decode_append(raw, scratch_);
        decoded = std::string_view(scratch_).substr(start);
      }
      segments_.push_back(SegmentView{end, decoded, text::is_valid_utf8(decoded)});
      pos = end + 1;
    }
  }

  SegmentView segment(std::size_t depth, std::size_t pos) const noexcept {
    if (!plain_) return segments_[depth];
    std::size_t end = pos;  // segments are short: a loop beats a call to memchr
    while (end < path_.size() && path_[end] != '/') ++end;
    return SegmentView{end, path_.substr(pos, end - pos), true};
  }

  bool push(std::string_view value, Converter c) noexcept {
    if (count_ == kMaxParams) return false;
    captures_[count_++] = Capture{{}, value, c};
    return true;
  }

  std::string_view method_;
  std::string_view path_;
  RouteId route_ = kNoRoute;
  std::size_t count_ = 0;
  bool partial_ = false;
  bool plain_ = true;
  bool has_tail_ = false;
  std::string_view tail_;
  std::array<Capture, kMaxParams> captures_{};
  std::vector<SegmentView> segments_;
  std::string scratch_;
  std::vector<std::uint16_t> table_;  // mixed-segment matching (see match_mixed)
};

class Router {
 public:
  explicit Router(Options options = {}) : options_(options) { nodes_.emplace_back(); }

  AddResult add(std::string_view method, std::string_view pattern) {
    return add(std::span<const std::string_view>(&method, 1), pattern);
  }

  // One pattern for several methods, all of them or none. Repeated methods count once; the
  // result names the route of the first method.
  AddResult add(std::span<const std::string_view> methods, std::string_view pattern) {
    if (frozen_) return fail(AddStatus::frozen, "the router is frozen");
    if (methods.empty()) return fail(AddStatus::invalid_method, "no method given");
    for (const std::string_view method : methods) {
      if (method != "*" && !text::is_token(method)) {
        return fail(AddStatus::invalid_method,
                    "invalid method '" + std::string(method) + "' (expected an HTTP token or '*')");
      }
    }
    ParsedPattern parsed = parse_pattern(pattern, PatternRole::route);
    if (!parsed.ok()) return invalid(parsed, pattern);
    std::vector<Route> routes;
    for (const std::string_view method : methods) {
      bool repeated = false;
      for (const Route& r : routes) repeated = repeated || r.method == method;
      if (!repeated) {
        routes.push_back(Route{std::string(method), std::string(pattern), false, parsed.param_names,
                               parsed.param_converters});
      }
    }
    return insert(parsed.segments, std::move(routes), /*mount=*/false);
  }

  // Matches "<prefix>/" and everything below it, for any method; Match::tail() is the raw rest.
  AddResult mount(std::string_view prefix) {
    if (frozen_) return fail(AddStatus::frozen, "the router is frozen");
    ParsedPattern parsed = parse_pattern(prefix, PatternRole::prefix);
    if (!parsed.ok()) return invalid(parsed, prefix);
    std::vector<Route> routes;
    routes.push_back(Route{"*", std::string(prefix), true, std::move(parsed.param_names),
                           std::move(parsed.param_converters)});
    return insert(parsed.segments, std::move(routes), /*mount=*/true);
  }

  // Adds every route and mount of `other` under `prefix`, in their order: all of them or none.
  // `added` receives, per route of `other` taken, the new RouteId or kNoRoute when shadowed; on
  // failure it stops before the route that failed, so its size is the index of that route.
  AddResult include(std::string_view prefix, const Router& other, std::vector<RouteId>* added = nullptr) {
    if (frozen_) return fail(AddStatus::frozen, "the router is frozen");
    ParsedPattern parsed = parse_pattern(prefix, PatternRole::prefix);
    if (!parsed.ok()) return invalid(parsed, prefix);
    Router next = *this;
    std::vector<RouteId> ids;
    ids.reserve(other.routes_.size());
    AddResult res;
    for (const Route& r : other.routes_) {
      const std::string joined = std::string(prefix) + r.pattern;
      res = r.mount ? next.mount(joined) : next.add(r.method, joined);
      if (!res.ok()) break;
      ids.push_back(res.status == AddStatus::added ? res.route : kNoRoute);
    }
    if (res.ok()) {
      *this = std::move(next);
      res = {};
    }
    if (added) *added = std::move(ids);
    return res;
  }

  void freeze() noexcept { frozen_ = true; }
  bool frozen() const noexcept { return frozen_; }
  const Options& options() const noexcept { return options_; }
  const std::vector<Route>& routes() const noexcept { return routes_; }
  const Route& route(RouteId id) const { return routes_.at(id); }

  Outcome match(std::string_view method, std::string_view path, Match& m) const {
    m.reset(method, path);
    if (path.empty() || path.front() != '/') return Outcome::not_found;
    FindMethod visitor;
    if (walk(0, 1, 0, m, visitor)) {
      const Route& r = routes_[m.route_];
      for (std::size_t i = 0; i < m.count_; ++i) m.captures_[i].name = r.param_names[i];
      return Outcome::found;
    }
    return m.partial_ ? Outcome::method_not_allowed : Outcome::not_found;
  }

  // The methods of every route whose pattern matches `path` ("*" included), sorted, without repeats.
  std::vector<std::string_view> allowed_methods(std::string_view path, Match& m) const {
    CollectMethods visitor;
    m.reset({}, path);
    if (!path.empty() && path.front() == '/') walk(0, 1, 0, m, visitor);
    std::sort(visitor.methods.begin(), visitor.methods.end());
    visitor.methods.erase(std::unique(visitor.methods.begin(), visitor.methods.end()), visitor.methods.end());
    return std::move(visitor.methods);
  }

  // Whether some route, of any method, matches `path`.
  bool matches_any(std::string_view path, Match& m) const {
    AnyRoute visitor;
    m.reset({}, path);
    return !path.empty() && path.front() == '/' && walk(0, 1, 0, m, visitor);
  }

  // Starlette's redirect_slashes rule: for a path that matches nothing, the same path with its
  // trailing slashes removed, or with one added, if that one matches a route. Never for "/".
  std::optional<std::string> redirect_slash(std::string_view path, Match& m) const {
    if (path.size() < 2 || path.front() != '/') return std::nullopt;
    std::string other;
    if (path.back() == '/') {
      std::size_t end = path.size();
      while (end > 0 && path[end - 1] == '/') --end;
      if (end == 0) return std::nullopt;
      other.assign(path.substr(0, end));
    } else {
      other.reserve(path.size() + 1);
      other.assign(path);
      other.push_back('/');
    }
    if (matches_any(other, m)) return other;
    return std::nullopt;
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  struct MethodTable {
    std::vector<std::pair<std::string, RouteId>> specific;
    RouteId any = kNoRoute;

    bool empty() const noexcept { return specific.empty() && any == kNoRoute; }
    RouteId exact(std::string_view method) const noexcept {
      if (method == "*") return any;
      for (const auto& [m, id] : specific) {
        if (m == method) return id;
      }
      return kNoRoute;
    }
    RouteId find(std::string_view method) const noexcept {
      for (const auto& [m, id] : specific) {
        if (m == method) return id;
      }
      return any;
    }
  };

  struct DynamicEdge {
    std::uint8_t rank;  // see edge_rank()
    Segment segment;
    std::string shape;
    std::uint32_t child;
  };

  struct Node {
    std::vector<std::pair<std::string, std::uint32_t>> statics;  // sorted by literal
    std::vector<DynamicEdge> dynamics;                             // in priority order
    std::uint32_t catch_all = kNone;                               // terminal node of {x:path}
    std::uint32_t mount = kNone;                                   // terminal node of a mount
    MethodTable methods;
  };

  // Priority among dynamic edges at one node: mixed segments (they carry literals), then typed
  // whole-segment params from the narrowest language to the widest, then plain {x}.
  static std::uint8_t edge_rank(const Segment& s) noexcept {
    if (s.kind == Segment::Kind::mixed) return 0;
    switch (s.converter()) {
      case Converter::uuid: return 1;
      case Converter::int_: return 2;
      case Converter::float_: return 3;
      default: return 4;
    }
  }

  // Registration-independent order of two dynamic edges; mixed segments with more literal text
  // first, then fewer params, then by shape so that the order is total.
  static bool edge_before(const DynamicEdge& a, const DynamicEdge& b) noexcept {
    if (a.rank != b.rank) return a.rank < b.rank;
    const std::size_t la = a.segment.literal_bytes(), lb = b.segment.literal_bytes();
    if (la != lb) return la > lb;
    if (a.segment.parts.size() != b.segment.parts.size()) return a.segment.parts.size() < b.segment.parts.size();
    return a.shape < b.shape;
  }

  static AddResult invalid(const ParsedPattern& p, std::string_view pattern) {
    AddResult r = fail(AddStatus::invalid_pattern, p.message);
    r.pattern_error = p.error;
    r.offset = p.offset;
    r.pattern = pattern;
    return r;
  }

  static AddResult fail(AddStatus status, std::string message) {
    AddResult r;
    r.status = status;
    r.message = std::move(message);
    return r;
  }

  std::uint32_t new_node() {
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  // The node where a route of these segments ends, created on the way when `create` is set.
  std::uint32_t terminal(const std::vector<Segment>& segments, bool mount, bool create) {
    std::uint32_t n = 0;
    for (const Segment& seg : segments) {
      std::uint32_t next = kNone;
      switch (seg.kind) {
        case Segment::Kind::literal: {
          auto& statics = nodes_[n].statics;
          auto it = std::lower_bound(statics.begin(), statics.end(), seg.literal(), [](const auto& e, const std::string& key) {
            return static_less(e.first, key);
          });
          if (it != statics.end() && it->first == seg.literal()) {
            next = it->second;
          } else if (create) {
            const auto index = it - statics.begin();
            next = new_node();
            nodes_[n].statics.insert(nodes_[n].statics.begin() + index, {seg.literal(), next});
          }
          break;
        }
        case Segment::Kind::param:
        case Segment::Kind::mixed: {
          const std::string shape = seg.shape();
          for (const DynamicEdge& e : nodes_[n].dynamics) {
            if (e.shape == shape) next = e.child;
          }
          if (next == kNone && create) {
            next = new_node();
            DynamicEdge edge{edge_rank(seg), seg, shape, next};
            auto& dyn = nodes_[n].dynamics;
            dyn.insert(std::upper_bound(dyn.begin(), dyn.end(), edge, edge_before), std::move(edge));
          }
          break;
        }
        case Segment::Kind::catch_all:
          next = nodes_[n].catch_all;
          if (next == kNone && create) {
            next = new_node();
            nodes_[n].catch_all = next;
          }
          break;
      }
      if (next == kNone) return kNone;
      n = next;
    }
    if (!mount) return n;
    if (nodes_[n].mount == kNone && create) {
      const std::uint32_t t = new_node();
      nodes_[n].mount = t;
    }
    return nodes_[n].mount;
  }

  // Adds routes of one shape (one per method). A conflict with any of them adds none; in
  // first_wins mode the ones whose method is taken are dropped and the result says so.
  AddResult insert(const std::vector<Segment>& segments, std::vector<Route> routes, bool mount) {
    AddResult result;
    const std::uint32_t existing_node = terminal(segments, mount, /*create=*/false);
    if (existing_node != kNone) {
      std::vector<Route> fresh;
      for (Route& route : routes) {
        const RouteId existing = nodes_[existing_node].methods.exact(route.method);
        if (existing == kNoRoute) {
          fresh.push_back(std::move(route));
        } else if (options_.on_conflict == ConflictPolicy::first_wins) {
          if (result.route == kNoRoute) {
            result.status = AddStatus::shadowed;
            result.route = existing;
          }
        } else {
          AddResult r = fail(AddStatus::conflict,
                             describe(route) + " conflicts with " + describe(routes_[existing]) + ", added before it");
          r.route = existing;
          r.pattern = route.pattern;
          r.method = route.method;
          r.mount = route.mount;
          return r;
        }
      }
      routes = std::move(fresh);
      if (routes.empty()) return result;
    }
    const std::uint32_t t = terminal(segments, mount, /*create=*/true);
    result = AddResult{};
    result.route = static_cast<RouteId>(routes_.size());
    for (Route& route : routes) {
      const auto id = static_cast<RouteId>(routes_.size());
      MethodTable& table = nodes_[t].methods;
      if (route.method == "*") {
        table.any = id;
      } else {
        table.specific.emplace_back(route.method, id);
      }
      routes_.push_back(std::move(route));
    }
    return result;
  }

  static std::string describe(const Route& r) {
    return (r.mount ? "mount " : r.method + " ") + (r.pattern.empty() ? std::string("\"\"") : r.pattern);
  }

  // --- lookup -----------------------------------------------------------------------------------

  struct FindMethod {
    bool operator()(const MethodTable& t, Match& m) const noexcept {
      const RouteId id = t.find(m.method_);
      if (id != kNoRoute) {
        m.route_ = id;
        return true;
      }
      if (!t.empty()) m.partial_ = true;
      return false;
    }
  };

  struct CollectMethods {
    std::vector<std::string_view> methods;
    bool operator()(const MethodTable& t, Match&) {
      for (const auto& entry : t.specific) methods.emplace_back(entry.first);
      if (t.any != kNoRoute) methods.emplace_back("*");
      return false;  // keep walking: every matching route counts
    }
  };

  struct AnyRoute {
    bool operator()(const MethodTable& t, Match&) const noexcept { return !t.empty(); }
  };

  // Literals are short: a loop beats a call to memcmp.
  static int compare_bytes(const char* a, const char* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    }
    return 0;
  }

  // Static edges are sorted by (length, bytes): the length narrows the search before any byte.
  static bool static_less(std::string_view a, std::string_view b) noexcept {
    return a.size() != b.size() ? a.size() < b.size() : compare_bytes(a.data(), b.data(), a.size()) < 0;
  }

  const std::pair<std::string, std::uint32_t>* find_static(const Node& n, std::string_view seg) const noexcept {
    const auto& statics = n.statics;
    auto it = statics.begin();
    if (statics.size() > 8) {
      it = std::lower_bound(statics.begin(), statics.end(), seg, [](const auto& e, std::string_view key) {
        return static_less(e.first, key);
      });
    }
    for (; it != statics.end() && it->first.size() <= seg.size(); ++it) {
      if (it->first.size() == seg.size() && compare_bytes(it->first.data(), seg.data(), seg.size()) == 0) return &*it;
    }
    return nullptr;
  }

  template <class Visitor>
  bool walk(std::uint32_t node, std::size_t pos, std::size_t depth, Match& m, Visitor& visit) const {
    const Node& n = nodes_[node];
    if (pos == std::string_view::npos) return visit(n.methods, m);

    const Match::SegmentView seg = m.segment(depth, pos);
    const std::size_t next = seg.raw_end < m.path_.size() ? seg.raw_end + 1 : std::string_view::npos;

    if (const auto* e = find_static(n, seg.decoded)) {
      if (walk(e->second, next, depth + 1, m, visit)) return true;
    }
    if (seg.utf8) {
      for (const DynamicEdge& e : n.dynamics) {
        const std::size_t mark = m.count_;
        if (match_dynamic(e.segment, seg.decoded, m) && walk(e.child, next, depth + 1, m, visit)) return true;
        m.count_ = mark;
      }
    }
    if (n.catch_all != kNone) {
      const std::size_t scratch_mark = m.scratch_.size();
      std::string_view value = m.path_.substr(pos);
      bool ok = true;
      if (!m.plain_) {
        if (value.find('%') != std::string_view::npos) {
          text::percent_decode_append(value, m.scratch_);
          value = std::string_view(m.scratch_).substr(scratch_mark);
        }
        ok = text::is_valid_utf8(value);
      }
      const std::size_t mark = m.count_;
      if (ok && m.push(value, Converter::path) && visit(nodes_[n.catch_all].methods, m)) return true;
      m.count_ = mark;
      m.scratch_.resize(scratch_mark);
    }
    if (n.mount != kNone) {
      const std::string_view tail = m.path_.substr(pos - 1);
      if (m.plain_ || text::is_valid_utf8(tail)) {
        m.tail_ = tail;
        m.has_tail_ = true;
        if (visit(nodes_[n.mount].methods, m)) return true;
        m.has_tail_ = false;
        m.tail_ = {};
      }
    }
    return false;
  }

  static bool match_dynamic(const Segment& s, std::string_view text, Match& m) {
    if (s.kind == Segment::Kind::param) {
      return converter_accepts(s.converter(), text) && m.push(text, s.converter());
    }
    return match_mixed(s, text, m);
  }

  // A segment of literals and params, matched as Starlette's regex would (each param as long as
  // the rest still matches), in time linear in the segment's length:
  //   last[i][p] = the largest q <= p such that parts i.. match text[q..], or kNo.
  // It is filled from the last part backwards; the captures are then read off front to back.
  static bool match_mixed(const Segment& s, std::string_view text, Match& m) {
    if (text.size() > kMaxMixedSegmentBytes) return false;
    constexpr std::uint16_t kNo = 0xFFFF;  // kMaxMixedSegmentBytes < kNo
    const std::size_t k = s.parts.size();
    const std::size_t w = text.size() + 1;
    std::vector<std::uint16_t>& last = m.table_;
    last.assign((k + 1) * w, kNo);
    auto row = [&](std::size_t i) { return last.data() + i * w; };
    row(k)[text.size()] = static_cast<std::uint16_t>(text.size());  // parts k.. (none) match only at the end

    auto best_end = [&](std::size_t i, std::size_t pos) -> std::size_t {  // param i from pos, -> end or npos
      const std::uint16_t* after = row(i + 1);
      const EndRanges r = converter_ends(s.parts[i].converter, text, pos);
      for (int j = 0; j < r.count; ++j) {
        const std::uint16_t q = after[r.hi[j]];
        if (q != kNo && q >= r.lo[j]) return q;
      }
      return std::string_view::npos;
    };

    for (std::size_t i = k; i-- > 0;) {
      const Part& part = s.parts[i];
      std::uint16_t* cur = row(i);
      const std::uint16_t* after = row(i + 1);
      std::uint16_t last_ok = kNo;
      for (std::size_t p = 0; p < w; ++p) {
        bool ok;
        if (part.is_param) {
          ok = best_end(i, p) != std::string_view::npos;
        } else {
          const std::size_t len = part.text.size();
          ok = text.size() - p >= len && text.compare(p, len, part.text) == 0 && after[p + len] == p + len;
        }
        if (ok) last_ok = static_cast<std::uint16_t>(p);
        cur[p] = last_ok;
      }
    }
    if (row(0)[0] != 0) return false;

    std::size_t pos = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const Part& part = s.parts[i];
      if (!part.is_param) {
        pos += part.text.size();
        continue;
      }
      const std::size_t end = best_end(i, pos);
      if (!m.push(text.substr(pos, end - pos), part.converter)) return false;
      pos = end;
    }
    return true;
  }

  Options options_;
  bool frozen_ = false;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<Route> routes_;
};

}  // namespace fasterapi::router
