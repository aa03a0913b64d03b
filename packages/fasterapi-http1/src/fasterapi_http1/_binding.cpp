// Python binding of fasterapi::http1: type conversion only, the protocol is in the headers.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fasterapi/http1/parser.hpp"
#include "fasterapi/http1/serializer.hpp"

namespace nb = nanobind;
namespace fh = fasterapi::http1;

// Bound types live in a namespace of this package's own (nanobind's registry is shared).
namespace fasterapi_http1_binding {
namespace {

struct Globals {
  nb::handle protocol_error, limit_exceeded;
  nb::handle request_type, response_type, data_type, end_type, upgrade_type;
};
Globals g;

template <class T>
nb::object new_instance(nb::handle type, T&& value) {
  nb::object o = nb::inst_alloc(type);
  new (nb::inst_ptr<std::decay_t<T>>(o)) std::decay_t<T>(std::forward<T>(value));
  nb::inst_mark_ready(o);
  return o;
}

nb::bytes to_bytes(std::string_view s) { return nb::bytes(s.data(), s.size()); }

// The bytes of a bytes, bytearray or other buffer object, for the duration of a call.
class Bytes {
 public:
  explicit Bytes(nb::handle h) {
    if (PyBytes_Check(h.ptr())) {
      view_ = {PyBytes_AS_STRING(h.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(h.ptr()))};
      return;
    }
    if (PyUnicode_Check(h.ptr()) || PyObject_GetBuffer(h.ptr(), &buffer_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw nb::type_error((std::string("expected bytes or a buffer, not ") + nb::inst_name(h).c_str()).c_str());
    }
    held_ = true;
    view_ = {static_cast<const char*>(buffer_.buf), static_cast<std::size_t>(buffer_.len)};
  }
  ~Bytes() {
    if (held_) PyBuffer_Release(&buffer_);
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  std::string_view view() const noexcept { return view_; }

 private:
  Py_buffer buffer_{};
  bool held_ = false;
  std::string_view view_;
};

// --- events ---------------------------------------------------------------------------------------

// Field names as browsers and clients send them: one shared bytes object each, instead of a new
// one per request. Names are kept as sent, so only an exact match shares.
class CommonNames {
 public:
  CommonNames() {
    static constexpr std::string_view kNames[] = {
        "Host", "host", "User-Agent", "user-agent", "Accept", "accept", "Accept-Language", "accept-language",
        "Accept-Encoding", "accept-encoding", "Connection", "connection", "Content-Type", "content-type",
        "Content-Length", "content-length", "Cookie", "cookie", "Referer", "referer", "Origin", "origin",
        "Cache-Control", "cache-control", "Upgrade-Insecure-Requests", "upgrade-insecure-requests",
        "Sec-Fetch-Site", "sec-fetch-site", "Sec-Fetch-Mode", "sec-fetch-mode", "Sec-Fetch-Dest",
        "sec-fetch-dest", "Sec-Fetch-User", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile",
        "sec-ch-ua-platform", "Authorization", "authorization", "Transfer-Encoding", "transfer-encoding",
        "If-None-Match", "if-none-match", "If-Modified-Since", "if-modified-since", "Pragma", "pragma",
        "Keep-Alive", "keep-alive", "Accept-Charset", "Upgrade", "upgrade", "X-Forwarded-For",
        "x-forwarded-for", "X-Forwarded-Proto", "x-forwarded-proto", "X-Real-IP", "x-real-ip",
        "X-Request-ID", "x-request-id", "Date", "date", "Server", "server", "Expect", "expect",
        "Sec-WebSocket-Key", "sec-websocket-key", "Sec-WebSocket-Version", "sec-websocket-version",
        "Sec-WebSocket-Extensions", "sec-websocket-extensions", "DNT", "TE", "te", "Via", "via",
    };
    for (const std::string_view n : kNames) {
      PyObject* obj = PyBytes_FromStringAndSize(n.data(), static_cast<Py_ssize_t>(n.size()));
      if (obj && n.size() < kBuckets) by_length_[n.size()].push_back({n, obj});
    }
  }
  // A new reference: the shared object for a common name, else a new bytes object.
  PyObject* get(std::string_view name) const {
    if (name.size() < kBuckets) {
      for (const auto& [text, obj] : by_length_[name.size()]) {
        std::size_t i = 0;
        while (i < name.size() && text[i] == name[i]) ++i;
        if (i == name.size()) {
          Py_INCREF(obj);
          return obj;
        }
      }
    }
    return PyBytes_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
  }

 private:
  static constexpr std::size_t kBuckets = 32;  // by name length; longer names are never shared
  // Held for the life of the process.
  std::array<std::vector<std::pair<std::string_view, PyObject*>>, kBuckets> by_length_;
};

PyObject* field_name(std::string_view name) {
  static const CommonNames* names = new CommonNames();  // never destroyed: outlives the interpreter's objects
  return names->get(name);
}

nb::list header_list(std::span<const fh::Header> headers) {
  nb::list out;
  for (const fh::Header& h : headers) out.append(nb::make_tuple(to_bytes(h.name), to_bytes(h.value)));
  return out;
}

// A head, kept as one copy of its bytes plus offsets: its parts become Python objects only when
// they are read, the header list once.
struct HeadEvent {
  nb::bytes raw;
  std::uint32_t first_off = 0, first_len = 0;    // method, or reason
  std::uint32_t second_off = 0, second_len = 0;  // target
  std::uint32_t version_off = 0;
  int status = 0;
  std::vector<std::uint32_t> fields;  // name offset, name length, value offset, value length
  std::optional<std::uint64_t> content_length;
  bool keep_alive = true, chunked = false, upgrade = false, expect_continue = false;
  nb::object headers_cache;

  // Values rebuilt by the parser (an unfolded obs-fold) live outside the head's bytes.
  std::vector<std::string> rebuilt;
  static constexpr std::uint32_t kRebuilt = 0x80000000u;

  HeadEvent(const fh::Head& h, std::string_view bytes, bool request) : raw(to_bytes(bytes)) {
    const char* base = bytes.data();
    auto off = [&](std::string_view v) -> std::uint32_t {
      if (v.data() >= base && v.data() + v.size() <= base + bytes.size()) return static_cast<std::uint32_t>(v.data() - base);
      rebuilt.emplace_back(v);
      return kRebuilt | static_cast<std::uint32_t>(rebuilt.size() - 1);
    };
    if (request) {
      first_off = off(h.method);
      first_len = static_cast<std::uint32_t>(h.method.size());
      second_off = off(h.target);
      second_len = static_cast<std::uint32_t>(h.target.size());
    } else {
      first_off = h.reason.empty() ? 0 : off(h.reason);
      first_len = static_cast<std::uint32_t>(h.reason.size());
    }
    version_off = off(h.version_text);
    status = h.status;
    fields.reserve(h.headers.size() * 4);
    for (const fh::Header& f : h.headers) {
      fields.insert(fields.end(), {off(f.name), static_cast<std::uint32_t>(f.name.size()), off(f.value),
                                   static_cast<std::uint32_t>(f.value.size())});
    }
    content_length = h.content_length;
    keep_alive = h.keep_alive;
    chunked = h.chunked;
    upgrade = h.upgrade;
    expect_continue = h.expect_continue;
  }

  nb::bytes slice(std::uint32_t o, std::uint32_t n) const {
    if (o & kRebuilt) return to_bytes(rebuilt[o & ~kRebuilt]);
    return nb::bytes(PyBytes_AS_STRING(raw.ptr()) + o, n);
  }
  nb::bytes first() const { return slice(first_off, first_len); }
  nb::bytes second() const { return slice(second_off, second_len); }
  nb::bytes version() const { return slice(version_off, 3); }
  nb::object content_length_obj() const { return content_length ? nb::object(nb::int_(*content_length)) : nb::none(); }
  nb::object headers() {
    if (!headers_cache.is_valid()) {
      const char* base = PyBytes_AS_STRING(raw.ptr());
      const std::size_t n = fields.size() / 4;
      PyObject* list = PyList_New(static_cast<Py_ssize_t>(n));
      if (!list) throw nb::python_error();
      nb::object held = nb::steal(list);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t* f = fields.data() + 4 * i;
        PyObject* name = field_name(std::string_view(base + f[0], f[1]));
        PyObject* value = nullptr;
        if (name && (f[2] & kRebuilt)) {
          const std::string& v = rebuilt[f[2] & ~kRebuilt];
          value = PyBytes_FromStringAndSize(v.data(), static_cast<Py_ssize_t>(v.size()));
        } else if (name) {
          value = PyBytes_FromStringAndSize(base + f[2], f[3]);
        }
        PyObject* pair = value ? PyTuple_New(2) : nullptr;
        if (!pair) {
          Py_XDECREF(name);
          Py_XDECREF(value);
          throw nb::python_error();
        }
        PyTuple_SET_ITEM(pair, 0, name);
        PyTuple_SET_ITEM(pair, 1, value);
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), pair);
      }
      headers_cache = std::move(held);
    }
    return headers_cache;
  }
};

struct Request : HeadEvent {
  using HeadEvent::HeadEvent;
};
struct Response : HeadEvent {
  using HeadEvent::HeadEvent;
};

struct Data {
  nb::bytes data;
};
struct EndOfMessage {
  nb::list trailers;
};
struct Upgrade {
  nb::bytes data;
};

// --- parsers --------------------------------------------------------------------------------------

const std::pair<std::string_view, fh::Lenient> kLeniencies[] = {
    {"lenient_headers", fh::lenient_headers},
    {"lenient_chunked_length", fh::lenient_chunked_length},
    {"lenient_keep_alive", fh::lenient_keep_alive},
    {"lenient_transfer_encoding", fh::lenient_transfer_encoding},
    {"lenient_version", fh::lenient_version},
    {"lenient_data_after_close", fh::lenient_data_after_close},
    {"lenient_optional_lf_after_cr", fh::lenient_optional_lf_after_cr},
    {"lenient_optional_cr_before_lf", fh::lenient_optional_cr_before_lf},
    {"lenient_optional_crlf_after_chunk", fh::lenient_optional_crlf_after_chunk},
    {"lenient_spaces_after_chunk_size", fh::lenient_spaces_after_chunk_size},
    {"lenient_header_value_relaxed", fh::lenient_header_value_relaxed},
    {"lenient_obs_fold", fh::lenient_obs_fold},
};

std::size_t positive(nb::handle v, const char* name) {
  const long long n = nb::cast<long long>(v);
  if (n <= 0) throw nb::value_error((std::string(name) + " must be a positive integer").c_str());
  return static_cast<std::size_t>(n);
}

fh::Config config_from(const nb::kwargs& kwargs) {
  fh::Config c;
  for (auto [key, value] : kwargs) {
    const std::string name = nb::cast<std::string>(key);
    bool known = true;
    if (name == "max_request_line") c.limits.max_request_line = positive(value, "max_request_line");
    else if (name == "max_header_line") c.limits.max_header_line = positive(value, "max_header_line");
    else if (name == "max_header_bytes") c.limits.max_header_bytes = positive(value, "max_header_bytes");
    else if (name == "max_headers") c.limits.max_headers = positive(value, "max_headers");
    else if (name == "max_chunk_size_digits") {
      c.limits.max_chunk_size_digits = positive(value, "max_chunk_size_digits");
      if (c.limits.max_chunk_size_digits > 16) throw nb::value_error("max_chunk_size_digits must be at most 16");
    } else if (name == "max_body") {
      if (value.is_none()) c.limits.max_body.reset();
      else {
        const long long n = nb::cast<long long>(value);
        if (n < 0) throw nb::value_error("max_body must be >= 0 or None");
        c.limits.max_body = static_cast<std::uint64_t>(n);
      }
    } else {
      known = false;
      for (const auto& [lname, flag] : kLeniencies) {
        if (name == lname) {
          known = true;
          if (nb::cast<bool>(value)) c.lenient |= flag;
        }
      }
    }
    if (!known) throw nb::type_error(("unexpected keyword argument '" + name + "'").c_str());
  }
  return c;
}

[[noreturn]] void raise_protocol_error(const fh::Parser& p, nb::list events = nb::list()) {
  const fh::Errc e = p.error();
  const std::string code(fh::errc_name(e));
  std::string message = code;
  for (char& ch : message) ch = ch == '_' ? ' ' : ch;
  message += " at byte " + std::to_string(p.error_offset());
  nb::handle cls = fh::is_limit(e) ? g.limit_exceeded : g.protocol_error;
  nb::object exc = cls(message, code, fh::status_hint(e), p.error_offset(), events);
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw nb::python_error();
}

class Parser {
 public:
  Parser(fh::Role role, fh::Config config) : core_(role, config) {}

