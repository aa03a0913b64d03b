// fasterapi::http1::Parser: a strict, sans-IO HTTP/1.1 message parser (RFC 9112, RFC 9110).
//
// Theory of operation. The caller owns the bytes. It passes the bytes not yet consumed to next(),
// which returns one event at a time and how many bytes it consumed; the caller drops those bytes
// and calls again with the rest (plus whatever arrived meanwhile). Events are views into the
// caller's bytes: they stay valid until the caller drops or moves them.
//
//   state           consumes                                  emits
//   head            nothing until the whole head is there     Head (request or response)
//   body_length     up to Content-Length bytes                Data
//   chunk_size      one chunk-size line                       (nothing)
//   chunk_data      up to the chunk's size                    Data
//   chunk_end       the CRLF after a chunk's data             (nothing)
//   trailers        nothing until the trailer section ends    End (with the trailers)
//   body_close      everything (a response ending at close)   Data; finish() gives End
//   message_end     nothing                                   End
//   tunnel          everything: it is no longer HTTP/1        Upgrade
//   closed          nothing; bytes here are an error          (error, unless lenient)
//
// While a head (or a trailer section) is incomplete, the lines received so far are checked, so
// that bad input is reported at once and the work stays linear in the bytes received.
// Errors are sticky: after one, next() returns it again until reset().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fasterapi/http1/chars.hpp"
#include "fasterapi/http1/scan.hpp"

namespace fasterapi::http1 {

enum class Role : std::uint8_t { request, response };

// Named leniencies, each off by default (llhttp's lenient flags).
enum Lenient : std::uint32_t {
  lenient_headers = 1u << 0,                    // controls in values, whitespace before ':', obs-fold, bare CR ending a field line
  lenient_chunked_length = 1u << 1,             // Content-Length with Transfer-Encoding: the latter wins
  lenient_keep_alive = 1u << 2,                 // keep parsing after "Connection: close"
  lenient_transfer_encoding = 1u << 3,          // chunked anywhere in a request's codings, or none: body until close
  lenient_version = 1u << 4,                    // any HTTP/d.d version
  lenient_data_after_close = 1u << 5,           // ignore bytes after a message that closes the connection
  lenient_optional_lf_after_cr = 1u << 6,       // a bare CR ends a line
  lenient_optional_cr_before_lf = 1u << 7,      // a bare LF ends a line
  lenient_optional_crlf_after_chunk = 1u << 8,  // no CRLF after a chunk's data
  lenient_spaces_after_chunk_size = 1u << 9,    // spaces between the chunk size and its CRLF
  lenient_header_value_relaxed = 1u << 10,      // any byte but CR/LF in header values
  lenient_obs_fold = 1u << 11,                  // obs-fold continuation lines, replaced by a space (RFC 9112 5.2)
};

// Defaults like the major servers (Apache's LimitRequestLine/LimitRequestFieldSize 8190,
// LimitRequestFields 100; nginx and Node allow 8-64 KiB of headers).
struct Limits {
  std::size_t max_request_line = 8190;     // 414 past it (a response's status line: 400)
  std::size_t max_header_line = 8190;      // one field line; 431
  std::size_t max_header_bytes = 65536;    // the whole head or trailer section; 431
  std::size_t max_headers = 100;           // field lines in a head or trailer section; 431
  std::optional<std::uint64_t> max_body;   // 413
  std::size_t max_chunk_size_digits = 16;  // 16 hex digits fill 64 bits; 400 past it
};

struct Config {
  Limits limits;
  std::uint32_t lenient = 0;
  bool has(Lenient l) const noexcept { return (lenient & l) != 0; }
};

enum class Errc : std::uint8_t {
  none,
  invalid_method,
  invalid_target,
  invalid_version,
  unsupported_version,  // 505
  invalid_status,
  invalid_reason,
  invalid_header_name,
  invalid_header_value,
  whitespace_before_colon,
  missing_colon,
  obs_fold,
  bare_cr,
  bare_lf,
  invalid_content_length,
  duplicate_content_length,
  content_length_and_transfer_encoding,
  transfer_encoding_not_chunked,
  transfer_encoding_in_http10,
  invalid_transfer_encoding,
  invalid_chunk_size,
  chunk_size_overflow,
  invalid_chunk_extension,
  missing_chunk_crlf,
  request_line_too_long,  // 414
  header_line_too_long,   // 431
  headers_too_large,      // 431
  too_many_headers,       // 431
  body_too_large,         // 413
  unexpected_eof,
  data_after_close,
};

inline constexpr std::string_view errc_name(Errc e) noexcept {
  constexpr std::string_view names[] = {
      "none", "invalid_method", "invalid_target", "invalid_version", "unsupported_version", "invalid_status",
      "invalid_reason", "invalid_header_name", "invalid_header_value", "whitespace_before_colon",
      "missing_colon", "obs_fold", "bare_cr", "bare_lf", "invalid_content_length", "duplicate_content_length",
      "content_length_and_transfer_encoding", "transfer_encoding_not_chunked", "transfer_encoding_in_http10",
      "invalid_transfer_encoding", "invalid_chunk_size", "chunk_size_overflow", "invalid_chunk_extension",
      "missing_chunk_crlf", "request_line_too_long", "header_line_too_long", "headers_too_large",
      "too_many_headers", "body_too_large", "unexpected_eof", "data_after_close",
  };
  static_assert(std::size(names) == static_cast<std::size_t>(Errc::data_after_close) + 1, "a name per Errc");
  return names[static_cast<std::size_t>(e)];
}

// The HTTP status a server answers with.
inline constexpr int status_hint(Errc e) noexcept {
  switch (e) {
    case Errc::unsupported_version: return 505;
    case Errc::request_line_too_long: return 414;
    case Errc::header_line_too_long:
    case Errc::headers_too_large:
    case Errc::too_many_headers: return 431;
    case Errc::body_too_large: return 413;
    default: return 400;
  }
}

inline constexpr bool is_limit(Errc e) noexcept {
  return e == Errc::request_line_too_long || e == Errc::header_line_too_long || e == Errc::headers_too_large ||
         e == Errc::too_many_headers || e == Errc::body_too_large || e == Errc::chunk_size_overflow;
}

struct Header {
  std::string_view name;
  std::string_view value;  // without leading and trailing whitespace
};

struct Head {
  // Request: method and target. Response: status and reason.
  std::string_view method;
  std::string_view target;
  int status = 0;
  std::string_view reason;
  int version_major = 1;
  int version_minor = 1;
  std::span<const Header> headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool upgrade = false;  // the connection leaves HTTP/1 after this message (Upgrade, CONNECT, 101)
  bool expect_continue = false;
  std::string_view version_text;  // "1.1"
};

struct Event {
  enum class Kind : std::uint8_t { head, data, end, upgrade };
  Kind kind = Kind::head;
  const Head* head = nullptr;        // head
  std::string_view data;             // data, upgrade
  std::span<const Header> trailers;  // end
};

enum class Status : std::uint8_t { event, need_more, error };

// The field lines of the section being parsed: a growable array whose append is a store and an
// increment (the parser appends a field per line, the hot loop of a head). Its storage is kept
// from message to message.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  HeaderList(HeaderList&&) noexcept = default;
  HeaderList& operator=(HeaderList&&) noexcept = default;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  Header* data() noexcept { return data_.get(); }
  const Header* data() const noexcept { return data_.get(); }
  Header& operator[](std::size_t i) noexcept { return data_[i]; }
  const Header& operator[](std::size_t i) const noexcept { return data_[i]; }
  Header& back() noexcept { return data_[size_ - 1]; }
  Header* begin() noexcept { return data_.get(); }
  Header* end() noexcept { return data_.get() + size_; }
  std::span<const Header> view() const noexcept { return {data_.get(), size_}; }
  void clear() noexcept { size_ = 0; }

