// Route patterns in FastAPI/Starlette syntax, parsed into segments, and the converters.
//
//   pattern   = "/" segment *( "/" segment )
//   segment   = *( literal / param )        ; two params need a literal between them
//   param     = "{" name [ ":" converter ] "}"
//   name      = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )
//   converter = "str" / "int" / "float" / "uuid" / "path"
//
// A `path` param is a catch-all: it must fill the last segment. Each converter matches what
// Starlette's regex for it matches (starlette/convertors.py), so FastAPI apps route the same.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fasterapi/router/text.hpp"

namespace fasterapi::router {

// More than any real route has; a match keeps its captures in a fixed array of this size.
inline constexpr std::size_t kMaxParams = 64;
// Deeper than any real API; bounds the matcher's recursion (one frame per segment).
inline constexpr std::size_t kMaxSegments = 256;
// CPython's default limit for int(str) (sys.int_info.default_max_str_digits); longer runs do not match.
inline constexpr std::size_t kMaxIntDigits = 4300;
// Segments longer than this never match a segment that mixes literals and params: the matcher's
// work and memory for such a segment are linear in its length, and this caps them per request.
inline constexpr std::size_t kMaxMixedSegmentBytes = 4096;

enum class Converter : std::uint8_t { str, int_, float_, uuid, path };

inline constexpr std::array<std::string_view, 5> kConverterNames = {"str", "int", "float", "uuid", "path"};

inline constexpr std::string_view converter_name(Converter c) noexcept {
  return kConverterNames[static_cast<std::size_t>(c)];
}

// Where a match of converter `c` starting at `pos` of `s` may end: up to two ranges of end
// offsets [lo, hi], the preferred (longest) first, as the regex would try them.
struct EndRanges {
  std::array<std::size_t, 2> lo{};
  std::array<std::size_t, 2> hi{};
  int count = 0;
  void push(std::size_t l, std::size_t h) noexcept {
    lo[count] = l;
    hi[count] = h;
    ++count;
  }
};

namespace detail {

inline std::size_t digit_run(std::string_view s, std::size_t pos) noexcept {
  while (pos < s.size() && text::is_digit(static_cast<unsigned char>(s[pos]))) ++pos;
  return pos;
}

// [0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}. Deterministic:
// a '-' where one may stand must be taken, since a hex digit has to follow otherwise.
inline std::size_t uuid_end(std::string_view s, std::size_t pos) noexcept {
  static constexpr std::array<std::size_t, 5> kGroups = {8, 4, 4, 4, 12};
  for (std::size_t g = 0; g < kGroups.size(); ++g) {
    if (g != 0 && pos < s.size() && s[pos] == '-') ++pos;
    for (std::size_t k = 0; k < kGroups[g]; ++k, ++pos) {
      if (pos >= s.size() || !text::is_hex(static_cast<unsigned char>(s[pos]))) return std::string_view::npos;
    }
  }
  return pos;
}

}  // namespace detail

inline EndRanges converter_ends(Converter c, std::string_view s, std::size_t pos) noexcept {
  EndRanges r;
  if (pos >= s.size()) return r;
  switch (c) {
    case Converter::str:   // [^/]+ (a segment holds no raw '/')
    case Converter::path:  // .* (only ever used for whole tails)
      r.push(pos + 1, s.size());
      break;
    case Converter::int_: {  // [0-9]+
      std::size_t end = detail::digit_run(s, pos);
      if (end - pos > kMaxIntDigits) end = pos + kMaxIntDigits;
      if (end > pos) r.push(pos + 1, end);
      break;
    }
    case Converter::float_: {  // [0-9]+(\.[0-9]+)?
      const std::size_t d1 = detail::digit_run(s, pos);
      if (d1 == pos) break;
      if (d1 < s.size() && s[d1] == '.') {
        const std::size_t d2 = detail::digit_run(s, d1 + 1);
        if (d2 > d1 + 1) r.push(d1 + 2, d2);
      }
      r.push(pos + 1, d1);
      break;
    }
    case Converter::uuid: {
      const std::size_t end = detail::uuid_end(s, pos);
      if (end != std::string_view::npos) r.push(end, end);
      break;
    }
  }
  return r;
}

// Whether all of `s` is a value of converter `c` (UTF-8 validity is checked by the caller).
inline bool converter_accepts(Converter c, std::string_view s) noexcept {
  switch (c) {
    case Converter::str:
      return !s.empty();
    case Converter::path:
      return true;
    case Converter::int_:
      return !s.empty() && s.size() <= kMaxIntDigits && detail::digit_run(s, 0) == s.size();
    case Converter::float_: {
      const std::size_t d1 = detail::digit_run(s, 0);
      if (d1 == 0) return false;
      if (d1 == s.size()) return true;
      return s[d1] == '.' && d1 + 1 < s.size() && detail::digit_run(s, d1 + 1) == s.size();
    }
    case Converter::uuid:
      return detail::uuid_end(s, 0) == s.size();
  }
  return false;
}

// One piece of a segment: literal text, or a param (name + converter).
struct Part {
  bool is_param = false;
  Converter converter = Converter::str;
  std::string text;  // the literal, or the param's name
};

struct Segment {
  enum class Kind : std::uint8_t {
    literal,    // no params: "users"
    param,      // exactly one param filling the segment: "{id:int}"
    mixed,      // params and literals: "{name}.{ext}", "v{n:int}"
    catch_all,  // "{rest:path}", always the last segment
  };
  Kind kind = Kind::literal;
  std::vector<Part> parts;  // for a literal segment: one literal part (possibly empty)