  nb::list feed(nb::handle data) {
    Bytes bytes(data);
    nb::list out;
    if (core_.error() != fh::Errc::none) raise_protocol_error(core_);
    std::string_view in;
    if (buffer_.empty()) {
      in = bytes.view();
    } else {
      buffer_.append(bytes.view());
      in = buffer_;
    }
    std::size_t pos = 0;
    while (true) {
      fh::Event ev;
      std::size_t used = 0;
      before_message();
      const fh::Status s = core_.next(in.substr(pos), ev, used);
      if (s == fh::Status::event) {
        out.append(event_object(ev, in.substr(pos, used)));
        if (ev.kind == fh::Event::Kind::head) after_head(*ev.head);
      }
      pos += used;
      if (s == fh::Status::need_more) break;
      if (s == fh::Status::error) {
        buffer_.clear();
        raise_protocol_error(core_, out);
      }
    }
    if (in.data() == buffer_.data() && !buffer_.empty()) {
      buffer_.erase(0, pos);
    } else {
      buffer_.assign(in.substr(pos));
    }
    return out;
  }

  nb::list feed_eof() {
    nb::list out;
    fh::Event ev;
    const fh::Status s = core_.finish(buffer_, ev);
    if (s == fh::Status::error) raise_protocol_error(core_, out);
    if (s == fh::Status::event) out.append(event_object(ev, {}));
    return out;
  }