  void push_back(const Header& h) {
    if (size_ == capacity_) [[unlikely]] grow();
    data_[size_++] = h;
  }

 private:
  void grow() {
    const std::size_t capacity = capacity_ ? capacity_ * 2 : 32;
    auto bigger = std::make_unique<Header[]>(capacity);
    std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<Header[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class Parser {
 public:
  explicit Parser(Role role, Config config = {}) : role_(role), config_(config) {}

  Role role() const noexcept { return role_; }
  const Config& config() const noexcept { return config_; }
  Errc error() const noexcept { return error_; }
  std::uint64_t error_offset() const noexcept { return error_offset_; }
  std::uint64_t offset() const noexcept { return offset_; }  // bytes consumed so far

  // For a response parser: the method of the request this response answers (HEAD responses
  // have no body; a 2xx answer to CONNECT opens a tunnel). Set before the response's head.
  void set_request_method(std::string_view method) noexcept {
    request_head_ = method == "HEAD";
    request_connect_ = method == "CONNECT";
  }

  void reset() noexcept {
    state_ = State::head;
    error_ = Errc::none;
    error_offset_ = 0;
    offset_ = 0;
    tunnel_announced_ = false;
    begin_section();
  }

  // One event from `in` (the bytes not consumed yet). `consumed` is set on every return; it may
  // be non-zero with need_more (framing bytes that make no event, such as a chunk-size line).
  Status next(std::string_view in, Event& ev, std::size_t& consumed) {
    consumed = 0;
    while (true) {
      std::size_t used = 0;
      const Step s = step(in.substr(consumed), ev, used);
      consumed += used;
      offset_ += used;
      switch (s) {
        case Step::event: return Status::event;
        case Step::need_more: return Status::need_more;
        case Step::error: return Status::error;
        case Step::progress: break;
      }
    }
  }

  // The peer closed the connection; `in` holds the bytes not consumed. A response delimited by
  // the close ends here; a message cut short is an error. Returns event (an End), need_more
  // (nothing pending: a clean close) or error.
  Status finish(std::string_view in, Event& ev) {
    if (error_ != Errc::none) return Status::error;
    if (state_ == State::body_close || state_ == State::message_end) {
      end_event({}, ev);
      return Status::event;
    }
    if ((state_ == State::head && in.empty() && scan_ == 0) || state_ == State::closed || state_ == State::tunnel) {
      return Status::need_more;
    }
    fail(Errc::unexpected_eof, in.size());
    return Status::error;
  }

  // Whether the parser is between messages (nothing of a next message received yet).
  bool idle() const noexcept { return error_ == Errc::none && state_ == State::head && scan_ == 0; }

 private:
  enum class State : std::uint8_t {
    head, body_length, chunk_size, chunk_data, chunk_end, trailers, body_close, message_end, tunnel, closed,
  };

  // progress: bytes consumed, no event yet; the caller's loop goes on with the rest.
  enum class Step : std::uint8_t { event, need_more, error, progress };

  Step step(std::string_view in, Event& ev, std::size_t& used) {
    if (error_ != Errc::none) return Step::error;
    switch (state_) {
      case State::head:
        return parse_head(in, ev, used);
      case State::body_length:
      case State::chunk_data: {
        if (in.empty()) return Step::need_more;
        const std::size_t n = remaining_ < in.size() ? static_cast<std::size_t>(remaining_) : in.size();
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::body_length ? State::message_end : State::chunk_end;
        return data_event(in.substr(0, n), ev, used);
      }
      case State::chunk_size:
        return parse_chunk_size(in, used);
      case State::chunk_end:
        return parse_chunk_end(in, used);
      case State::trailers:
        return parse_fields(in, ev, used);
      case State::body_close:
        if (in.empty()) return Step::need_more;
        if (config_.limits.max_body && body_total_ + in.size() > *config_.limits.max_body) {
          // The bytes up to the limit are body, the first one past it is the error: the same
          // events however the body arrives.
          const auto allowed = static_cast<std::size_t>(*config_.limits.max_body - body_total_);
          if (allowed == 0) return fail(Errc::body_too_large, 0);
          body_total_ += allowed;
          return data_event(in.substr(0, allowed), ev, used);
        }
        body_total_ += in.size();
        return data_event(in, ev, used);
      case State::message_end:
        return end_event({}, ev);
      case State::tunnel:
        if (in.empty() && tunnel_announced_) return Step::need_more;
        tunnel_announced_ = true;
        ev = Event{Event::Kind::upgrade, nullptr, in, {}};
        used = in.size();
        return Step::event;
      case State::closed:
        if (in.empty()) return Step::need_more;
        if (config_.has(lenient_data_after_close)) {
          used = in.size();
          return Step::need_more;
        }
        return fail(Errc::data_after_close, 0);
    }
    return Step::need_more;
  }

  // The views of the section's fields point into the buffer of the previous call; the caller may
  // have moved the bytes since (to append what arrived), so they are moved to the same offsets of
  // `in`. An unfolded value lives in folds_ and stays where it is.
  void rebase(const char* base) noexcept {
    if (base == fields_base_) return;
    if (!fields_.empty()) {
      const auto move = [&](std::string_view v) {
        return std::string_view(base + (v.data() - fields_base_), v.size());
      };
      std::size_t next_fold = 0;
      for (std::size_t k = 0; k < fields_.size(); ++k) {
        Header& f = fields_[k];
        f.name = move(f.name);
        if (next_fold < folded_.size() && folded_[next_fold] == k) {
          ++next_fold;
        } else {
          f.value = move(f.value);
        }
      }
    }
    fields_base_ = base;
  }

  // `local_offset` counts from the start of the input of the current step.
  Step fail(Errc e, std::size_t local_offset) noexcept {
    error_ = e;
    error_offset_ = offset_ + local_offset;
    return Step::error;
  }

  Step data_event(std::string_view data, Event& ev, std::size_t& used) {
    ev = Event{Event::Kind::data, nullptr, data, {}};
    used = data.size();
    return Step::event;
  }

  Step end_event(std::span<const Header> trailers, Event& ev) {
    ev = Event{Event::Kind::end, nullptr, {}, trailers};
    if (head_.upgrade) {
      state_ = State::tunnel;
      tunnel_announced_ = false;
    } else if (!head_.keep_alive && !config_.has(lenient_keep_alive)) {
      state_ = State::closed;
    } else {
      state_ = State::head;
    }
    begin_section();
    return Step::event;
  }

  void begin_section() noexcept {
    scan_ = 0;
    fields_.clear();
    folded_.clear();
    start_line_end_ = 0;
  }

  // --- lines ------------------------------------------------------------------------------------

  // Finds the end of the line starting at `pos`: sets `content_end` (before CR LF) and `next`
  // (after it). Returns need_more when the line is not complete, error for a bare CR or LF.
  // In a field line, lenient_headers lets a bare CR end the line too (as llhttp does).
  Step find_line(std::string_view in, std::size_t pos, std::size_t& content_end, std::size_t& next,
                 bool field_line = false) {
    const char* p = in.data();
    const std::size_t n = in.size();
    const std::size_t i = pos + scan::find_crlf(p + pos, n - pos);
    if (i == n) return Step::need_more;
    content_end = i;
    if (p[i] == '\n') {
      if (!config_.has(lenient_optional_cr_before_lf)) return fail(Errc::bare_lf, i);
      next = i + 1;
      return Step::event;
    }
    if (i + 1 == n) return Step::need_more;
    if (p[i + 1] == '\n') {
      next = i + 2;
      return Step::event;
    }
    if (!config_.has(lenient_optional_lf_after_cr) && !(field_line && config_.has(lenient_headers))) {
      return fail(Errc::bare_cr, i + 1);
    }
    next = i + 1;
    return Step::event;
  }

  // --- heads and trailer sections -----------------------------------------------------------------

  Step parse_head(std::string_view in, Event& ev, std::size_t& used) {
    if (scan_ == 0) {
      if (in.empty()) return Step::need_more;
      head_ = Head{};
      if (!folds_.empty()) folds_.clear();  // the previous message's events are consumed by now
      content_length_.reset();
      // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line (CRLF) received before
      // the request-line; clients meet them between responses too.
      if (in[0] == '\r' || in[0] == '\n') {
        if (in[0] == '\n') {
          if (!config_.has(lenient_optional_cr_before_lf)) return fail(Errc::bare_lf, 0);
          used = 1;
          return Step::progress;
        }
        if (in.size() < 2) return Step::need_more;
        if (in[1] != '\n') return fail(Errc::bare_cr, 1);
        used = 2;
        return Step::progress;
      }
      if (role_ == Role::request) {
        if (const std::size_t next = fast_request_line(in)) {
          start_line_end_ = next;
          start_line_base_ = in.data();
          scan_ = next;
          return parse_fields(in, ev, used);
        }
      }
      std::size_t content_end = 0, next = 0;
      const Step s = find_line(in, 0, content_end, next);
      const std::size_t limit = config_.limits.max_request_line;
      const Errc too_long = role_ == Role::request ? Errc::request_line_too_long : Errc::invalid_status;
      if (s != Step::event) {
        // What has arrived of the line is checked now, from its start, so that an error names the
        // same byte however the line arrived (a complete line is checked the same way below).
        const std::size_t line_end = scan::find_crlf(in.data(), in.size());
        const Errc pending = error_;
        const std::uint64_t pending_offset = error_offset_;
        error_ = Errc::none;
        if (parse_start_line(in.substr(0, line_end), true) == Step::error) return Step::error;
        error_ = pending;
        error_offset_ = pending_offset;
        if (s == Step::error) return s;
        if (in.size() > limit) return fail(too_long, limit);
        return Step::need_more;
      }
      if (content_end > limit) return fail(too_long, limit);
      if (parse_start_line(in.substr(0, content_end), false) == Step::error) return Step::error;
      start_line_end_ = next;
      start_line_base_ = in.data();
      scan_ = next;
    }
    return parse_fields(in, ev, used);
  }

  // The common request line in one pass: method SP target SP "HTTP/1.1" (or 1.0) CRLF, complete
  // and within the limit. Returns where the next line starts, or 0 for anything else, which
  // parse_request_line then decides; this path only ever accepts what that one accepts.
  std::size_t fast_request_line(std::string_view in) noexcept {
    const char* p = in.data();
    const std::size_t n = in.size();
    const std::size_t m = scan::non_tchar_scalar(p, n);
    if (m == 0 || m == n || p[m] != ' ') return 0;
    const std::size_t t0 = m + 1;
    const std::size_t t = t0 + scan::find_non_target(p + t0, n - t0);
    constexpr std::size_t kVersionLine = 11;  // SP "HTTP/1.1" CR LF
    if (t == t0 || n - t < kVersionLine || p[t] != ' ') return 0;
    const char* v = p + t + 1;
    if (std::string_view(v, 7) != "HTTP/1." || (v[7] != '1' && v[7] != '0') || v[8] != '\r' || v[9] != '\n') return 0;
    if (t + 9 > config_.limits.max_request_line) return 0;
    const std::string_view method(p, m), target(p + t0, t - t0);
    if (!valid_target_form(method, target)) return 0;
    head_.method = method;
    head_.target = target;
    head_.version_major = 1;
    head_.version_minor = v[7] - '0';
    head_.version_text = std::string_view(v + 5, 3);
    return t + kVersionLine;
  }

  // `partial`: the line is not complete; running out of bytes is then no error (need_more).
  Step parse_start_line(std::string_view line, bool partial) {
    return role_ == Role::request ? parse_request_line(line, partial) : parse_status_line(line, partial);
  }

  Step parse_request_line(std::string_view line, bool partial) {
    // request-line = method SP request-target SP HTTP-version
    const std::size_t n = line.size();
    std::size_t i = 0;
    while (i < n && chars::is_tchar(static_cast<unsigned char>(line[i]))) ++i;
    if (i == n) return partial ? Step::need_more : fail(Errc::invalid_method, i);
    if (i == 0 || line[i] != ' ') return fail(Errc::invalid_method, i);
    head_.method = line.substr(0, i);
    const std::size_t t0 = ++i;
    i += scan::find_non_target(line.data() + i, n - i);
    if (i == n) return partial ? Step::need_more : fail(Errc::invalid_target, i);
    if (i == t0 || line[i] != ' ') return fail(Errc::invalid_target, i);
    head_.target = line.substr(t0, i - t0);
    if (!valid_target_form(head_.method, head_.target)) return fail(Errc::invalid_target, t0);
    return parse_version(line, i + 1, n, partial);
  }

  // RFC 9112 section 3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form (OPTIONS).
  static bool valid_target_form(std::string_view method, std::string_view target) noexcept {
    if (method == "CONNECT") return target.front() != '/' && target.find('/') == std::string_view::npos;
    if (target == "*") return method == "OPTIONS";
    if (target.front() == '/') return true;
    // absolute-form: scheme ":" hier-part, scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    const unsigned char c0 = static_cast<unsigned char>(target.front());
    if (!((c0 | 0x20) >= 'a' && (c0 | 0x20) <= 'z')) return false;
    for (std::size_t k = 1; k < target.size(); ++k) {
      const unsigned char c = static_cast<unsigned char>(target[k]);
      if (c == ':') return true;
      const bool alnum = chars::is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
      if (!alnum && c != '+' && c != '-' && c != '.') return false;
    }
    return false;
  }

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, from `begin` to `end` of `line`. An error names the
  // first byte that does not fit, the same byte however the line arrived.
  Step parse_version(std::string_view line, std::size_t begin, std::size_t end, bool partial) {
    const std::string_view v = line.substr(begin, end - begin);
    constexpr std::string_view kShape = "HTTP/0.0";  // '0' stands for any digit
    for (std::size_t k = 0; k < kShape.size(); ++k) {
      if (k == v.size()) return partial ? Step::need_more : fail(Errc::invalid_version, begin + k);
      const auto c = static_cast<unsigned char>(v[k]);
      const bool ok = kShape[k] == '0' ? chars::is_digit(c) : c == static_cast<unsigned char>(kShape[k]);
      if (!ok) return fail(Errc::invalid_version, begin + k);
    }
    head_.version_major = v[5] - '0';
    head_.version_minor = v[7] - '0';
    head_.version_text = v.substr(5, 3);
    // Judged as soon as its 8 bytes are there, before what follows them, so that the error is the
    // same however the line arrives.
    if (head_.version_major != 1 || head_.version_minor > 1) {
      if (!config_.has(lenient_version)) return fail(Errc::unsupported_version, begin);
    }
    if (v.size() != kShape.size()) return fail(Errc::invalid_version, begin + kShape.size());
    if (partial && begin + kShape.size() == line.size()) return Step::need_more;  // more may follow
    return Step::event;
  }

  Step parse_status_line(std::string_view line, bool partial) {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const std::size_t n = line.size();
    if (const Step s = parse_version(line, 0, n < 8 ? n : 8, partial); s != Step::event) return s;
    if (n == 8) return partial ? Step::need_more : fail(Errc::invalid_status, 8);
    if (line[8] != ' ') return fail(Errc::invalid_status, 8);
    int status = 0;
    for (std::size_t k = 9; k < 12; ++k) {
      if (k == n) return partial ? Step::need_more : fail(Errc::invalid_status, k);
      if (!chars::is_digit(static_cast<unsigned char>(line[k]))) return fail(Errc::invalid_status, k);
      status = status * 10 + (line[k] - '0');
    }
    head_.status = status;
    if (n == 12) return partial ? Step::need_more : Step::event;
    if (line[12] != ' ') return fail(Errc::invalid_status, 12);
    for (std::size_t k = 13; k < n; ++k) {
      if (!chars::is(static_cast<unsigned char>(line[k]), chars::kReason)) return fail(Errc::invalid_reason, k);
    }
    head_.reason = line.substr(13);
    return partial ? Step::need_more : Step::event;
  }

  // Field lines of a head (after its start line) or of a trailer section, up to the empty line.
  Step parse_fields(std::string_view in, Event& ev, std::size_t& used) {
    const Limits& lim = config_.limits;
    rebase(in.data());
    while (true) {
      fast_field_lines(in);
      if (scan_ + 1 < in.size() && in[scan_] == '\r' && in[scan_ + 1] == '\n' && scan_ + 2 <= lim.max_header_bytes) {
        scan_ += 2;  // the empty line: the section is complete
        return state_ == State::head ? complete_head(in, ev, used) : complete_trailers(in, ev, used);
      }
      std::size_t content_end = 0, next = 0;
      const Step s = find_line(in, scan_, content_end, next, /*field_line=*/true);
      if (s != Step::event) {
        // Check what has arrived of the line now (same order of checks as a complete line).
        const std::size_t line_end = scan_ + scan::find_crlf(in.data() + scan_, in.size() - scan_);
        const Errc pending = error_;
        const std::uint64_t pending_offset = error_offset_;
        error_ = Errc::none;
        if (parse_field_line(in, scan_, line_end, true) == Step::error) return Step::error;
        error_ = pending;
        error_offset_ = pending_offset;
        if (s == Step::error) return s;
        if (in.size() - scan_ > lim.max_header_line) return fail(Errc::header_line_too_long, scan_ + lim.max_header_line);
        if (in.size() > lim.max_header_bytes) return fail(Errc::headers_too_large, lim.max_header_bytes);
        return Step::need_more;
      }
      if (content_end - scan_ > lim.max_header_line) return fail(Errc::header_line_too_long, scan_ + lim.max_header_line);
      if (next > lim.max_header_bytes) return fail(Errc::headers_too_large, lim.max_header_bytes);
      if (content_end == scan_) {  // the empty line: the section is complete
        scan_ = next;
        return state_ == State::head ? complete_head(in, ev, used) : complete_trailers(in, ev, used);
      }
      if (parse_field_line(in, scan_, content_end, false) == Step::error) return Step::error;
      scan_ = next;
    }
  }

  // The common field lines: token ":" OWS value OWS CRLF. Stops at anything else (the empty
  // line, obs-fold, an incomplete line, a limit reached, any error), which the general path then
  // decides the same way; this one only ever accepts what that one accepts.
  //
  // The bytes are taken 64 at a time into a mask of those a field value may not hold: in a good
  // head, the CR LF pairs ending the lines. Walking the mask gives each line's end without a scan
  // that waits on the line before, so the lines' work overlaps. Compiled once per instruction set.
  void fast_field_lines(std::string_view in) {
#ifdef FASTERAPI_HTTP1_X86
    if (scan::cpu_has_avx2()) {
      fast_field_lines_avx2(in);
      return;
    }
#endif
    fast_field_lines_with<scan::Baseline>(in);
  }

#ifdef FASTERAPI_HTTP1_X86
  __attribute__((target("avx2"), flatten)) void fast_field_lines_avx2(std::string_view in) {
    fast_field_lines_with<scan::Avx2>(in);
  }
#endif

  template <class Scan>
  __attribute__((always_inline)) void fast_field_lines_with(std::string_view in) {
    const char* p = in.data();
    const std::size_t n = in.size();
    const bool relaxed = config_.has(lenient_header_value_relaxed);
    std::size_t line = scan_;  // the start of the line being looked for
    // Where names end: the bits of the bytes that are not tchars, of this block and the one before
    // (with AVX2; otherwise the names are scanned byte by byte).
    std::uint64_t names = 0, names_before = 0;
    alignas(64) char tail[64];
    for (std::size_t block = line; block < n; block += 64) {
      const char* b = p + block;
      if (n - block < 64) {  // the last bytes, padded with bytes that are never marked
        std::memset(tail, 'x', sizeof tail);
        std::memcpy(tail, b, n - block);
        b = tail;
      }
      std::uint64_t bits = Scan::field_mask64(b, relaxed);
      if constexpr (Scan::kNameMask) {
        names_before = names;
        names = Scan::non_tchar_mask64(b);
      }
      if (line > block) bits &= ~std::uint64_t{0} << (line - block);  // the LF of a CR of the block before
      while (bits != 0) {
        const std::size_t cr = block + static_cast<std::size_t>(__builtin_ctzll(bits));
        if (cr + 1 >= n || p[cr] != '\r' || p[cr + 1] != '\n' || cr == line) {
          scan_ = line;
          return;
        }
        std::size_t name_end = line;
        if constexpr (Scan::kNameMask) {
          // The first byte from `line` on that is not a tchar; the CR at the latest.
          const std::uint64_t from = line >= block ? names >> (line - block) : 0;
          if (from != 0) {
            name_end = line + static_cast<std::size_t>(__builtin_ctzll(from));
          } else if (line < block && line + 64 >= block && (names_before >> (line + 64 - block)) != 0) {
            name_end = line + static_cast<std::size_t>(__builtin_ctzll(names_before >> (line + 64 - block)));
          } else {
            while (chars::is_tchar(static_cast<unsigned char>(p[name_end]))) ++name_end;
          }
        } else {
          while (chars::is_tchar(static_cast<unsigned char>(p[name_end]))) ++name_end;
        }
        if (!fast_field_line(in, line, name_end, cr)) {
          scan_ = line;
          return;
        }
        line = cr + 2;
        bits &= bits - 1;  // the CR
        bits &= bits - 1;  // its LF, or nothing if the LF starts the next block
      }
    }
    scan_ = line;
  }

  // One field line from `line` to its CR at `cr`, whose bytes all may be in a field value; its
  // first byte that is not a tchar is at `name_end`.
  __attribute__((always_inline)) bool fast_field_line(std::string_view in, std::size_t line, std::size_t name_end,
                                                      std::size_t cr) {
    const char* p = in.data();
    const Limits& lim = config_.limits;
    if (name_end == line || p[name_end] != ':' || fields_.size() == lim.max_headers) return false;
    if (cr - line > lim.max_header_line || cr + 2 > lim.max_header_bytes) return false;
    std::size_t i = name_end + 1;
    while (p[i] == ' ' || p[i] == '\t') ++i;  // stops at the CR at the latest
    const std::size_t value = i;
    std::size_t e = cr;
    while (e > value && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
    const std::string_view name(p + line, name_end - line);
    if (state_ == State::head && name.size() == 14 && chars::iequals_checked(name, "content-length")) {
      if (content_length_) return false;  // the general path reports the duplicate
      if (read_content_length(in.substr(value, e - value), value, line) == Step::error) {
        error_ = Errc::none;  // let the general path report it, at the same place
        return false;
      }
    }
    fields_.push_back(Header{name, std::string_view(p + value, e - value)});
    return true;
  }

  // RFC 9112 section 5.2: a server MAY reject obs-fold (it does, unless a leniency allows it); a
  // client MUST replace it with SP.
  bool folding_allowed() const noexcept {
    return role_ == Role::response || config_.has(lenient_obs_fold) || config_.has(lenient_headers);
  }

  // field-line = field-name ":" OWS field-value OWS, from `begin` to `end` (before its CRLF).
  Step parse_field_line(std::string_view in, std::size_t begin, std::size_t end, bool partial) {
    const char* p = in.data();
    if (begin == end) return partial ? Step::need_more : Step::event;
    if (p[begin] == ' ' || p[begin] == '\t') {
      // obs-fold: a continuation of the previous field line
      if (!folding_allowed() || fields_.empty()) return fail(Errc::obs_fold, begin);
      std::size_t b = begin, e = end;
      while (b < e && (p[b] == ' ' || p[b] == '\t')) ++b;
      while (!partial && e > b && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
      if (const Step s = check_value(in, b, e); s == Step::error) return s;
      if (partial) return Step::need_more;
      unfold(in.substr(b, e - b));
      return Step::event;
    }
    std::size_t i = begin;
    while (i < end && chars::is_tchar(static_cast<unsigned char>(p[i]))) ++i;
    if (i == end) return partial ? Step::need_more : fail(Errc::missing_colon, end);
    std::size_t name_end = i;
    if (p[i] != ':') {
      if (i == begin || (p[i] != ' ' && p[i] != '\t')) return fail(Errc::invalid_header_name, i);
      std::size_t k = i;
      while (k < end && (p[k] == ' ' || p[k] == '\t')) ++k;
      if (k == end) return partial ? Step::need_more : fail(Errc::missing_colon, end);
      if (p[k] != ':') return fail(Errc::invalid_header_name, i);  // a space inside the name
      if (!config_.has(lenient_headers)) return fail(Errc::whitespace_before_colon, i);
      i = k;
    }
    if (i == begin) return fail(Errc::invalid_header_name, i);
    ++i;
    while (i < end && (p[i] == ' ' || p[i] == '\t')) ++i;
    std::size_t e = end;
    while (!partial && e > i && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
    if (const Step s = check_value(in, i, e); s == Step::error) return s;
    if (partial) return Step::need_more;
    if (fields_.size() == config_.limits.max_headers) return fail(Errc::too_many_headers, begin);
    const std::string_view name = in.substr(begin, name_end - begin);
    if (state_ == State::head && chars::iequals_checked(name, "content-length")) {
      if (const Step s = read_content_length(in.substr(i, e - i), i, begin); s == Step::error) return s;
    }
    fields_.push_back(Header{name, in.substr(i, e - i)});
    return Step::event;
  }

  // Content-Length = 1*DIGIT (RFC 9110 section 8.6), one field line only: checked as soon as the
  // line is complete, so that a smuggling attempt is refused before the rest of the head arrives.
  Step read_content_length(std::string_view value, std::size_t value_offset, std::size_t line_offset) {
    if (content_length_) return fail(Errc::duplicate_content_length, line_offset);
    if (value.empty()) return fail(Errc::invalid_content_length, value_offset);
    std::uint64_t n = 0;
    for (std::size_t j = 0; j < value.size(); ++j) {
      const auto c = static_cast<unsigned char>(value[j]);
      if (!chars::is_digit(c)) return fail(Errc::invalid_content_length, value_offset + j);
      if (n > (UINT64_MAX - 9) / 10) return fail(Errc::invalid_content_length, value_offset + j);
      n = n * 10 + (c - '0');
    }
    content_length_ = n;
    return Step::event;
  }

  // Replaces an obs-fold with one SP: the value is rebuilt in storage of the parser's own.
  // The last field line's value is rebuilt in storage of the parser's own.
  void unfold(std::string_view continuation) {
    const std::size_t k = fields_.size() - 1;
    Header& field = fields_[k];
    if (folded_.empty() || folded_.back() != k) {
      folds_.emplace_back(field.value);
      folded_.push_back(static_cast<std::uint32_t>(k));
    }
    std::string& value = folds_.back();
    if (!continuation.empty()) {
      if (!value.empty()) value.push_back(' ');
      value.append(continuation);
    }
    field.value = value;
  }

  // field-value = *( VCHAR / obs-text / SP / HTAB ); a bare CR was already refused by find_line.
  Step check_value(std::string_view in, std::size_t begin, std::size_t end) {
    if (config_.has(lenient_header_value_relaxed)) return Step::event;
    const bool lenient = config_.has(lenient_headers);
    std::size_t k = begin;
    while (true) {
      k += scan::find_invalid_field_byte(in.data() + k, end - k);
      if (k == end) return Step::event;
      const auto c = static_cast<unsigned char>(in[k]);
      if (c == '\r' || !lenient) return fail(c == '\r' ? Errc::bare_cr : Errc::invalid_header_value, k);
      ++k;
    }
  }

  // Where the value of field k starts in `in` (an unfolded value: where it started on its line).
  std::size_t value_offset(std::string_view in, std::size_t k) const noexcept {
    const Header& f = fields_[k];
    if (!std::binary_search(folded_.begin(), folded_.end(), static_cast<std::uint32_t>(k))) {
      return static_cast<std::size_t>(f.value.data() - in.data());
    }
    std::size_t i = static_cast<std::size_t>(f.name.data() - in.data()) + f.name.size();
    while (in[i] != ':') ++i;  // lenient_headers allows whitespace before the colon
    ++i;
    while (in[i] == ' ' || in[i] == '\t') ++i;
    return i;
  }

  // Comma-separated list elements of a field value (RFC 9110 section 5.6.1), without OWS.
  template <class Fn>
  static void for_each_element(std::string_view value, Fn&& fn) {
    std::size_t i = 0;
    while (i <= value.size()) {
      std::size_t comma = value.find(',', i);
      if (comma == std::string_view::npos) comma = value.size();
      std::size_t b = i, e = comma;
      while (b < e && (value[b] == ' ' || value[b] == '\t')) ++b;
      while (e > b && (value[e - 1] == ' ' || value[e - 1] == '\t')) --e;
      if (e > b) fn(value.substr(b, e - b));
      i = comma + 1;
    }
  }

  // RFC 9112 section 6: the message's framing from its fields.
  Step complete_head(std::string_view in, Event& ev, std::size_t& used) {
    // The start line was checked when it arrived; if that was in another buffer, take its views anew.
    if (in.data() != start_line_base_) {
      std::size_t content_end = 0, next = 0;
      find_line(in, 0, content_end, next);
      if (parse_start_line(in.substr(0, content_end), false) == Step::error) return Step::error;
    }
    Head& h = head_;
    h.headers = fields_.view();
    const bool http10 = h.version_major == 1 && h.version_minor == 0;
    bool te_seen = false, te_chunked_final = false, connection_close = false, connection_keep_alive = false;
    bool connection_upgrade = false, has_upgrade = false;
    h.content_length = content_length_;
    for (std::size_t k = 0; k < fields_.size(); ++k) {
      const Header& f = fields_[k];
      // The fields that frame the message, told apart by their length first.
      switch (f.name.size()) {
        case 17:
          if (chars::iequals_checked(f.name, "transfer-encoding")) {
            te_seen = true;
            bool bad = false;
            for_each_element(f.value, [&](std::string_view coding) {
              // transfer-coding = token *( OWS ";" OWS transfer-parameter ); "chunked" takes none
              // chunked must be the last coding, applied once (lenient_transfer_encoding: anywhere)
              if (te_chunked_final && !config_.has(lenient_transfer_encoding)) bad = true;
              const std::size_t semi = coding.find(';');
              std::string_view name = coding.substr(0, semi);
              while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
              for (const char c : name) bad = bad || !chars::is_tchar(static_cast<unsigned char>(c));
              te_chunked_final = chars::iequals_checked(name, "chunked");
              if (te_chunked_final && semi != std::string_view::npos) bad = true;
            });
            if (bad && role_ == Role::request) return fail(Errc::invalid_transfer_encoding, value_offset(in, k));
            // RFC 9112 section 6.3: a response whose final coding is not chunked is read until close.
            if (bad) te_chunked_final = false;
          }
          break;
        case 10:
          if (chars::iequals_checked(f.name, "connection")) {
            for_each_element(f.value, [&](std::string_view token) {
              if (chars::iequals_checked(token, "close")) connection_close = true;
              else if (chars::iequals_checked(token, "keep-alive")) connection_keep_alive = true;
              else if (chars::iequals_checked(token, "upgrade")) connection_upgrade = true;
            });
          }
          break;
        case 7:
          if (chars::iequals_checked(f.name, "upgrade")) has_upgrade = true;
          break;
        case 6:
          if (chars::iequals_checked(f.name, "expect")) h.expect_continue = chars::iequals(f.value, "100-continue");
          break;
        default:
          break;
      }
    }
    h.keep_alive = http10 ? (connection_keep_alive && !connection_close) : !connection_close;

    enum class Body : std::uint8_t { none, length, chunked, close, tunnel } body = Body::none;
    if (te_seen) {
      if (http10 && !config_.has(lenient_transfer_encoding)) return fail(Errc::transfer_encoding_in_http10, start_line_end_);
      const bool had_length = h.content_length.has_value();
      if (had_length && !config_.has(lenient_chunked_length)) {
        return fail(Errc::content_length_and_transfer_encoding, start_line_end_);
      }
      h.content_length.reset();
      if (te_chunked_final) {
        h.chunked = true;
        body = Body::chunked;
      } else if (role_ == Role::request && !config_.has(lenient_transfer_encoding) && !had_length) {
        return fail(Errc::transfer_encoding_not_chunked, start_line_end_);
      } else {
        body = Body::close;
      }
    } else if (h.content_length) {
      body = *h.content_length ? Body::length : Body::none;
    } else if (role_ == Role::response) {
      body = Body::close;
    }

    if (role_ == Role::request) {
      if (h.method == "CONNECT") {
        h.upgrade = true;
        body = Body::tunnel;
      } else if (has_upgrade && connection_upgrade) {
        h.upgrade = true;
      }
    } else {
      const int s = h.status;
      if (s == 101 || (request_connect_ && s >= 200 && s < 300)) {
        h.upgrade = true;
        body = Body::tunnel;
      } else if ((s >= 100 && s < 200) || s == 204 || s == 304 || request_head_) {
        body = Body::none;
      }
      if (s >= 100 && s < 200 && s != 101) h.keep_alive = true;  // an interim response ends nothing
    }
    if (body == Body::close) h.keep_alive = false;

    if (config_.limits.max_body && h.content_length && *h.content_length > *config_.limits.max_body &&
        body == Body::length) {
      return fail(Errc::body_too_large, start_line_end_);
    }

    used = scan_;
    body_total_ = 0;
    switch (body) {
      case Body::none: state_ = State::message_end; break;
      case Body::length: state_ = State::body_length; remaining_ = *h.content_length; break;
      case Body::chunked: state_ = State::chunk_size; break;
      case Body::close: state_ = State::body_close; break;
      case Body::tunnel: state_ = State::message_end; break;
    }
    scan_ = 0;
    fields_.clear();
    ev = Event{Event::Kind::head, &head_, {}, {}};
    return Step::event;
  }

  Step complete_trailers(std::string_view /*in*/, Event& ev, std::size_t& used) {
    used = scan_;
    return end_event(fields_.view(), ev);
  }

  // --- chunked transfer coding (RFC 9112 section 7.1) ------------------------------------------------

  // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
  Step parse_chunk_size(std::string_view in, std::size_t& used) {
    if (in.empty()) return Step::need_more;
    // The size's digits first, so that an error names the same byte however the line arrived.
    const std::size_t max_digits = config_.limits.max_chunk_size_digits;
    std::size_t digits = 0;
    while (digits < in.size() && chars::is_hex(static_cast<unsigned char>(in[digits]))) ++digits;
    if (digits == 0) return fail(Errc::invalid_chunk_size, 0);
    if (digits > max_digits) return fail(Errc::chunk_size_overflow, max_digits);
    std::size_t content_end = 0, next = 0;
    const Step s = find_line(in, 0, content_end, next);
    if (s == Step::error) return s;
    if (s == Step::need_more) {
      if (in.size() > config_.limits.max_header_line) {
        return fail(Errc::invalid_chunk_extension, config_.limits.max_header_line);
      }
      return Step::need_more;
    }
    if (content_end > config_.limits.max_header_line) {
      return fail(Errc::invalid_chunk_extension, config_.limits.max_header_line);
    }
    const std::string_view line = in.substr(0, content_end);
    std::size_t i = 0;
    std::uint64_t size = 0;
    for (; i < digits; ++i) {  // at most max_digits (16): a uint64_t holds them
      size = size * 16 + static_cast<std::uint64_t>(chars::hex_value(static_cast<unsigned char>(line[i])));
    }
    if (size > (UINT64_MAX >> 1)) return fail(Errc::chunk_size_overflow, i - 1);
    if (const Step e = check_chunk_extensions(line, i); e == Step::error) return e;
    if (config_.limits.max_body && body_total_ + size > *config_.limits.max_body) {
      return fail(Errc::body_too_large, 0);
    }
    body_total_ += size;
    used = next;
    if (size == 0) {
      state_ = State::trailers;
      begin_section();
    } else {
      remaining_ = size;
      state_ = State::chunk_data;
    }
    return Step::progress;
  }

  Step check_chunk_extensions(std::string_view line, std::size_t i) {
    auto bws = [&] {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    };
    const std::size_t after_size = i;
    bws();
    if (i == line.size()) {
      if (i != after_size && !config_.has(lenient_spaces_after_chunk_size)) return fail(Errc::invalid_chunk_size, after_size);
      return Step::event;
    }
    while (i < line.size()) {
      if (line[i] != ';') return fail(Errc::invalid_chunk_extension, i);
      ++i;
      bws();
      const std::size_t name = i;
      while (i < line.size() && chars::is_tchar(static_cast<unsigned char>(line[i]))) ++i;
      if (i == name) return fail(Errc::invalid_chunk_extension, i);
      bws();
      if (i < line.size() && line[i] == '=') {
        ++i;
        bws();
        if (i < line.size() && line[i] == '"') {  // quoted-string
          ++i;
          // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 section 5.6.4); a
          // quoted-pair escapes HTAB, SP, VCHAR or obs-text, never a control.
          while (i < line.size() && line[i] != '"') {
            if (line[i] == '\\') ++i;
            if (i < line.size() && !chars::is(static_cast<unsigned char>(line[i]), chars::kFieldVchar)) {
              return fail(Errc::invalid_chunk_extension, i);
            }
            ++i;
          }
          if (i >= line.size()) return fail(Errc::invalid_chunk_extension, line.size());
          ++i;
        } else {
          const std::size_t value = i;
          while (i < line.size() && chars::is_tchar(static_cast<unsigned char>(line[i]))) ++i;
          if (i == value) return fail(Errc::invalid_chunk_extension, i);
        }
        bws();
      }
    }
    return Step::event;
  }

  Step parse_chunk_end(std::string_view in, std::size_t& used) {
    if (in.empty()) return Step::need_more;
    std::size_t n = 0;
    if (in[0] == '\r') {
      if (in.size() < 2) return Step::need_more;
      if (in[1] == '\n') {
        n = 2;
      } else if (config_.has(lenient_optional_lf_after_cr)) {
        n = 1;
      } else {
        return fail(Errc::missing_chunk_crlf, 1);
      }
    } else if (in[0] == '\n' && config_.has(lenient_optional_cr_before_lf)) {
      n = 1;
    } else if (!config_.has(lenient_optional_crlf_after_chunk)) {
      return fail(Errc::missing_chunk_crlf, 0);
    }
    used = n;
    state_ = State::chunk_size;
    return Step::progress;
  }

  Role role_;
  Config config_;
  State state_ = State::head;
  Errc error_ = Errc::none;
  std::uint64_t error_offset_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_total_ = 0;
  bool request_head_ = false;
  bool request_connect_ = false;
  bool tunnel_announced_ = false;
  std::size_t scan_ = 0;            // the section's bytes checked so far
  std::size_t start_line_end_ = 0;  // where the head's field lines start
  const char* start_line_base_ = nullptr;  // the buffer the start line's views point into
  Head head_;
  HeaderList fields_;                 // the section's field lines, views into the caller's bytes
  const char* fields_base_ = nullptr;  // the buffer those views point into
  std::vector<std::uint32_t> folded_;  // fields_ whose value was unfolded (it lives in folds_), ascending
  std::deque<std::string> folds_;      // unfolded field values (stable addresses for the views)
  std::optional<std::uint64_t> content_length_;
};

}  // namespace fasterapi::http1