  const std::string& literal() const noexcept { return parts.front().text; }
  Converter converter() const noexcept { return parts.front().converter; }
  std::size_t literal_bytes() const noexcept {
    std::size_t n = 0;
    for (const Part& p : parts) n += p.is_param ? 0 : p.text.size();
    return n;
  }
  // Two segments have the same shape when they match the same texts: param names do not count.
  std::string shape() const {
    std::string key;
    for (const Part& p : parts) {
      if (p.is_param) {
        key += '{';
        key += converter_name(p.converter);
        key += '}';
      } else {
        for (const char c : p.text) {  // escape so that a literal cannot imitate a param
          if (c == '{' || c == '\\') key += '\\';
          key += c;
        }
      }
    }
    return key;
  }
};

enum class PatternErrc : std::uint8_t {
  ok,
  no_leading_slash,
  trailing_slash,      // a prefix ends with '/'
  unbalanced_brace,
  invalid_name,
  unknown_converter,
  duplicate_name,
  path_not_last,
  path_in_prefix,
  adjacent_params,
  too_many_params,
  too_many_segments,
};

struct ParsedPattern {
  std::vector<Segment> segments;
  std::vector<std::string> param_names;   // in pattern order
  std::vector<Converter> param_converters;
  PatternErrc error = PatternErrc::ok;
  std::size_t offset = 0;  // where in the pattern the error was found
  std::string message;