  std::size_t buffered() const noexcept { return buffer_.size(); }
  std::uint64_t offset() const noexcept { return core_.offset(); }
  bool idle() const noexcept { return core_.idle() && buffer_.empty(); }

 protected:
  virtual void before_message() {}
  virtual void after_head(const fh::Head&) {}

  nb::object event_object(const fh::Event& ev, std::string_view used) {
    switch (ev.kind) {
      case fh::Event::Kind::head: {
        // The head's bytes run from its first byte (after any empty lines skipped) to `used`'s end.
        const char* first = core_.role() == fh::Role::request ? ev.head->method.data() : ev.head->version_text.data() - 5;
        const std::string_view bytes(first, static_cast<std::size_t>(used.data() + used.size() - first));
        if (core_.role() == fh::Role::request) return new_instance(g.request_type, Request(*ev.head, bytes, true));
        return new_instance(g.response_type, Response(*ev.head, bytes, false));
      }
      case fh::Event::Kind::data:
        return new_instance(g.data_type, Data{to_bytes(ev.data)});
      case fh::Event::Kind::end:
        return new_instance(g.end_type, EndOfMessage{header_list(ev.trailers)});
      case fh::Event::Kind::upgrade:
        return new_instance(g.upgrade_type, Upgrade{to_bytes(ev.data)});
    }
    return nb::none();
  }

  fh::Parser core_;
  std::string buffer_;  // bytes received and not consumed yet
};

class RequestParser : public Parser {
 public:
  explicit RequestParser(const nb::kwargs& kwargs) : Parser(fh::Role::request, config_from(kwargs)) {}
};

class ResponseParser : public Parser {
 public:
  explicit ResponseParser(nb::bytes request_method, const nb::kwargs& kwargs)
      : Parser(fh::Role::response, config_from(kwargs)) {
    set_request_method(request_method);
  }
  void set_request_method(nb::bytes m) {
    method_ = std::string(m.c_str(), m.size());
    core_.set_request_method(method_);
  }
  nb::bytes request_method() const { return to_bytes(method_); }

  // Pipelining: the methods of requests sent and not answered yet, oldest first. Each final
  // response (not a 1xx other than 101) answers the oldest; with none queued, request_method holds.
  void expect_response_to(nb::bytes m) { pending_.emplace_back(m.c_str(), m.size()); }
  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  void before_message() override {
    if (core_.idle()) core_.set_request_method(pending_.empty() ? method_ : pending_.front());
  }
  void after_head(const fh::Head& h) override {
    if ((h.status >= 200 || h.status == 101) && !pending_.empty()) pending_.pop_front();
  }

  std::string method_;
  std::deque<std::string> pending_;
};

// --- the fast path and the serializers ---------------------------------------------------------------

nb::object parse_request(nb::handle data) {
  static fh::Parser parser(fh::Role::request);  // reused under the GIL: keeps its vectors' capacity
  Bytes bytes(data);
  parser.reset();
  fh::Event ev;
  std::size_t used = 0;
  const fh::Status s = parser.next(bytes.view(), ev, used);
  if (s == fh::Status::error) raise_protocol_error(parser);
  if (s == fh::Status::need_more) return nb::none();
  const char* first = ev.head->method.data();
  const std::string_view head(first, static_cast<std::size_t>(bytes.view().data() + used - first));
  return nb::make_tuple(new_instance(g.request_type, Request(*ev.head, head, true)), used);
}

// Header pairs from Python: any iterable of 2-item sequences of bytes (or str, encoded as Latin-1).
struct HeaderArgs {
  std::deque<std::string> storage;  // stable addresses: `headers` holds views into it
  std::vector<fh::Header> headers;