  bool ok() const noexcept { return error == PatternErrc::ok; }
};

enum class PatternRole : std::uint8_t { route, prefix };

namespace detail {

inline bool is_name_start(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_name_char(unsigned char c) noexcept { return is_name_start(c) || text::is_digit(c); }

inline ParsedPattern pattern_error(ParsedPattern p, PatternErrc e, std::size_t offset, std::string message) {
  p.error = e;
  p.offset = offset;
  p.message = std::move(message);
  return p;
}

}  // namespace detail

// Parses a route pattern, or a mount/include prefix ("" or "/x/{y}" without a trailing '/').
inline ParsedPattern parse_pattern(std::string_view pattern, PatternRole role = PatternRole::route) {
  using detail::pattern_error;
  ParsedPattern out;
  if (pattern.empty() && role == PatternRole::prefix) return out;
  if (pattern.empty() || pattern.front() != '/') {
    return pattern_error(std::move(out), PatternErrc::no_leading_slash, 0,
                         role == PatternRole::prefix ? "a prefix must be empty or start with '/'"
                                                     : "a route pattern must start with '/'");
  }
  if (role == PatternRole::prefix && pattern.back() == '/') {
    return pattern_error(std::move(out), PatternErrc::trailing_slash, pattern.size() - 1,
                         "a prefix must not end with '/'");
  }

  std::size_t i = 1;  // past the leading '/'
  while (true) {
    if (out.segments.size() == kMaxSegments) {
      return pattern_error(std::move(out), PatternErrc::too_many_segments, i - 1,
                           "a pattern may have at most " + std::to_string(kMaxSegments) + " segments");
    }
    Segment seg;
    std::size_t catch_all_offset = std::string_view::npos;
    while (i < pattern.size() && pattern[i] != '/') {
      const char c = pattern[i];
      if (c == '}') {
        return pattern_error(std::move(out), PatternErrc::unbalanced_brace, i, "'}' without a matching '{'");
      }
      if (c != '{') {
        if (seg.parts.empty() || seg.parts.back().is_param) seg.parts.push_back(Part{});
        seg.parts.back().text += c;
        ++i;
        continue;
      }
      // A param: "{" name [":" converter] "}"
      const std::size_t open = i;
      const std::size_t close = pattern.find_first_of("{}/", open + 1);
      if (close == std::string_view::npos || pattern[close] != '}') {
        return pattern_error(std::move(out), PatternErrc::unbalanced_brace, open, "'{' without a matching '}'");
      }
      const std::string_view body = pattern.substr(open + 1, close - open - 1);
      const std::size_t colon = body.find(':');
      const std::string_view name = body.substr(0, colon);
      bool name_ok = !name.empty() && detail::is_name_start(static_cast<unsigned char>(name[0]));
      for (const char nc : name) name_ok = name_ok && detail::is_name_char(static_cast<unsigned char>(nc));
      if (!name_ok) {
        return pattern_error(std::move(out), PatternErrc::invalid_name, open + 1,
                             "invalid parameter name '" + std::string(name) +
                                 "' (expected a letter or '_' followed by letters, digits or '_')");
      }
      Converter conv = Converter::str;
      if (colon != std::string_view::npos) {
        const std::string_view cname = body.substr(colon + 1);
        std::size_t k = 0;
        while (k < kConverterNames.size() && kConverterNames[k] != cname) ++k;
        if (k == kConverterNames.size()) {
          return pattern_error(std::move(out), PatternErrc::unknown_converter, open + 1 + colon + 1,
                               "unknown converter '" + std::string(cname) +
                                   "' (expected one of str, int, float, uuid, path)");
        }
        conv = static_cast<Converter>(k);
      }
      for (const std::string& existing : out.param_names) {
        if (existing == name) {
          return pattern_error(std::move(out), PatternErrc::duplicate_name, open + 1,
                               "duplicate parameter name '" + std::string(name) + "'");
        }
      }
      if (!seg.parts.empty() && seg.parts.back().is_param) {
        return pattern_error(std::move(out), PatternErrc::adjacent_params, open,
                             "two parameters need a literal between them");
      }
      if (out.param_names.size() == kMaxParams) {
        return pattern_error(std::move(out), PatternErrc::too_many_params, open,
                             "a pattern may have at most " + std::to_string(kMaxParams) + " parameters");
      }
      if (conv == Converter::path) {
        if (role == PatternRole::prefix) {
          return pattern_error(std::move(out), PatternErrc::path_in_prefix, open,
                               "a prefix cannot contain a 'path' parameter");
        }
        catch_all_offset = open;
      }
      out.param_names.emplace_back(name);
      out.param_converters.push_back(conv);
      seg.parts.push_back(Part{true, conv, std::string(name)});
      i = close + 1;
    }

    std::size_t params = 0;
    for (const Part& p : seg.parts) params += p.is_param ? 1 : 0;
    if (params == 0) {
      seg.kind = Segment::Kind::literal;
      if (seg.parts.empty()) seg.parts.push_back(Part{});  // the empty segment of "/" or "a//b"
    } else if (catch_all_offset != std::string_view::npos) {
      if (seg.parts.size() != 1 || i != pattern.size()) {
        return pattern_error(std::move(out), PatternErrc::path_not_last, catch_all_offset,
                             "a 'path' parameter must fill the last segment of the pattern");
      }
      seg.kind = Segment::Kind::catch_all;
    } else {
      seg.kind = seg.parts.size() == 1 ? Segment::Kind::param : Segment::Kind::mixed;
    }
    out.segments.push_back(std::move(seg));
    if (i >= pattern.size()) break;
    ++i;  // the '/'
  }
  return out;
}

}  // namespace fasterapi::router