  explicit HeaderArgs(nb::handle iterable) {
    for (nb::handle item : iterable) {
      nb::sequence pair = nb::borrow<nb::sequence>(item);
      if (nb::len(pair) != 2) throw nb::value_error("a header must be a (name, value) pair");
      add(text(pair[0]), text(pair[1]));
    }
  }

  void add(std::string name, std::string value) {
    storage.push_back(std::move(name));
    const std::string& n = storage.back();
    storage.push_back(std::move(value));
    headers.push_back(fh::Header{n, storage.back()});
  }

  static std::string text(nb::handle h) {
    if (PyBytes_Check(h.ptr())) return std::string(PyBytes_AS_STRING(h.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(h.ptr())));
    if (PyUnicode_Check(h.ptr())) {
      PyObject* b = PyUnicode_AsLatin1String(h.ptr());
      if (!b) throw nb::python_error();
      nb::object held = nb::steal(b);
      return std::string(PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b)));
    }
    throw nb::type_error("header names and values must be bytes or str");
  }

  bool has(std::string_view lower_name) const {
    for (const fh::Header& h : headers) {
      if (fh::chars::iequals(h.name, lower_name)) return true;
    }
    return false;
  }

  // The body of a serialize_*() call, held in `content`; a Content-Length is added unless a
  // framing field is given.
  void body(nb::handle obj, std::optional<Bytes>& content) {
    if (obj.is_none()) return;
    content.emplace(obj);
    if (!has("content-length") && !has("transfer-encoding")) add("content-length", std::to_string(content->view().size()));
  }
};

void check_write(const fh::WriteResult& r) {
  switch (r.error) {
    case fh::WriteErrc::none: return;
    case fh::WriteErrc::invalid_method: throw nb::value_error("the method must be a token");
    case fh::WriteErrc::invalid_target: throw nb::value_error("the target must be visible ASCII, without spaces");
    case fh::WriteErrc::invalid_status: throw nb::value_error("the status code must have three digits");
    case fh::WriteErrc::invalid_reason: throw nb::value_error("the reason phrase may not hold CR, LF or other controls");
    case fh::WriteErrc::invalid_header_name:
      throw nb::value_error(("header #" + std::to_string(r.index) + ": the name must be a token").c_str());
    case fh::WriteErrc::invalid_header_value:
      throw nb::value_error(("header #" + std::to_string(r.index) + ": the value may not hold CR, LF, NUL or other controls").c_str());
  }
}

std::string_view version_arg(const std::string& v) {
  if (v != "1.1" && v != "1.0") throw nb::value_error("http_version must be b'1.1' or b'1.0'");
  return v;
}

nb::bytes serialize_response(int status, nb::handle headers, nb::handle body, nb::handle reason, nb::bytes version) {
  HeaderArgs h(headers);
  std::optional<Bytes> content;
  h.body(body, content);
  const std::string r = reason.is_none() ? std::string(fh::default_reason(status)) : HeaderArgs::text(reason);
  std::string out;
  check_write(fh::write_response_head(out, status, r, h.headers, version_arg(std::string(version.c_str(), version.size()))));
  if (content) out.append(content->view());
  return to_bytes(out);
}

nb::bytes serialize_request(nb::handle method, nb::handle target, nb::handle headers, nb::handle body, nb::bytes version) {
  HeaderArgs h(headers);
  std::optional<Bytes> content;
  h.body(body, content);
  std::string out;
  check_write(fh::write_request_head(out, HeaderArgs::text(method), HeaderArgs::text(target), h.headers,
                                     version_arg(std::string(version.c_str(), version.size()))));
  if (content) out.append(content->view());
  return to_bytes(out);
}

nb::bytes encode_chunk(nb::handle data) {
  Bytes b(data);
  std::string out;
  fh::write_chunk(out, b.view());
  return to_bytes(out);
}

nb::bytes encode_last_chunk(nb::handle trailers) {
  HeaderArgs h(trailers);
  std::string out;
  check_write(fh::write_last_chunk(out, h.headers));
  return to_bytes(out);
}

// --- GC support for the events that hold Python objects ----------------------------------------------

int head_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  Py_VISIT(nb::inst_ptr<HeadEvent>(self)->headers_cache.ptr());
  return 0;
}
int head_clear(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<HeadEvent>(self)->headers_cache = nb::object();
  return 0;
}
PyType_Slot head_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(head_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(head_clear)},
    {0, nullptr},
};

}  // namespace
}  // namespace fasterapi_http1_binding

NB_MODULE(_http1, m) {
  using namespace fasterapi_http1_binding;
  m.doc() = "C++ core of fasterapi_http1 (use the fasterapi_http1 package)";

  nb::module_ errors = nb::module_::import_("fasterapi_http1._errors");
  // Deliberately never released: the module needs them for as long as the process lives.
  g.protocol_error = errors.attr("ProtocolError").inc_ref();
  g.limit_exceeded = errors.attr("LimitExceeded").inc_ref();

  auto head_class = [&](auto cls) {
    using T = typename decltype(cls)::Type;
    cls.def_prop_ro("http_version", [](const T& h) { return h.version(); }, "b'1.1' or b'1.0'.")
        .def_prop_ro("headers", [](T& h) { return h.headers(); }, nb::sig("def headers(self) -> list[tuple[bytes, bytes]]"),
                     "The field lines in wire order: names as sent, values without surrounding whitespace.")
        .def_prop_ro("keep_alive", [](const T& h) { return h.keep_alive; },
                     "Whether the connection stays open after this message.")
        .def_prop_ro("content_length", [](const T& h) { return h.content_length_obj(); },
                     nb::sig("def content_length(self) -> int | None"))
        .def_prop_ro("chunked", [](const T& h) { return h.chunked; })
        .def_prop_ro("upgrade", [](const T& h) { return h.upgrade; },
                     "Whether the connection leaves HTTP/1 after this message (Upgrade, CONNECT, 101).");
    return cls;
  };

  nb::class_<Request> request(m, "Request", nb::type_slots(head_slots), "The head of a request.");
  head_class(request)
      .def_prop_ro("method", [](const Request& h) { return h.first(); })
      .def_prop_ro("target", [](const Request& h) { return h.second(); }, "The request-target as sent.")
      .def_prop_ro("expect_continue", [](const Request& h) { return h.expect_continue; },
                   "Whether the client sent 'Expect: 100-continue'.")
      .def("__eq__", [](Request& a, nb::handle b) -> bool {
        if (!nb::isinstance<Request>(b)) return false;
        Request& o = nb::cast<Request&>(b);
        return a.first().equal(o.first()) && a.second().equal(o.second()) && a.version().equal(o.version()) &&
               a.headers().equal(o.headers());
      }, nb::sig("def __eq__(self, other: object, /) -> bool"))
      .def("__repr__", [](Request& h) {
        return nb::str("Request(method={!r}, target={!r}, http_version={!r}, headers={!r})")
            .format(h.first(), h.second(), h.version(), h.headers());
      });
  request.def("__hash__", [](Request& h) { return nb::hash(nb::make_tuple(h.first(), h.second(), h.version(), nb::tuple(h.headers()))); });
  g.request_type = request;

  nb::class_<Response> response(m, "Response", nb::type_slots(head_slots), "The head of a response.");
  head_class(response)
      .def_prop_ro("status_code", [](const Response& h) { return h.status; })
      .def_prop_ro("reason", [](const Response& h) { return h.first(); })
      .def("__eq__", [](Response& a, nb::handle b) -> bool {
        if (!nb::isinstance<Response>(b)) return false;
        Response& o = nb::cast<Response&>(b);
        return a.status == o.status && a.first().equal(o.first()) && a.version().equal(o.version()) &&
               a.headers().equal(o.headers());
      }, nb::sig("def __eq__(self, other: object, /) -> bool"))
      .def("__repr__", [](Response& h) {
        return nb::str("Response(status_code={}, reason={!r}, http_version={!r}, headers={!r})")
            .format(h.status, h.first(), h.version(), h.headers());
      });
  response.def("__hash__", [](Response& h) { return nb::hash(nb::make_tuple(h.status, h.first(), h.version(), nb::tuple(h.headers()))); });
  g.response_type = response;

  g.data_type = nb::class_<Data>(m, "Data", "Body bytes of a message (chunk framing removed).")
                    .def(nb::init<nb::bytes>(), nb::arg("data"))
                    .def_ro("data", &Data::data)
                    .def("__eq__", [](const Data& a, nb::handle b) {
                      return nb::isinstance<Data>(b) && a.data.equal(nb::cast<const Data&>(b).data);
                    }, nb::sig("def __eq__(self, other: object, /) -> bool"))
                    .def("__hash__", [](const Data& d) { return nb::hash(d.data); })
                    .def("__repr__", [](const Data& d) { return nb::str("Data(data={!r})").format(d.data); });

  g.end_type = nb::class_<EndOfMessage>(m, "EndOfMessage", "The end of a message, with its trailer fields.")
                   .def("__init__", [](EndOfMessage* self, nb::handle trailers) {
                     nb::list items;
                     for (nb::handle t : trailers) items.append(nb::tuple(nb::borrow(t)));
                     new (self) EndOfMessage{items};
                   }, nb::arg("trailers") = nb::tuple(),
                   nb::sig("def __init__(self, trailers: collections.abc.Iterable[tuple[bytes, bytes]] = ()) -> None"))
                   .def_ro("trailers", &EndOfMessage::trailers, nb::sig("def trailers(self) -> list[tuple[bytes, bytes]]"))
                   .def("__eq__", [](const EndOfMessage& a, nb::handle b) {
                     return nb::isinstance<EndOfMessage>(b) && a.trailers.equal(nb::cast<const EndOfMessage&>(b).trailers);
                   }, nb::sig("def __eq__(self, other: object, /) -> bool"))
                   .def("__hash__", [](const EndOfMessage& e) { return nb::hash(nb::tuple(e.trailers)); })
                   .def("__repr__", [](const EndOfMessage& e) { return nb::str("EndOfMessage(trailers={!r})").format(e.trailers); });


  g.upgrade_type = nb::class_<Upgrade>(m, "Upgrade", "The connection left HTTP/1: the bytes that followed the message.")
                       .def(nb::init<nb::bytes>(), nb::arg("data"))
                       .def_ro("data", &Upgrade::data)
                       .def("__eq__", [](const Upgrade& a, nb::handle b) {
                         return nb::isinstance<Upgrade>(b) && a.data.equal(nb::cast<const Upgrade&>(b).data);
                       }, nb::sig("def __eq__(self, other: object, /) -> bool"))
                       .def("__hash__", [](const Upgrade& u) { return nb::hash(u.data); })
                       .def("__repr__", [](const Upgrade& u) { return nb::str("Upgrade(data={!r})").format(u.data); });


  constexpr const char* kOptions =
      "*, max_request_line: int = 8190, max_header_line: int = 8190, max_header_bytes: int = 65536, "
      "max_headers: int = 100, max_body: int | None = None, max_chunk_size_digits: int = 16, "
      "lenient_headers: bool = False, lenient_chunked_length: bool = False, lenient_keep_alive: bool = False, "
      "lenient_transfer_encoding: bool = False, lenient_version: bool = False, "
      "lenient_data_after_close: bool = False, lenient_optional_lf_after_cr: bool = False, "
      "lenient_optional_cr_before_lf: bool = False, lenient_optional_crlf_after_chunk: bool = False, "
      "lenient_spaces_after_chunk_size: bool = False, lenient_header_value_relaxed: bool = False, "
      "lenient_obs_fold: bool = False";
  const std::string events_type = "list[Request | Response | Data | EndOfMessage | Upgrade]";

  nb::class_<Parser>(m, "Parser", "What the request and response parsers share.")
      .def("feed", &Parser::feed, nb::arg("data"),
           nb::sig(("def feed(self, data: bytes | bytearray | memoryview) -> " + events_type).c_str()),
           "The events that the bytes received so far complete, in order.")
      .def("feed_eof", &Parser::feed_eof, nb::sig(("def feed_eof(self) -> " + events_type).c_str()),
           "The peer closed: ends a body delimited by the close; raises for a message cut short.")
      .def_prop_ro("buffered", &Parser::buffered, "Bytes received and not consumed yet.")
      .def_prop_ro("offset", &Parser::offset, "Bytes consumed so far.")
      .def_prop_ro("idle", &Parser::idle, "Whether the parser is between messages with nothing buffered.");

  nb::class_<RequestParser, Parser>(m, "RequestParser", "Parses requests (server side).")
      .def(nb::init<const nb::kwargs&>(), nb::sig((std::string("def __init__(self, ") + kOptions + ") -> None").c_str()));

  nb::class_<ResponseParser, Parser>(m, "ResponseParser", "Parses responses (client side).")
      .def(nb::init<nb::bytes, const nb::kwargs&>(), nb::arg("request_method") = nb::bytes("GET", 3), nb::arg("kwargs"),
           nb::sig((std::string("def __init__(self, request_method: bytes = b'GET', ") + kOptions + ") -> None").c_str()))
      .def_prop_rw("request_method", &ResponseParser::request_method, &ResponseParser::set_request_method,
                   "The method of the request the next responses answer (HEAD: no body; CONNECT: a tunnel),\n"
                   "for responses that no expect_response_to() call names.")
      .def("expect_response_to", &ResponseParser::expect_response_to, nb::arg("method"),
           nb::sig("def expect_response_to(self, method: bytes) -> None"),
           "Queues the method of a request sent on this connection: pipelined responses are read in order,\n"
           "each final response taking the oldest queued method.")
      .def_prop_ro("pending", &ResponseParser::pending, "Requests queued by expect_response_to() and not answered yet.");

  m.def("parse_request", &parse_request, nb::arg("data"),
        nb::sig("def parse_request(data: bytes | bytearray | memoryview) -> tuple[Request, int] | None"),
        "A request head at the start of `data` and the bytes it takes; None while it is incomplete.");
  m.def("serialize_response", &serialize_response, nb::arg("status_code"), nb::arg("headers"), nb::arg("body") = nb::none(),
        nb::kw_only(), nb::arg("reason") = nb::none(), nb::arg("http_version") = nb::bytes("1.1", 3),
        nb::sig("def serialize_response(status_code: int, headers: collections.abc.Iterable[tuple[bytes | str, bytes | str]], "
                "body: bytes | None = None, *, reason: bytes | str | None = None, http_version: bytes = b'1.1') -> bytes"),
        "A response head (and body: Content-Length is added unless a framing header is given).");
  m.def("serialize_request", &serialize_request, nb::arg("method"), nb::arg("target"), nb::arg("headers"),
        nb::arg("body") = nb::none(), nb::kw_only(), nb::arg("http_version") = nb::bytes("1.1", 3),
        nb::sig("def serialize_request(method: bytes | str, target: bytes | str, "
                "headers: collections.abc.Iterable[tuple[bytes | str, bytes | str]], body: bytes | None = None, "
                "*, http_version: bytes = b'1.1') -> bytes"),
        "A request head (and body: Content-Length is added unless a framing header is given).");
  m.def("encode_chunk", &encode_chunk, nb::arg("data"), nb::sig("def encode_chunk(data: bytes | bytearray | memoryview) -> bytes"),
        "One chunk of a chunked body (nothing for empty data, which would end the body).");
  m.def("encode_last_chunk", &encode_last_chunk, nb::arg("trailers") = nb::tuple(),
        nb::sig("def encode_last_chunk(trailers: collections.abc.Iterable[tuple[bytes | str, bytes | str]] = ()) -> bytes"),
        "The last chunk and the trailer section that end a chunked body.");
  m.def("simd_implementation", [] { return fh::scan::implementation(); },
        "The vector instructions the scans use on this CPU: 'avx2', 'sse2' or 'scalar' (FASTERAPI_HTTP1_SIMD=sse2\n"
        "in the environment keeps an AVX2 CPU to the x86-64 baseline).");
}
