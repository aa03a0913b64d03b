// fasterapi_server._engine: the engine's Python face. Type conversion only: requests become
// Request objects whose fields turn into Python values when read, responses given as Python
// values become Outbound commands. The protocol work is in include/fasterapi/server.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fasterapi/server/engine.hpp"
#include "fasterapi/server/executor.hpp"

namespace nb = nanobind;
namespace fs = fasterapi::server;
namespace fh = fasterapi::http1;
namespace fr = fasterapi::router;

namespace {

// How many records one poll() hands over at most: the event loop gets its turn between batches.
constexpr std::size_t kMaxBatch = 4096;

struct Globals {
  nb::handle uuid;
  nb::handle get_running_loop;  // asyncio's
  PyObject* invalid_state = nullptr;  // asyncio.InvalidStateError
  PyObject *s_set_result = nullptr, *s_set_exception = nullptr;
  // EagerStart's: the names it looks up and the keywords it passes.
  PyObject *s_call_soon, *s_add, *s_loop, *s_name, *s_context, *s_self, *s_state, *s_exception, *s_finished;
  // NativeDispatch's: the engine request's method it passes on as `_serve`'s direct; and the
  // method of a request's cycle that answer() forwards to.
  PyObject *s_answer, *s_respond;
  // Interned strings of the ASGI scope: its keys, and the values every request shares.
  PyObject *k_http_version, *k_client, *k_method, *k_path, *k_raw_path, *k_query_string,
      *k_headers, *k_state, *k_extensions, *k_pathsend, *k_path_params, *k_scheme;
  PyObject *v_http10, *v_http11, *v_http, *v_https;
  // The methods of RFC 9110, interned: a request's is one of them nearly always.
  PyObject *m_get, *m_head, *m_post, *m_put, *m_delete, *m_connect, *m_options, *m_trace, *m_patch;
};
Globals g;

// The scope's client pairs, (host, port), kept by port: the requests of one connection share
// their pair instead of making it each time (a tuple is immutable; an entry is used only when
// both parts match, and a new peer with that port replaces it). Touched with the GIL only.
struct ClientPairs {
  static constexpr std::size_t kSize = 256;
  struct Entry {
    std::string host;
    int port = -1;
    PyObject* pair = nullptr;  // owned (never released: at most kSize small tuples)
  };
  std::array<Entry, kSize> entries;

  PyObject* get(const std::string& host, int port) {  // a new reference, or nullptr with an error set
    Entry& e = entries[static_cast<std::size_t>(port) % kSize];
    if (e.pair == nullptr || e.port != port || e.host != host) {
      Py_CLEAR(e.pair);  // (the key first: an entry never holds a pair under another's key)
      e.host = host;
      e.port = port;
      PyObject* h = PyUnicode_FromStringAndSize(host.data(), static_cast<Py_ssize_t>(host.size()));
      PyObject* p = h ? PyLong_FromLong(port) : nullptr;
      PyObject* pair = p ? PyTuple_Pack(2, h, p) : nullptr;
      Py_XDECREF(h);
      Py_XDECREF(p);
      if (!pair) return nullptr;
      e.pair = pair;
    }
    Py_INCREF(e.pair);
    return e.pair;
  }
};
ClientPairs client_pairs;

PyObject* bytes_of(std::string_view s) { return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size())); }

nb::bytes to_bytes(std::string_view s) { return nb::steal<nb::bytes>(bytes_of(s)); }

// The bytes of a bytes-like object (or the latin-1 of a str), for the duration of a call.
class Bytes {
 public:
  explicit Bytes(nb::handle h) {
    if (PyBytes_Check(h.ptr())) {
      view_ = {PyBytes_AS_STRING(h.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(h.ptr()))};
    } else if (PyUnicode_Check(h.ptr())) {
      Py_ssize_t n = 0;
      const char* s = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
      if (!s) throw nb::python_error();
      view_ = {s, static_cast<std::size_t>(n)};
    } else if (PyObject_GetBuffer(h.ptr(), &buffer_, PyBUF_SIMPLE) == 0) {
      held_ = true;
      view_ = {static_cast<const char*>(buffer_.buf), static_cast<std::size_t>(buffer_.len)};
    } else {
      PyErr_Clear();
      throw nb::type_error((std::string("expected bytes, not ") + nb::inst_name(h).c_str()).c_str());
    }
  }
  ~Bytes() {
    if (held_) PyBuffer_Release(&buffer_);
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  std::string_view view() const noexcept { return view_; }

 private:
  std::string_view view_;
  Py_buffer buffer_{};
  bool held_ = false;
};

int hexval(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path of a request target (origin-form, absolute-form, "*", or authority-form as it is).
std::string_view raw_path_of(std::string_view target) noexcept {
  if (!target.empty() && target.front() != '/' && target != "*") {
    const auto scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const auto slash = target.find('/', scheme + 3);
      if (slash == std::string_view::npos) return "/";
      target = target.substr(slash);
    }
  }
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view query_of(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

// Percent-decoded as UTF-8, with U+FFFD for what is not (urllib.parse.unquote's result).
nb::str decode_path(std::string_view raw) {
  if (raw.find('%') == std::string_view::npos) {
    PyObject* s = PyUnicode_DecodeUTF8(raw.data(), static_cast<Py_ssize_t>(raw.size()), "replace");
    if (!s) throw nb::python_error();
    return nb::steal<nb::str>(s);
  }
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      const int hi = hexval(raw[i + 1]);
      const int lo = hexval(raw[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(raw[i]);
  }
  PyObject* s = PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), "replace");
  if (!s) throw nb::python_error();
  return nb::steal<nb::str>(s);
}

nb::object convert_param(std::string_view value, fr::Converter conv) {
  PyObject* out = nullptr;
  switch (conv) {
    case fr::Converter::str:
    case fr::Converter::path:
      out = PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "replace");
      break;
    case fr::Converter::int_: {
      const std::string digits(value);
      out = PyLong_FromString(digits.c_str(), nullptr, 10);
      break;
    }
    case fr::Converter::float_: {
      const std::string digits(value);
      const double v = PyOS_string_to_double(digits.c_str(), nullptr, nullptr);
      if (v == -1.0 && PyErr_Occurred()) break;
      out = PyFloat_FromDouble(v);
      break;
    }
    case fr::Converter::uuid:
      return g.uuid(nb::steal(PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "strict")));
  }
  if (!out) throw nb::python_error();
  return nb::steal(out);
}

// The outcome of a call on the executor, shared by its Future (the Python object) and the job.
// Its references change only with the GIL held, on the loop's thread (the job's last reference
// is dropped there too: in complete_job, inside poll()).
struct CallState {
  PyObject* result = nullptr;
  PyObject* error = nullptr;   // the exception the call raised
  PyObject* waiter = nullptr;  // the asyncio future that `await` waits on, made at the first await
  bool done = false;
  CallState() = default;
  CallState(const CallState&) = delete;
  CallState& operator=(const CallState&) = delete;
  ~CallState() {
    Py_XDECREF(result);
    Py_XDECREF(error);
    Py_XDECREF(waiter);
  }
};

// The waiter gets the outcome, unless the task awaiting it was cancelled meanwhile.
void resolve(CallState& st) {
  PyObject* cancelled = PyObject_CallMethod(st.waiter, "cancelled", nullptr);
  const bool skip = cancelled == nullptr || PyObject_IsTrue(cancelled) == 1;
  Py_XDECREF(cancelled);
  if (cancelled == nullptr) PyErr_WriteUnraisable(st.waiter);
  if (skip) return;
  // (ObjArgs: PyObject_CallMethod's "O" would spread a tuple result into arguments)
  PyObject* r = st.error ? PyObject_CallMethodObjArgs(st.waiter, g.s_set_exception, st.error, nullptr)
                         : PyObject_CallMethodObjArgs(st.waiter, g.s_set_result, st.result, nullptr);
  if (r == nullptr) PyErr_WriteUnraisable(st.waiter);
  Py_XDECREF(r);
}

// A pool thread's Python thread state, made at its first call and kept until the thread leaves
// the pool, as a thread of anyio's or of a ThreadPoolExecutor is one Python thread for its life:
// what a call keeps in a threading.local (a per-thread connection or session) is there for the
// next call on the thread. Each call takes the GIL with it (PyGILState_Ensure finds it) and gives
// it back. (Without it, every call made a thread state and deleted it: the thread's locals lost,
// and its frame stack's 16 KiB mapped and unmapped each time.)
struct PoolThreadState {
  bool kept = false;

  // At the thread's first call: one PyGILState_Ensure not released until the thread leaves,
  // which keeps the state it made; the GIL given back at once.
  void keep() {
    if (kept) return;
    PyGILState_Ensure();
    PyEval_SaveThread();
    kept = true;
  }
  // The executor's on_leave: the state cleared (its locals let go) and deleted. At interpreter
  // finalization, the interpreter's to delete (and taking the GIL then would end the thread).
  void leave() {
    if (!kept) return;
    kept = false;
    if (finalizing()) return;
    PyEval_RestoreThread(PyGILState_GetThisThreadState());
    PyGILState_Release(PyGILState_UNLOCKED);  // the count at 0: cleared and deleted, the GIL given back
  }
  static bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
  }
};
thread_local PoolThreadState pool_thread_state;

// A call for the executor: taken on the loop's thread, made on a pool thread that holds the GIL,
// completed back on the loop's thread.
struct Job {
  PyObject* fn = nullptr;
  PyObject* args = nullptr;
  PyObject* result = nullptr;
  PyObject* error = nullptr;
  std::shared_ptr<CallState> state;
};

// Runs on the loop's thread, inside poll().
void complete_job(void* p) {
  Job* job = static_cast<Job*>(p);
  CallState& st = *job->state;
  st.done = true;
  if (job->result) {
    st.result = std::exchange(job->result, nullptr);
  } else if (job->error) {
    st.error = std::exchange(job->error, nullptr);
  } else {  // the executor stopped before running it
    st.error = PyObject_CallFunction(PyExc_RuntimeError, "s", "the executor stopped before running the call");
    if (!st.error) PyErr_WriteUnraisable(nullptr);
  }
  if (st.waiter) resolve(st);
  Py_XDECREF(job->fn);
  Py_XDECREF(job->args);
  delete job;
}

// What Engine.submit() returns: the engine's Future seen from Python. Awaitable on the loop that
// polls the engine (an asyncio future stands in for it there: cancelling the awaiting task leaves
// the call running, its result dropped); done() and result() without waiting.
class PyFuture {
 public:
  explicit PyFuture(std::shared_ptr<CallState> st) : st_(std::move(st)) {}
  bool done() const noexcept { return st_->done; }
  nb::object result() const {
    if (!st_->done) {
      PyErr_SetString(g.invalid_state, "the call has not finished");
      throw nb::python_error();
    }
    if (st_->error) {
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(st_->error)), st_->error);
      throw nb::python_error();
    }
    return nb::borrow(st_->result);
  }
  nb::object await_() {
    if (!st_->waiter) {
      nb::object loop = g.get_running_loop();
      st_->waiter = loop.attr("create_future")().release().ptr();
      if (st_->done) resolve(*st_);
    }
    return nb::handle(st_->waiter).attr("__await__")();
  }

  // For the cycle collector: an exception kept here can hold (through its traceback) the frame
  // that holds this Future.
  static int traverse(PyObject* self, visitproc visit, void* arg) {
    if (!nb::inst_ready(self)) return 0;  // (not constructed yet, or being torn down)
    CallState& st = *nb::inst_ptr<PyFuture>(self)->st_;
    Py_VISIT(st.result);
    Py_VISIT(st.error);
    Py_VISIT(st.waiter);
    Py_VISIT(Py_TYPE(self));
    return 0;
  }
  static int clear(PyObject* self) {
    if (!nb::inst_ready(self)) return 0;
    CallState& st = *nb::inst_ptr<PyFuture>(self)->st_;
    Py_CLEAR(st.result);
    Py_CLEAR(st.error);
    Py_CLEAR(st.waiter);
    return 0;
  }

 private:
  std::shared_ptr<CallState> st_;
};

PyType_Slot future_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(&PyFuture::traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(&PyFuture::clear)},
    {0, nullptr},
};

// One request, as the Python thread sees it.
class Request {
 public:
  Request(std::shared_ptr<fs::Engine> engine, std::unique_ptr<fs::Inbound> in)
      : engine_(std::move(engine)), in_(std::move(in)) {}
  Request(Request&&) noexcept = default;
  Request& operator=(Request&&) = delete;
  ~Request() {
    if (in_) engine_->give_back(in_.release());  // (with the GIL)
  }

  nb::str method() const {
    const auto m = in_->view(in_->method);
    for (PyObject* known : {g.m_get, g.m_post, g.m_head, g.m_put, g.m_delete, g.m_patch, g.m_options,
                            g.m_connect, g.m_trace}) {
      if (static_cast<std::size_t>(PyUnicode_GET_LENGTH(known)) == m.size() &&
          std::memcmp(PyUnicode_1BYTE_DATA(known), m.data(), m.size()) == 0) {
        return nb::borrow<nb::str>(known);
      }
    }
    PyObject* s = PyUnicode_DecodeASCII(m.data(), static_cast<Py_ssize_t>(m.size()), "strict");
    if (!s) throw nb::python_error();
    return nb::steal<nb::str>(s);
  }
  nb::bytes target() const { return to_bytes(in_->view(in_->target)); }
  nb::bytes raw_path() const { return to_bytes(raw_path_of(in_->view(in_->target))); }
  nb::str path() const { return decode_path(raw_path_of(in_->view(in_->target))); }
  nb::bytes query_string() const { return to_bytes(query_of(in_->view(in_->target))); }
  nb::list headers() const {
    const std::size_t n = in_->fields.size() / 2;
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(n));
    if (!list) throw nb::python_error();
    nb::list out = nb::steal<nb::list>(list);
    for (std::size_t i = 0; i < n; ++i) {
      PyObject* name = bytes_of(in_->view(in_->fields[2 * i]));
      PyObject* value = name ? bytes_of(in_->view(in_->fields[2 * i + 1])) : nullptr;
      PyObject* pair = value ? PyTuple_Pack(2, name, value) : nullptr;
      Py_XDECREF(name);
      Py_XDECREF(value);
      if (!pair) throw nb::python_error();
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), pair);
    }
    return out;
  }
  // The value of the first header named `name` (lower case: the I/O thread lowered the names),
  // decoded as latin-1; None when there is none.
  nb::object header(std::string_view name) const {
    for (std::size_t i = 0; i + 1 < in_->fields.size(); i += 2) {
      if (in_->view(in_->fields[i]) == name) {
        const auto v = in_->view(in_->fields[i + 1]);
        PyObject* s = PyUnicode_DecodeLatin1(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr);
        if (!s) throw nb::python_error();
        return nb::steal(s);
      }
    }
    return nb::none();
  }
  nb::bytes body() const { return to_bytes(in_->view(in_->body)); }
  bool more_body() const noexcept { return in_->more_body; }
  bool keep_alive() const noexcept { return in_->keep_alive; }
  nb::str http_version() const { return nb::borrow<nb::str>(in_->version_minor == 0 ? g.v_http10 : g.v_http11); }
  nb::object client() const { return nb::steal(client_pair(forwarded())); }
  int route() const noexcept { return in_->route; }
  bool tls() const noexcept { return in_->tls; }
  nb::dict path_params() const;
  nb::dict scope(nb::dict base, nb::dict state, nb::str root_path, bool path_params) const;
  std::uint64_t stream_id() const noexcept { return in_->stream->id; }
  int answered() const noexcept { return answered_; }
  // The framework's cycle of the request (fasterapi_server._native.NativeCycle), when the native
  // path made one: the request's end is then the cycle's (cycled, for good), and answer() goes
  // through it until the cycle lets go of it at its end (the two refer to each other meanwhile).
  bool cycled() const noexcept { return cycled_; }
  nb::object cycle() const { return cycle_.is_valid() ? cycle_ : nb::none(); }
  void set_cycle(nb::object c) {
    if (c.is_none()) {
      cycle_ = nb::object();
    } else {
      cycle_ = std::move(c);
      cycled_ = true;
    }
  }

  // `_serve`'s direct on the native path: a whole response, to the cycle when there is one (it
  // may have started a response already, or have someone waiting for its end), else respond().
  void answer(int status, nb::handle headers, nb::handle body) {
    if (!cycle_.is_valid()) return respond(status, headers, body);
    nb::object code = nb::int_(status);
    PyObject* args[4] = {cycle_.ptr(), code.ptr(), headers.ptr(), body.ptr()};
    PyObject* r = PyObject_VectorcallMethod(g.s_respond, args, 4 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
    if (!r) throw nb::python_error();
    Py_DECREF(r);
  }

  // For the cycle collector: the cycle refers to this request.
  static int traverse(PyObject* self, visitproc visit, void* arg) {
    if (!nb::inst_ready(self)) return 0;
    Py_VISIT(nb::inst_ptr<Request>(self)->cycle_.ptr());
    Py_VISIT(Py_TYPE(self));
    return 0;
  }
  static int clear(PyObject* self) {
    if (!nb::inst_ready(self)) return 0;
    nb::inst_ptr<Request>(self)->cycle_ = nb::object();
    return 0;
  }
  bool closed() const noexcept { return in_->stream->closed.load(std::memory_order_relaxed); }

  void respond(int status, nb::handle headers, nb::handle body);
  void start(int status, nb::handle headers, std::optional<std::uint64_t> size);
  bool send(nb::handle chunk);
  void send_file(int fd);
  void end();
  void consumed(std::int64_t n);
  void abort();

 private:
  std::unique_ptr<fs::Outbound> outbound(fs::Outbound::Kind kind) const {
    auto o = std::make_unique<fs::Outbound>();
    o->kind = kind;
    o->stream = in_->stream;
    return o;
  }
  void fill_head(fs::Outbound& o, int status, nb::handle headers) const;

  // What a trusted proxy's X-Forwarded-For and X-Forwarded-Proto say (fs::TrustedProxies): the
  // client's host (empty: the peer stands) and the scheme (empty: the connection's). Nothing for
  // a peer that is not a trusted proxy.
  struct Forwarded {
    std::string client;
    std::string_view scheme;
  };
  Forwarded forwarded() const {
    Forwarded f;
    if (!in_->proxy_trusted) return f;
    std::string_view forwarded_for;  // the field's value: one line's, or `joined` for several
    std::string joined;
    int lines = 0;
    for (std::size_t i = 0; i + 1 < in_->fields.size(); i += 2) {
      const auto name = in_->view(in_->fields[i]);  // (lower-cased by the I/O thread)
      const auto value = in_->view(in_->fields[i + 1]);
      if (name == "x-forwarded-for") {
        if (++lines > 1) {  // field lines of one name are one list (RFC 9110 5.3)
          if (lines == 2) joined.assign(forwarded_for);
          joined += ',';
          joined.append(value);
        }
        forwarded_for = lines > 1 ? std::string_view(joined) : value;
      } else if (name == "x-forwarded-proto") {
        f.scheme = fs::forwarded_scheme(value);  // the last line's
      }
    }
    if (lines) f.client = std::string(engine_->proxies().client_of(forwarded_for));
    return f;
  }
  // scope["client"]: (host, port) of the peer, or (host, 0) of a forwarded client, whose port is
  // not known (uvicorn gives 0 too); None for the peer of a Unix domain socket, which has no
  // address (as uvicorn's). A new reference.
  PyObject* client_pair(const Forwarded& f) const {
    PyObject* pair = nullptr;
    if (f.client.empty() && in_->peer_host.empty()) {
      Py_RETURN_NONE;
    } else if (f.client.empty()) {
      pair = client_pairs.get(in_->peer_host, in_->peer_port);
    } else {
      PyObject* h = PyUnicode_DecodeLatin1(f.client.data(), static_cast<Py_ssize_t>(f.client.size()), nullptr);
      PyObject* p = h ? PyLong_FromLong(0) : nullptr;
      pair = p ? PyTuple_Pack(2, h, p) : nullptr;
      Py_XDECREF(h);
      Py_XDECREF(p);
    }
    if (!pair) throw nb::python_error();
    return pair;
  }
  void submit(std::unique_ptr<fs::Outbound> o);

  std::shared_ptr<fs::Engine> engine_;  // a request may outlive the server object
  std::unique_ptr<fs::Inbound> in_;
  void count_body(std::uint64_t n);
  void check_length(const fs::Outbound& o, std::uint64_t size) const;

  bool started_ = false;
  bool ended_ = false;
  int answered_ = 0;     // the status of the whole response respond() took
  nb::object cycle_;     // the native path's cycle of this request, until its end (NativeCycle.finish)
  bool cycled_ = false;  // ... made (NativeRequest._need_cycle)
  bool limited_ = false;    // streamed with a Content-Length: ...
  std::uint64_t left_ = 0;  // ... bytes still due
};

// ---- Starting a request's Task eagerly on Python 3.11 (fasterapi_server._drive tells why)
//
// start(coro) constructs asyncio's C Task with `call_soon` on the loop instance standing for the
// loop's own method (the hooks, held for the constructor, or for a batch of starts: hold()): the
// constructor's one call_soon (the first step), which start() arms, runs the step at once instead
// of scheduling it; any other call goes to the loop's own. A Task that finished with a result in that
// step is not added to asyncio's set of all tasks, which the constructor does right after: a
// finished task is never in all_tasks() anyway (3.12's eager tasks skip the set the same way),
// and the set's add and its weak reference's callback are Python code that would cost more than
// the rest of the Task. The hooks are C functions, so no Python code (and no other thread) runs
// between the step and the add it stands for.
//
// A Task that finished with a result and that nothing else refers to (no reference, no weak
// reference, no attribute) is cleared, which lets go of its coroutine, context and result as its
// deallocation would, and kept: the next start() initializes it again (Task.__init__ resets every
// field; asyncio's C Task only) instead of allocating one. Nobody can tell, since no one holds the
// old Task and a cleared Task holds nothing (a start went from ~620 to ~525 ns in a microbenchmark).
class EagerStart {
 public:
  EagerStart(nb::handle loop, nb::handle task_type, nb::str name) {
    loop_dict_ = nb::steal(PyObject_GetAttrString(loop.ptr(), "__dict__"));
    if (!loop_dict_.is_valid()) throw nb::python_error();
    if (!PyDict_Check(loop_dict_.ptr())) throw nb::type_error("the loop's __dict__ is not a dict");
    task_type_ = nb::borrow(task_type);
    name_ = name;
    loop_ = nb::borrow(loop);
    kwnames_ = nb::steal(PyTuple_Pack(2, g.s_loop, g.s_name));
    // asyncio's set of all tasks (a WeakSet, whose instance attributes come before its methods).
    nb::module_ c_asyncio = nb::module_::import_("_asyncio");
    nb::object all = c_asyncio.attr("_all_tasks");
    PyObject* all_dict = PyObject_GetAttrString(all.ptr(), "__dict__");
    if (all_dict && PyDict_Check(all_dict)) {
      all_dict_ = nb::steal(all_dict);
    } else {
      Py_XDECREF(all_dict);
      PyErr_Clear();  // not a WeakSet: every Task is added, as without this
    }
    // Kept and initialized again: asyncio's C Task only (its __init__ resets every field).
    reuse_ = task_type.ptr() == c_asyncio.attr("Task").ptr();
    if (reuse_) {
      kwargs_ = nb::dict();
      kwargs_[g.s_loop] = loop;
      kwargs_[g.s_name] = name;
    }
    // The getters of the Task type's own _state and _exception (C getset descriptors in asyncio's
    // Task), called directly: a generic attribute lookup costs about ten times more.
    state_get_ = getset_of(task_type, g.s_state);
    exception_get_ = getset_of(task_type, g.s_exception);
    // What the hooks call when they are not armed: the loop's class's call_soon, the set's own add.
    auto* hooks = new Hooks{this, loop_, nb::getattr(loop.type(), "call_soon", nb::none()), all,
                            all_dict_.is_valid() ? nb::getattr(all.type(), "add", nb::none()) : nb::none()};
    self_ = nb::steal(PyCapsule_New(hooks, nullptr, &Hooks::free));
    if (!self_.is_valid()) {
      delete hooks;
      throw nb::python_error();
    }
    hooks_ = hooks;
    step_now_ = nb::steal(PyCFunction_NewEx(&kStepNow, self_.ptr(), nullptr));
    skip_add_ = nb::steal(PyCFunction_NewEx(&kSkipAdd, self_.ptr(), nullptr));
    if (!self_.is_valid() || !step_now_.is_valid() || !skip_add_.is_valid()) throw nb::python_error();
  }
  EagerStart(const EagerStart&) = delete;
  EagerStart& operator=(const EagerStart&) = delete;
  ~EagerStart() {
    release();
    if (hooks_ != nullptr) hooks_->owner = nullptr;  // (a hook function kept by someone forwards from now on)
  }

  // For a batch of starts (a poll's requests): the hooks stay in place from the first start to
  // release(), armed by each start for its own constructor, and otherwise the loop's own call_soon
  // and the set's own add (what anything else calls meanwhile: a Task the app creates, a future's
  // callbacks). Two dict insertions and two deletions a batch instead of a request. Not held (and
  // a start hooks for itself) when the loop or the set has an attribute of that name already.
  bool held() const noexcept { return held_; }
  void hold() {
    if (held_ || hooks_->class_call_soon.is_none()) return;
    PyObject* loop_dict = loop_dict_.ptr();
    if (PyDict_GetItemWithError(loop_dict, g.s_call_soon) != nullptr || PyErr_Occurred()) {
      PyErr_Clear();
      return;
    }
    const bool with_add = all_dict_.is_valid() && !hooks_->class_add.is_none() &&
                          PyDict_GetItemWithError(all_dict_.ptr(), g.s_add) == nullptr && !PyErr_Occurred();
    PyErr_Clear();
    if (PyDict_SetItem(loop_dict, g.s_call_soon, step_now_.ptr()) < 0) {
      PyErr_Clear();
      return;
    }
    if (with_add && PyDict_SetItem(all_dict_.ptr(), g.s_add, skip_add_.ptr()) < 0) {
      PyErr_Clear();
      remove(loop_dict, g.s_call_soon);
      return;
    }
    held_ = true;
    holds_add_ = with_add;
  }
  void release() noexcept {
    if (!held_) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    remove(loop_dict_.ptr(), g.s_call_soon);
    if (holds_add_) remove(all_dict_.ptr(), g.s_add);
    held_ = holds_add_ = armed_ = add_armed_ = false;
    PyErr_Restore(type, value, tb);
  }

  // The Task, or None when it finished with a result in its first step (one that failed or was
  // cancelled there is given back done: its exception is the caller's to retrieve).
  nb::object start(nb::handle coro) {
    // A start outside a batch holds the hooks for itself. Not held (the loop has a call_soon of
    // its own, left alone), the Task is scheduled as usual.
    const bool own_hold = !held_;
    if (own_hold) hold();
    armed_ = held_;  // (the next call_soon is the constructor's)
    finished_ = -1;
    PyObject* task = nullptr;
    if (spare_.is_valid()) {
      task = spare_.release().ptr();
      PyObject* args = PyTuple_Pack(1, coro.ptr());
      PyObject* outer = std::exchange(starting_, task);  // (the step's Task, for step_now)
      if (!args || Py_TYPE(task)->tp_init(task, args, kwargs_.ptr()) < 0) Py_CLEAR(task);
      starting_ = outer;
      Py_XDECREF(args);
    } else {
      PyObject* args[3] = {coro.ptr(), loop_.ptr(), name_.ptr()};  // the keywords' values after coro
      task = PyObject_Vectorcall(task_type_.ptr(), args, 1, kwnames_.ptr());
    }
    // Still armed if the constructor failed before its call_soon (or, were the Task type not
    // asyncio's own, never called it).
    armed_ = add_armed_ = false;
    if (own_hold) release();  // (keeps the constructor's exception, if any)
    if (!task) throw nb::python_error();
    nb::object t = nb::steal(task);
    if (finished_ < 0) finished_ = succeeded(t.ptr());  // (the step did not run here)
    if (finished_ < 0) throw nb::python_error();
    if (!finished_) return t;
    keep(t);
    return nb::none();
  }

 private:
  // (absent, the usual case: looked up first, so that no KeyError is made)
  static void remove(PyObject* dict, PyObject* key) {
    if (PyDict_GetItemWithError(dict, key) == nullptr || PyDict_DelItem(dict, key) < 0) PyErr_Clear();
  }
  // Keeps a finished Task for the next start() when nothing else refers to it.
  void keep(nb::object& t) {
    PyObject* o = t.ptr();
    PyTypeObject* type = Py_TYPE(o);
    if (!reuse_ || spare_.is_valid() || Py_REFCNT(o) != 1 || type->tp_clear == nullptr) return;
    auto slot = [o](Py_ssize_t offset) { return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(o) + offset); };
    if (type->tp_weaklistoffset > 0 && slot(type->tp_weaklistoffset) != nullptr) return;
    if (type->tp_dictoffset > 0) {
      PyObject* attrs = slot(type->tp_dictoffset);
      if (attrs != nullptr && (!PyDict_Check(attrs) || PyDict_GET_SIZE(attrs) != 0)) return;
    }
    type->tp_clear(o);
    spare_ = std::move(t);
  }
  // 1 when `task` finished with a result; 0 when it is pending, failed or was cancelled (its
  // exception is then the caller's to retrieve); -1 with an exception set. Read from the
  // attributes asyncio's Tasks (C and Python) keep, cheaper than calling done() and exception().
  int succeeded(PyObject* task) const {
    const bool own = Py_TYPE(task) == reinterpret_cast<PyTypeObject*>(task_type_.ptr());
    PyObject* state = own && state_get_ ? state_get_->get(task, state_get_->closure) : PyObject_GetAttr(task, g.s_state);
    if (!state) return -1;
    // (asyncio's own "FINISHED" is not the interned one: the first equal string met is kept)
    const int finished = state == finished_state_ ||
                         (PyUnicode_Check(state) && PyUnicode_Compare(state, g.s_finished) == 0 && keep_finished(state));
    Py_DECREF(state);
    if (!finished) return 0;
    PyObject* exc = own && exception_get_ ? exception_get_->get(task, exception_get_->closure)
                                          : PyObject_GetAttr(task, g.s_exception);
    if (!exc) return -1;
    Py_DECREF(exc);
    return exc == Py_None ? 1 : 0;
  }
  bool keep_finished(PyObject* state) const {
    if (finished_state_ == nullptr && PyUnicode_CheckExact(state)) finished_state_ = Py_NewRef(state);  // (held for good)
    return true;
  }
  // The getter of `type`'s own attribute `name` when it is a C getset descriptor, else null.
  static PyGetSetDef* getset_of(nb::handle type, PyObject* name) {
    if (!PyType_Check(type.ptr())) return nullptr;
    PyObject* descr = PyDict_GetItemWithError(reinterpret_cast<PyTypeObject*>(type.ptr())->tp_dict, name);
    if (!descr) {
      PyErr_Clear();
      return nullptr;
    }
    if (Py_TYPE(descr) != &PyGetSetDescr_Type) return nullptr;
    PyGetSetDef* def = reinterpret_cast<PyGetSetDescrObject*>(descr)->d_getset;
    return def->get ? def : nullptr;
  }
  // What the hook functions reach through their capsule, which owns it (so it lives as long as
  // any of them): the EagerStart while it lives, null after, and what a hook called then forwards
  // to (a `loop.call_soon` read while the hooks were held, kept by the app, outliving the server).
  struct Hooks {
    EagerStart* owner;
    nb::object loop, class_call_soon, all, class_add;
    static void free(PyObject* capsule) { delete static_cast<Hooks*>(PyCapsule_GetPointer(capsule, nullptr)); }
  };
  static Hooks& hooks_of(PyObject* capsule) { return *static_cast<Hooks*>(PyCapsule_GetPointer(capsule, nullptr)); }

  // loop.call_soon(callback, *args, context=None) during the constructor: runs the step now.
  static PyObject* step_now(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    Hooks& hooks = hooks_of(self);
    EagerStart* es = hooks.owner;
    // Anyone else's call, or one through a `loop.call_soon` read while the hooks were held and
    // called since (past its EagerStart, even): the loop's own.
    if (es == nullptr || !es->held_ || !es->armed_) return forward_call_soon(hooks, args, nargs, kwnames);
    es->armed_ = false;
    if (nargs < 1) {
      PyErr_SetString(PyExc_TypeError, "call_soon() needs a callback");
      return nullptr;
    }
    PyObject* context = nullptr;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, i);
      if (is_context_key(key)) context = args[nargs + i];
    }
    if (context == Py_None) context = nullptr;
    if (context && PyContext_Enter(context) < 0) return nullptr;
    PyObject* r = PyObject_Vectorcall(args[0], args + 1, static_cast<std::size_t>(nargs - 1), nullptr);
    if (context && PyContext_Exit(context) < 0) {
      Py_XDECREF(r);
      return nullptr;
    }
    if (!r) return nullptr;
    Py_DECREF(r);
    // The step's Task: the kept one being initialized again, else the step's __self__.
    PyObject* task = es->starting_ ? Py_NewRef(es->starting_) : PyObject_GetAttr(args[0], g.s_self);
    es->finished_ = task ? es->succeeded(task) : -1;
    Py_XDECREF(task);
    if (es->finished_ < 0) {
      PyErr_Clear();  // not a Task's step: start() asks the Task, and it is added as usual
    } else if (es->finished_ && es->holds_add_) {
      es->add_armed_ = true;
    }
    Py_RETURN_NONE;
  }

  // A keyword named "context". asyncio's Task passes its own string, not the interned one: the
  // first one met is held, and known by its identity after (a compare costs about 100
  // instructions a request).
  static bool is_context_key(PyObject* key) {
    static PyObject* seen = nullptr;  // (held for good)
    if (key == g.s_context || key == seen) return true;
    if (!PyUnicode_Check(key) || PyUnicode_Compare(key, g.s_context) != 0) return false;
    if (seen == nullptr) seen = Py_NewRef(key);
    return true;
  }

  // The loop's own call_soon, for a call that is not the constructor's (held hooks).
  static PyObject* forward_call_soon(Hooks& hooks, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    if (hooks.class_call_soon.is_none()) {
      PyErr_SetString(PyExc_TypeError, "the loop's class has no call_soon");
      return nullptr;
    }
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    std::vector<PyObject*> all(static_cast<std::size_t>(1 + nargs + nkw));
    all[0] = hooks.loop.ptr();
    std::copy(args, args + nargs + nkw, all.begin() + 1);
    return PyObject_Vectorcall(hooks.class_call_soon.ptr(), all.data(), static_cast<std::size_t>(1 + nargs), kwnames);
  }

  // _all_tasks.add(task) right after a step that finished the task: adds nothing.
  static PyObject* skip_add(PyObject* self, PyObject* item) {
    Hooks& hooks = hooks_of(self);
    EagerStart* es = hooks.owner;
    // Anyone else's Task, or a call through an `add` read while the hooks were held: the set's own.
    if (es == nullptr || !es->held_ || !es->add_armed_) {
      PyObject* args[2] = {hooks.all.ptr(), item};
      return PyObject_Vectorcall(hooks.class_add.ptr(), args, 2, nullptr);
    }
    es->add_armed_ = false;
    Py_RETURN_NONE;
  }

  static inline PyMethodDef kStepNow = {"call_soon", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&step_now)),
                                        METH_FASTCALL | METH_KEYWORDS, nullptr};
  static inline PyMethodDef kSkipAdd = {"add", &skip_add, METH_O, nullptr};

  nb::object loop_, loop_dict_, task_type_, name_, kwnames_, all_dict_, self_, step_now_, skip_add_;
  Hooks* hooks_ = nullptr;  // owned by self_ (the capsule), which may outlive this
  bool held_ = false;       // hold(): the hooks stay in place
  bool holds_add_ = false;  // ... the set's add among them
  bool armed_ = false;      // held: the next call_soon is the constructor's (start())
  bool add_armed_ = false;  // held: the next add is of the Task whose step just finished
  nb::dict kwargs_;  // Task.__init__'s keywords (loop, name), for a kept Task
  nb::object spare_;  // a finished, cleared Task, or nothing
  PyObject* starting_ = nullptr;  // the kept Task while its constructor runs (borrowed)
  mutable PyObject* finished_state_ = nullptr;  // the Task's "FINISHED" state string, once met (held)
  PyGetSetDef* state_get_ = nullptr;      // the Task type's _state getter (getset_of)
  PyGetSetDef* exception_get_ = nullptr;  // and its _exception's
  bool reuse_ = false;
  int finished_ = -1;  // what the step of the Task being constructed left: a result (1) or not (0)
};

// item_reader(d, key): a callable of no arguments that returns d[key] (KeyError when it is
// missing), for a value kept in a dict that others read through a call (the asyncio loop's
// get_debug(), which every Task's constructor calls: fasterapi_server._drive).
PyObject* read_item(PyObject* held, PyObject*) {
  PyObject* value = PyDict_GetItemWithError(PyTuple_GET_ITEM(held, 0), PyTuple_GET_ITEM(held, 1));
  if (value == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, PyTuple_GET_ITEM(held, 1));
    return nullptr;
  }
  Py_INCREF(value);
  return value;
}
PyMethodDef kReadItem = {"read_item", &read_item, METH_NOARGS, nullptr};

nb::object item_reader(nb::dict d, nb::object key) {
  nb::object held = nb::steal(PyTuple_Pack(2, d.ptr(), key.ptr()));
  if (!held.is_valid()) throw nb::python_error();
  PyObject* f = PyCFunction_NewEx(&kReadItem, held.ptr(), nullptr);
  if (!f) throw nb::python_error();
  return nb::steal(f);
}

// ---- The native path's requests, started from poll() (fasterapi_server._native tells the path)
//
// A request the I/O thread routed to a route of the app's goes from poll() straight to its start,
// without a record in poll()'s list and Python's loop over them: the route's plan (asked of the
// app once a route a batch: it may change between batches), the framework's Request of the native
// path, the coroutine of the app's layers around the route's handler, and its Task, started
// eagerly. Python is called back for what is not the usual end (native.finish) and for the rest:
// a route the path does not take now (native.fallback), a failure of the dispatch itself
// (native.dispatch_failed), the access log. What each step does is NativeApp's (Python) to say;
// this is its loop, written out.
class NativeDispatch {
 public:
  NativeDispatch(nb::object native, nb::object request_type, nb::object serve, nb::object drive,
                 std::size_t routes, bool log_access)
      : native_(std::move(native)),
        request_type_(std::move(request_type)),
        serve_(std::move(serve)),
        drive_(std::move(drive)),
        plans_(routes),
        log_access_(log_access) {
    plan_for_ = native_.attr("plan_for");
    fallback_ = native_.attr("fallback");
    finish_ = native_.attr("finish");
    start_failed_ = native_.attr("start_failed");
    dispatch_failed_ = native_.attr("dispatch_failed");
    logged_ = native_.attr("logged");
    // req.answer is bound through the Request type's own descriptor, looked up once here (a
    // generic attribute read of each request's costs more).
    PyObject* answer = _PyType_Lookup(reinterpret_cast<PyTypeObject*>(nb::type<Request>().ptr()), g.s_answer);
    if (answer != nullptr && Py_TYPE(answer)->tp_descr_get != nullptr) answer_ = nb::borrow(answer);
    // Driver.drive of asyncio's loop on 3.11 is an EagerStart's start: called without Python's call.
    nb::object owner = nb::getattr(drive_, "__self__", nb::none());
    if (nb::isinstance<EagerStart>(owner)) {
      eager_owner_ = owner;
      eager_ = nb::inst_ptr<EagerStart>(owner);
    }
  }

  // Before a poll: the layers the app's requests go through in this batch, or None when the app
  // is not as it was registered (its requests then go to native.fallback).
  void new_batch(nb::object layers) {
    ++batch_;
    layers_ = std::move(layers);
  }
  // The requests dispatched since the last call.
  std::size_t take_served() noexcept { return std::exchange(served_, 0); }

  // One request. False when an exception must leave poll() (one that is not an Exception, from
  // the app's first step, or a failure of Python's callbacks themselves): it is kept for
  // raise_pending(), and poll() stops there.
  bool dispatch(nb::handle req, std::int32_t route) {
    ++served_;
    try {
      return start(req, route);
    } catch (nb::python_error& e) {
      if (!PyErr_GivenExceptionMatches(e.value().ptr(), PyExc_Exception)) {
        pending_ = nb::borrow(e.value());  // (SystemExit, KeyboardInterrupt: out of the poll, as ever)
        return false;
      }
      try {
        dispatch_failed_(req, e.value());  // a bug of the server's: logged, answered 500
        return true;
      } catch (nb::python_error& again) {
        pending_ = nb::borrow(again.value());
        return false;
      }
    }
  }

  // At the end of a poll: the eager Task's hooks, held since its first request, are let go.
  void release_hooks() noexcept {
    if (eager_ != nullptr) eager_->release();
  }

  // Raises what dispatch() kept, if anything.
  void raise_pending() {
    if (!pending_.is_valid()) return;
    nb::object exc = std::move(pending_);
    PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr()));
    Py_INCREF(type);
    PyObject* tb = PyException_GetTraceback(exc.ptr());  // (a new reference, or null)
    PyErr_Restore(type, exc.release().ptr(), tb);
    throw nb::python_error();
  }

  static int traverse(PyObject* self, visitproc visit, void* arg) {
    if (!nb::inst_ready(self)) return 0;
    NativeDispatch& d = *nb::inst_ptr<NativeDispatch>(self);
    for (nb::object* o : d.held()) Py_VISIT(o->ptr());
    for (auto& plan : d.plans_) Py_VISIT(plan.second.ptr());
    Py_VISIT(Py_TYPE(self));
    return 0;
  }
  static int clear(PyObject* self) {
    if (!nb::inst_ready(self)) return 0;
    NativeDispatch& d = *nb::inst_ptr<NativeDispatch>(self);
    d.eager_ = nullptr;
    for (nb::object* o : d.held()) *o = nb::object();
    for (auto& plan : d.plans_) plan.second = nb::object();
    return 0;
  }

 private:
  std::array<nb::object*, 14> held() {
    return {&native_, &request_type_, &serve_, &drive_, &plan_for_, &fallback_, &finish_, &start_failed_,
            &dispatch_failed_, &logged_, &eager_owner_, &layers_, &pending_, &answer_};
  }

  // False when it kept an exception that must leave poll(). A request the engine did not route
  // (route -1) goes to native.fallback here too: the requests of a poll start in the order they
  // came (pipelined ones among them).
  bool start(nb::handle req, std::int32_t route) {
    if (route < 0 || static_cast<std::size_t>(route) >= plans_.size() || !layers_.is_valid() || layers_.is_none()) {
      fallback_(req);
      return true;
    }
    auto& [batch, known] = plans_[static_cast<std::size_t>(route)];
    if (batch != batch_ || !known.is_valid()) {
      known = plan_for_(route);  // (plan, handler) or None
      batch = batch_;
      if (!known.is_none() && !(PyTuple_CheckExact(known.ptr()) && PyTuple_GET_SIZE(known.ptr()) == 2)) {
        known = nb::object();  // (asked again next time)
        throw nb::type_error("plan_for() gives (plan, handler) or None");
      }
    }
    if (known.is_none()) {
      fallback_(req);
      return true;
    }
    PyObject* index = PyLong_FromLong(route);
    if (!index) throw nb::python_error();
    PyObject* args[4] = {req.ptr(), native_.ptr(), index, layers_.ptr()};
    PyObject* made = PyObject_Vectorcall(request_type_.ptr(), args, 4, nullptr);
    Py_DECREF(index);
    if (!made) throw nb::python_error();
    nb::object request = nb::steal(made);
    if (nb::inst_ptr<Request>(req)->more_body()) request.attr("_need_cycle")();  // (its body's records go to the cycle)
    PyObject* respond = answer_.is_valid()
                            ? Py_TYPE(answer_.ptr())->tp_descr_get(answer_.ptr(), req.ptr(),
                                                                   reinterpret_cast<PyObject*>(Py_TYPE(req.ptr())))
                            : PyObject_GetAttr(req.ptr(), g.s_answer);
    if (!respond) throw nb::python_error();
    nb::object respond_ = nb::steal(respond);
    PyObject* call[5] = {layers_.ptr(), PyTuple_GET_ITEM(known.ptr(), 1), PyTuple_GET_ITEM(known.ptr(), 0),
                         request.ptr(), respond};
    PyObject* coro = PyObject_Vectorcall(serve_.ptr(), call, 5, nullptr);
    if (!coro) throw nb::python_error();
    nb::object coro_ = nb::steal(coro);
    nb::object task;
    try {
      if (eager_ != nullptr && !eager_->held()) eager_->hold();  // (until the poll ends: release_hooks)
      task = eager_ != nullptr ? eager_->start(coro_) : drive_(coro_);
    } catch (nb::python_error& e) {  // the call itself failed (the Task catches the rest)
      nb::object exc = nb::borrow(e.value());
      start_failed_(request, exc);  // the request's end, as its cycle makes it
      if (PyErr_GivenExceptionMatches(exc.ptr(), PyExc_Exception)) return true;
      pending_ = std::move(exc);  // (not an Exception: it leaves poll(), as it would leave the loop)
      return false;
    }
    if (task.is_none()) {
      const Request& r = *nb::inst_ptr<Request>(req);
      if (!r.cycled() && r.answered() != 0) {  // answered, nothing raised: the usual end
        if (log_access_) logged_(req, r.answered());
        return true;
      }
    }
    finish_(request, task);
    return true;
  }

  nb::object native_, request_type_, serve_, drive_;
  nb::object plan_for_, fallback_, finish_, start_failed_, dispatch_failed_, logged_;
  nb::object eager_owner_;  // drive_'s EagerStart, held
  nb::object answer_;       // Request.answer's descriptor (or nothing: req.answer read as usual)
  EagerStart* eager_ = nullptr;
  nb::object layers_;   // this batch's, or None
  nb::object pending_;  // an exception that must leave poll()
  std::vector<std::pair<std::uint64_t, nb::object>> plans_;  // per route: (batch, (plan, handler) or None)
  std::uint64_t batch_ = 0;
  std::size_t served_ = 0;
  bool log_access_ = false;
};

PyType_Slot request_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(&Request::traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(&Request::clear)},
    {0, nullptr},
};

PyType_Slot dispatch_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(&NativeDispatch::traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(&NativeDispatch::clear)},
    {0, nullptr},
};

class PyEngine {
 public:
  explicit PyEngine(fs::Config config) : engine_(std::make_shared<fs::Engine>(std::move(config))) {}
  ~PyEngine() { stop_executor(); }
  PyEngine(const PyEngine&) = delete;
  PyEngine& operator=(const PyEngine&) = delete;

  bool add_route(const std::vector<std::string>& methods, const std::string& pattern, std::int32_t id) {
    std::vector<std::string_view> views(methods.begin(), methods.end());
    if (views.empty()) views.push_back("*");
    return engine_->add_route(views, pattern, id).status == fr::AddStatus::added;
  }
  int bind() { return engine_->bind(); }
  void start() { engine_->start(); }
  void drain() { engine_->drain(); }
  void stop() {
    stop_executor();
    nb::gil_scoped_release unlocked;
    engine_->stop();
  }

  // Running calls finish, queued ones are dropped; the Futures of both complete here (a dropped
  // call's with RuntimeError), whether or not the loop polls again. Other records left on the ring
  // are dropped: the engine is stopping.
  void stop_executor() {
    if (!executor_) return;
    {
      nb::gil_scoped_release unlocked;  // a running call may be waiting for the GIL
      executor_->stop();
    }
    while (fs::Inbound* raw = engine_->inbound().pop()) run_call(raw);
    run_posted();
  }

  // Calls fn(*args) on a pool thread; its Future completes on the loop's thread (inside poll()).
  PyFuture submit(nb::handle fn, nb::args args) {
    if (!executor_) executor_ = std::make_unique<fs::Executor>(executor_threads_, [] { pool_thread_state.leave(); });
    auto state = std::make_shared<CallState>();
    auto* job = new Job;
    job->fn = fn.inc_ref().ptr();
    job->args = args.inc_ref().ptr();
    job->state = state;
    std::shared_ptr<fs::Engine> engine = engine_;
    executor_
        ->submit([job]() -> bool {
          pool_thread_state.keep();
          nb::gil_scoped_acquire gil;
          job->result = PyObject_Call(job->fn, job->args, nullptr);
          if (job->result == nullptr) {
            PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (value && tb) PyException_SetTraceback(value, tb);
            Py_XDECREF(type);
            Py_XDECREF(tb);
            job->error = value;
          }
          return true;
        })
        .then([job, engine](fs::Result<bool>&&) -> bool {
          // Run or dropped (the executor stopped first: no result, no error), the loop finishes it.
          auto* in = new fs::Inbound;
          in->kind = fs::Inbound::Kind::call;
          in->call = &complete_job;
          in->arg = job;
          engine->post(in);
          return true;
        });
    return PyFuture(std::move(state));
  }
  // The pool's bound, now or later (a running pool adjusts).
  void set_executor_threads(std::size_t n) {
    executor_threads_ = n ? n : 1;
    if (executor_) executor_->set_size(executor_threads_);
  }
  std::size_t executor_threads() const { return executor_ ? executor_->threads() : 0; }
  int fileno() const noexcept { return engine_->fileno(); }
  int io_fileno() const noexcept { return engine_->io_fileno(); }
  void flush() { engine_->end_batch(); }

  // The records the I/O threads handed over since the last poll. With a dispatch, the requests
  // are started here instead, in order (NativeDispatch): not in the list. An
  // exception the dispatch must let out ends the poll early (the records not taken stay on the
  // ring): raise_pending() raises it, after the list is handled.
  nb::list poll(NativeDispatch* dispatch) {
    struct Release {
      NativeDispatch* d;
      ~Release() {
        if (d != nullptr) d->release_hooks();
      }
    } release{dispatch};
    auto& ring = engine_->inbound();
    auto& waker = engine_->python_waker();
    waker.clear();
    engine_->run_io();  // inline: this thread's turn at the sockets first (else nothing)
    engine_->begin_batch();  // until flush(): the responses given meanwhile wake their threads once
    nb::list out;
    std::size_t taken = 0;
    while (true) {
      while (fs::Inbound* raw = ring.pop()) {
        std::unique_ptr<fs::Inbound> in(raw);
        ++taken;
        switch (in->kind) {
          case fs::Inbound::Kind::request: {
            const std::int32_t route = in->route;
            nb::object r = new_request(std::move(in));
            if (dispatch == nullptr) {
              out.append(r);
            } else if (!dispatch->dispatch(r, route)) {
              waker.signal();  // the rest, on the next poll
              return out;
            } else {
              keep_request(r);
            }
            break;
          }
          case fs::Inbound::Kind::body:
            out.append(nb::make_tuple(1, in->stream->id, to_bytes(in->view(in->body)), in->more_body));
            break;
          case fs::Inbound::Kind::disconnect:
            out.append(nb::make_tuple(2, in->stream->id, nb::none(), false));
            break;
          case fs::Inbound::Kind::drained:
            out.append(nb::make_tuple(3, in->stream->id, nb::none(), false));
            break;
          case fs::Inbound::Kind::call:
            if (in->call) in->call(in->arg);
            break;
        }
        if (taken >= kMaxBatch) {
          waker.signal();  // more to come: the loop calls again after its other callbacks
          return out;
        }
      }
      run_posted();
      waker.sleep_begin();
      // (both sources looked at after announcing sleep: a producer that found the ring full
      // signals only a sleeper)
      if (ring.empty() && !engine_->has_posted()) break;
      waker.sleep_cancel();
    }
    if (engine_->io_behind()) waker.signal();  // inline: records the ring could not take wait
    return out;
  }

  // A Python Request of `in`: the one kept by keep_request(), made anew in place, or a new one.
  nb::object new_request(std::unique_ptr<fs::Inbound> in) {
    if (!spare_request_.is_valid()) return nb::cast(Request(engine_, std::move(in)));
    nb::object r = std::move(spare_request_);
    new (nb::inst_ptr<Request>(r)) Request(engine_, std::move(in));
    nb::inst_mark_ready(r);
    return r;
  }
  // A dispatched Request that nothing refers to any more (its request finished in its first step)
  // is kept for the next one instead of being freed: its C++ part is destroyed now (the record
  // goes back to the engine), its Python object reused (about 800 instructions a request less).
  // Nobody can tell: no one holds it, and it takes no weak references or attributes.
  void keep_request(nb::object& r) {
    if (spare_request_.is_valid() || Py_REFCNT(r.ptr()) != 1) return;
    nb::inst_destruct(r);
    spare_request_ = std::move(r);
  }

  // The executor's completions that found the ring full (Engine::post): calls, in no set order.
  void run_posted() {
    for (fs::Inbound* raw : engine_->take_posted()) run_call(raw);
  }
  // Takes `raw`: an executor's completion is run, any other record dropped.
  static void run_call(fs::Inbound* raw) {
    std::unique_ptr<fs::Inbound> in(raw);
    if (in->kind == fs::Inbound::Kind::call && in->call) in->call(in->arg);
  }

  nb::dict stats() {
    auto& s = engine_->stats();
    nb::dict d;
    d["connections"] = s.connections.load();
    d["accepted"] = s.accepted.load();
    d["requests"] = s.requests.load();
    d["in_flight"] = s.in_flight.load();
    d["bad_requests"] = s.bad_requests.load();
    d["timeouts"] = s.timeouts.load();
    d["spare_records"] = engine_->spare_records();
    return d;
  }

  fs::Engine& engine() noexcept { return *engine_; }

 private:
  std::shared_ptr<fs::Engine> engine_;
  std::unique_ptr<fs::Executor> executor_;
  std::size_t executor_threads_ = 40;
  nb::object spare_request_;  // keep_request()'s, its C++ part destroyed
};

nb::dict Request::path_params() const {
  nb::dict d;
  if (in_->route < 0) return d;
  const fr::Route& r = engine_->router().route(in_->tree_route);
  for (std::size_t i = 0; i < in_->params.size() && i < r.param_names.size(); ++i) {
    d[nb::str(r.param_names[i].c_str())] = convert_param(in_->view(in_->params[i]), r.param_converters[i]);
  }
  return d;
}

// The ASGI http scope in one call: `base` (the keys every request of the server shares: type,
// asgi, server, scheme (TLS is the server's, not the connection's), root_path) copied, the
// request's own keys set, `state` copied, and the pathsend extension; with `path_params`, the
// engine's route's parameters too. With a root_path, path and raw_path start with it. `base` may
// hold these keys already (None, as the server's bases do): they are replaced, and the copy, made
// at its final size, does not grow.
nb::dict Request::scope(nb::dict base, nb::dict state, nb::str root_path, bool with_params) const {
  PyObject* d = PyDict_Copy(base.ptr());
  if (!d) throw nb::python_error();
  nb::dict out = nb::steal<nb::dict>(d);
  auto set = [d](PyObject* key, PyObject* value) {  // steals value
    if (!value) throw nb::python_error();
    const int rc = PyDict_SetItem(d, key, value);
    Py_DECREF(value);
    if (rc < 0) throw nb::python_error();
  };
  const auto target = in_->view(in_->target);
  const auto raw = raw_path_of(target);
  set(g.k_http_version, http_version().release().ptr());
  const Forwarded forwarded_by = forwarded();
  set(g.k_client, client_pair(forwarded_by));
  if (!forwarded_by.scheme.empty()) set(g.k_scheme, Py_NewRef(forwarded_by.scheme == "https" ? g.v_https : g.v_http));
  set(g.k_method, method().release().ptr());
  if (PyUnicode_GET_LENGTH(root_path.ptr()) == 0) {
    set(g.k_path, decode_path(raw).release().ptr());
    set(g.k_raw_path, bytes_of(raw));
  } else {
    Py_ssize_t n = 0;
    const char* root = PyUnicode_AsUTF8AndSize(root_path.ptr(), &n);
    if (!root) throw nb::python_error();
    set(g.k_path, PyUnicode_Concat(root_path.ptr(), decode_path(raw).ptr()));
    std::string joined(root, static_cast<std::size_t>(n));
    joined.append(raw);
    set(g.k_raw_path, bytes_of(joined));
  }
  set(g.k_query_string, bytes_of(query_of(target)));
  set(g.k_headers, headers().release().ptr());
  set(g.k_state, PyDict_Copy(state.ptr()));
  PyObject* extensions = PyDict_New();
  if (!extensions) throw nb::python_error();
  set(g.k_extensions, extensions);
  if (PyDict_SetItem(extensions, g.k_pathsend, nb::dict().ptr()) < 0) throw nb::python_error();
  if (with_params) set(g.k_path_params, path_params().release().ptr());
  return out;
}

// One (name, value) header of the app's into `o`'s field lines, checked.
// What a field line the app gave tells the engine about the response, once checked.
struct FieldNote {
  bool date = false;
  bool server = false;
  bool close = false;     // Connection: close
  bool encoding = false;  // Transfer-Encoding
  bool length = false;    // Content-Length: ...
  std::uint64_t declared = 0;  // ... this one
};

// Checks one field of the app's (a name and a value) and says what it tells.
FieldNote note_field(std::string_view n, std::string_view v) {
  // Nothing from the app may end a field line or start another message (RFC 9112 2.2, 5).
  if (!fh::detail::is_token(n)) throw nb::value_error(("invalid header name " + std::string(n)).c_str());
  if (!fh::detail::is_field_value(v)) throw nb::value_error(("invalid value for header " + std::string(n)).c_str());
  FieldNote f;
  switch (n.size()) {
    case 4:
      f.date = fs::detail::iequals(n, "date");
      break;
    case 6:
      f.server = fs::detail::iequals(n, "server");
      break;
    case 10:
      if (fs::detail::iequals(n, "connection")) {
        for (std::size_t k = 0; k + 5 <= v.size(); ++k) {
          if (fs::detail::iequals(v.substr(k, 5), "close")) f.close = true;
        }
      }
      break;
    case 14:
      if (fs::detail::iequals(n, "content-length")) {
        // RFC 9110 8.6: one decimal number.
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), f.declared);
        if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
          throw nb::value_error(("invalid Content-Length " + std::string(v)).c_str());
        }
        f.length = true;
      }
      break;
    case 17:
      f.encoding = fs::detail::iequals(n, "transfer-encoding");
      break;
    default:
      break;
  }
  return f;
}

// What a checked field tells, noted on the response (its line is appended after).
void apply_note(fs::Outbound& o, const FieldNote& f) {
  if (f.length) {
    // A second Content-Length that differs is as wrong as a bad one.
    if (o.has_length && f.declared != o.declared_length) {
      throw nb::value_error(("invalid Content-Length " + std::to_string(f.declared)).c_str());
    }
    o.has_length = true;
    o.declared_length = f.declared;
  }
  o.has_date = o.has_date || f.date;
  o.has_server = o.has_server || f.server;
  o.close = o.close || f.close;
  o.has_encoding = o.has_encoding || f.encoding;
}

// "name: value\r\n"
void append_field_line(std::string& out, std::string_view n, std::string_view v) {
  out.append(n);
  out.append(": ");
  out.append(v);
  out.append("\r\n");
}

void add_field(fs::Outbound& o, PyObject* name_obj, PyObject* value_obj) {
  Bytes name(name_obj);
  Bytes value(value_obj);
  const auto n = name.view();
  const auto v = value.view();
  apply_note(o, note_field(n, v));
  append_field_line(o.fields, n, v);
}

// The header pairs the app gives again and again, checked once: the framework's responses share
// theirs (kept tuples, the same objects for every response of a kind), so a pair is known by its
// address. Only a tuple of two bytes objects is kept (it cannot change), and it is held, so that
// its address stays its own. Two ways a set, the set chosen by a hash of the address (the
// allocator puts objects of a size at strides of a power of two: the address bits alone put two
// pairs of one response in one slot, where each pushed the other out every time); a pair takes
// the place of the one of its set used less recently. With the GIL only. (Two headers checked
// each time: about 1,300 instructions a response; known: about 150.)
struct CheckedPairs {
  static constexpr std::size_t kSets = 64;
  struct Entry {
    PyObject* pair = nullptr;  // owned
    FieldNote note;
    std::string line;
  };
  Entry entries[kSets][2];
  std::uint8_t older[kSets] = {};  // per set: the way to replace next

  static std::size_t set_of(PyObject* pair) noexcept {
    // Fibonacci hashing: the top bits of the address times 2^64 / phi.
    return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(pair) * 0x9E3779B97F4A7C15ull) >> 58);
  }

  // The entry of a pair of two bytes objects, checked now if it was not known (an invalid one
  // raises and is not kept).
  const Entry& get(PyObject* pair) {
    static_assert(kSets == 64, "set_of gives 6 bits");
    const std::size_t s = set_of(pair);
    Entry* ways = entries[s];
    for (std::uint8_t w = 0; w < 2; ++w) {
      if (ways[w].pair == pair) {
        older[s] = static_cast<std::uint8_t>(w ^ 1);
        return ways[w];
      }
    }
    const std::uint8_t w = older[s];
    Entry& e = ways[w];
    PyObject* name = PyTuple_GET_ITEM(pair, 0);
    PyObject* value = PyTuple_GET_ITEM(pair, 1);
    const std::string_view n{PyBytes_AS_STRING(name), static_cast<std::size_t>(PyBytes_GET_SIZE(name))};
    const std::string_view v{PyBytes_AS_STRING(value), static_cast<std::size_t>(PyBytes_GET_SIZE(value))};
    const FieldNote f = note_field(n, v);  // (may raise: the entry is left as it was)
    Py_INCREF(pair);
    Py_XSETREF(e.pair, pair);
    e.note = f;
    e.line.clear();
    append_field_line(e.line, n, v);
    older[s] = static_cast<std::uint8_t>(w ^ 1);
    return e;
  }
};
CheckedPairs checked_pairs;

// A header as the app gave it: a pair (tuple or list) of two.
void add_header(fs::Outbound& o, PyObject* item) {
  if (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 2) {
    if (PyBytes_CheckExact(PyTuple_GET_ITEM(item, 0)) && PyBytes_CheckExact(PyTuple_GET_ITEM(item, 1))) {
      const CheckedPairs::Entry& e = checked_pairs.get(item);
      apply_note(o, e.note);
      o.fields.append(e.line);
      return;
    }
    add_field(o, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
    return;
  }
  if (!PyTuple_Check(item) && !PyList_Check(item)) throw nb::type_error("a header is a (name, value) pair");
  if (PySequence_Size(item) != 2) throw nb::type_error("a header is a (name, value) pair");
  nb::object name = nb::steal(PySequence_GetItem(item, 0));
  nb::object value = nb::steal(PySequence_GetItem(item, 1));
  if (!name.is_valid() || !value.is_valid()) throw nb::python_error();
  add_field(o, name.ptr(), value.ptr());
}

void Request::fill_head(fs::Outbound& o, int status, nb::handle headers) const {
  if (status < 100 || status > 999) throw nb::value_error("the status must be a three-digit number");
  o.status = status;
  o.fields.reserve(256);  // (most heads' fields fit: one allocation instead of a few)
  PyObject* h = headers.ptr();
  if (PyList_CheckExact(h) || PyTuple_CheckExact(h)) {
    // A list or tuple (what the framework gives), read by index, each item held while read.
    const bool list = PyList_CheckExact(h);
    for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(h) : PyTuple_GET_SIZE(h)); ++i) {
      nb::object item = nb::borrow(list ? PyList_GET_ITEM(h, i) : PyTuple_GET_ITEM(h, i));
      add_header(o, item.ptr());
    }
    return;
  }
  nb::object iter = nb::steal(PyObject_GetIter(h));
  if (!iter.is_valid()) throw nb::python_error();
  while (PyObject* item = PyIter_Next(iter.ptr())) {
    nb::object pair = nb::steal(item);
    add_header(o, item);
  }
  if (PyErr_Occurred()) throw nb::python_error();
}

void Request::submit(std::unique_ptr<fs::Outbound> o) {
  if (in_->stream->closed.load(std::memory_order_relaxed)) return;  // nobody to send it to
  engine_->submit(o.release());
}

// Inline engines (threads=0): the command of a whole response, kept by the Python thread and used
// again (its field lines keep their buffer), the body lent from the app's bytes for the length of
// the command, which runs at once (Engine::submit_now): neither an allocation nor a copy before
// the response's own bytes are written. With the GIL only.
struct KeptOutbound {
  fs::Outbound o;
  bool busy = false;  // (a header iterator of the app's that answers another request meanwhile)

  // As new, the field lines' buffer kept (unless an exceptional head grew it: let it go).
  void release() noexcept {
    o.reset();
    if (o.fields.capacity() > 65536) std::string().swap(o.fields);
    busy = false;
  }
};
KeptOutbound kept_outbound;

void Request::respond(int status, nb::handle headers, nb::handle body) {
  if (started_) throw nb::value_error("the response has already started");
  // Inline, the kept command with the body lent; else one of its own, with a copy of the body.
  const bool kept = engine_->inline_io() && !kept_outbound.busy;
  std::unique_ptr<fs::Outbound> own;
  if (kept) {
    kept_outbound.busy = true;
  } else {
    own = outbound(fs::Outbound::Kind::response);
  }
  struct Release {
    bool kept;
    ~Release() {
      if (kept) kept_outbound.release();
    }
  } release{kept};
  fs::Outbound& o = kept ? kept_outbound.o : *own;
  o.kind = fs::Outbound::Kind::response;
  o.stream = in_->stream;
  fill_head(o, status, headers);
  Bytes b(body);
  check_length(o, b.view().size());
  if (kept) {
    o.lent = b.view();
  } else {
    o.body.assign(b.view());
  }
  started_ = ended_ = true;
  answered_ = status;
  if (kept) {
    if (!in_->stream->closed.load(std::memory_order_relaxed)) engine_->submit_now(o);
  } else {
    submit(std::move(own));
  }
}

// A Content-Length that is not the body's size would desynchronize the connection (the client
// reads a wrong number of bytes as this response). HEAD answers and bodiless statuses keep the
// length a GET would have had.
void Request::check_length(const fs::Outbound& o, std::uint64_t size) const {
  if (o.has_length && !in_->stream->head_method && !fs::detail::body_forbidden(o.status) &&
      o.declared_length != size) {
    throw nb::value_error(("Content-Length is " + std::to_string(o.declared_length) + " but the body has " +
                           std::to_string(size) + " bytes")
                              .c_str());
  }
}

void Request::start(int status, nb::handle headers, std::optional<std::uint64_t> size) {
  if (started_) throw nb::value_error("the response has already started");
  auto o = outbound(fs::Outbound::Kind::start);
  fill_head(*o, status, headers);
  if (size) check_length(*o, *size);  // the whole body's size known now (a file): refused before the head
  // A streamed body with a Content-Length is counted against it: more bytes, or an end before
  // them all, is the app's error (as h11 makes it under uvicorn), not a desynchronized connection.
  limited_ = o->has_length && !in_->stream->head_method && !fs::detail::body_forbidden(status);
  left_ = o->declared_length;
  started_ = true;
  submit(std::move(o));
}

void Request::count_body(std::uint64_t n) {
  if (!limited_) return;
  if (n > left_) {
    throw nb::value_error(("the response body is longer than its Content-Length: " + std::to_string(n) +
                           " bytes more with " + std::to_string(left_) + " left")
                              .c_str());
  }
  left_ -= n;
}

bool Request::send(nb::handle chunk) {
  if (!started_) throw nb::value_error("the response has not started");
  if (ended_) throw nb::value_error("the response has ended");
  Bytes b(chunk);
  if (b.view().empty()) return false;
  count_body(b.view().size());
  auto& s = *in_->stream;
  auto o = outbound(fs::Outbound::Kind::chunk);
  o->body.assign(b.view());
  o->accounted = static_cast<std::int64_t>(o->body.size());
  const auto pending = s.out_pending.fetch_add(o->accounted) + o->accounted;
  submit(std::move(o));
  if (static_cast<std::size_t>(pending) <= engine_->config().limits.write_high_water) return false;
  // Over the mark: the app waits for a drained record. Set the flag, then look again, in case
  // the I/O thread wrote it all in between.
  s.out_waiting.store(true);
  if (static_cast<std::size_t>(s.out_pending.load()) <= engine_->config().limits.write_low_water) {
    return !s.out_waiting.exchange(false) ? true : false;
  }
  return !s.closed.load();
}

void Request::send_file(int fd) {
  // Owns `fd` from here on, whatever happens: the I/O thread sends what this measured, from the
  // same open file (a path opened twice could name two different files).
  auto file = std::make_shared<fs::FileRange>(fd, 0);
  if (!started_) throw nb::value_error("the response has not started");
  if (ended_) throw nb::value_error("the response has ended");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    PyErr_SetFromErrno(PyExc_OSError);
    throw nb::python_error();
  }
  if (!S_ISREG(st.st_mode)) throw nb::value_error("send_file: not a regular file");
  file->left = static_cast<std::size_t>(st.st_size);
  if (limited_) count_body(file->left);
  auto o = outbound(fs::Outbound::Kind::file);
  o->file = std::move(file);
  submit(std::move(o));
}

void Request::end() {
  if (!started_) throw nb::value_error("the response has not started");
  if (ended_) return;
  if (limited_ && left_ != 0) {
    throw nb::value_error(
        ("the response body ended " + std::to_string(left_) + " bytes short of its Content-Length").c_str());
  }
  ended_ = true;
  submit(outbound(fs::Outbound::Kind::end));
}

void Request::consumed(std::int64_t n) {
  auto& s = *in_->stream;
  s.in_unread.fetch_sub(n);
  if (s.in_paused.load() &&
      static_cast<std::size_t>(s.in_unread.load()) <= engine_->config().limits.body_high_water / 2) {
    if (s.in_paused.exchange(false)) engine_->submit(outbound(fs::Outbound::Kind::resume).release());
  }
}

void Request::abort() {
  ended_ = started_ = true;
  if (!in_->stream->closed.load()) engine_->submit(outbound(fs::Outbound::Kind::abort).release());
}

}  // namespace

NB_MODULE(_engine, m) {
  m.doc() = "The native engine of fasterapi-server (see fasterapi_server for the API).";
  // The backlog the engine listens with (a socket made elsewhere listens with it too: _listen).
  m.attr("BACKLOG") = fs::Config{}.backlog;
  g.uuid = nb::module_::import_("uuid").attr("UUID").inc_ref();
  nb::module_ asyncio = nb::module_::import_("asyncio");
  g.get_running_loop = asyncio.attr("get_running_loop").inc_ref();
  g.invalid_state = asyncio.attr("InvalidStateError").inc_ref().ptr();
  g.s_set_result = PyUnicode_InternFromString("set_result");
  g.s_set_exception = PyUnicode_InternFromString("set_exception");
  for (auto [slot, text] : {std::pair{&g.k_http_version, "http_version"}, {&g.k_client, "client"},
                            {&g.k_method, "method"}, {&g.k_path, "path"},
                            {&g.k_raw_path, "raw_path"}, {&g.k_query_string, "query_string"},
                            {&g.k_headers, "headers"}, {&g.k_state, "state"}, {&g.k_extensions, "extensions"},
                            {&g.k_pathsend, "http.response.pathsend"}, {&g.k_path_params, "path_params"},
                            {&g.k_scheme, "scheme"}, {&g.v_http, "http"}, {&g.v_https, "https"},
                            {&g.v_http10, "1.0"}, {&g.v_http11, "1.1"}, {&g.s_call_soon, "call_soon"},
                            {&g.s_add, "add"}, {&g.s_loop, "loop"}, {&g.s_name, "name"},
                            {&g.s_context, "context"}, {&g.s_self, "__self__"}, {&g.s_state, "_state"},
                            {&g.s_exception, "_exception"}, {&g.s_finished, "FINISHED"},
                            {&g.s_answer, "answer"}, {&g.s_respond, "respond"},
                            {&g.m_get, "GET"}, {&g.m_head, "HEAD"}, {&g.m_post, "POST"}, {&g.m_put, "PUT"},
                            {&g.m_delete, "DELETE"}, {&g.m_connect, "CONNECT"}, {&g.m_options, "OPTIONS"},
                            {&g.m_trace, "TRACE"}, {&g.m_patch, "PATCH"}}) {
    *slot = PyUnicode_InternFromString(text);  // kept for the life of the process
  }

  nb::class_<Request>(m, "Request", nb::type_slots(request_slots))
      .def_prop_ro("method", &Request::method)
      .def_prop_ro("target", &Request::target)
      .def_prop_ro("raw_path", &Request::raw_path)
      .def_prop_ro("path", &Request::path)
      .def_prop_ro("query_string", &Request::query_string)
      .def_prop_ro("headers", &Request::headers)
      .def_prop_ro("body", &Request::body)
      .def("header", &Request::header, nb::arg("name"))
      .def_prop_ro("more_body", &Request::more_body)
      .def_prop_ro("keep_alive", &Request::keep_alive)
      .def_prop_ro("http_version", &Request::http_version)
      .def_prop_ro("client", &Request::client)
      .def_prop_ro("route", &Request::route)
      .def_prop_ro("tls", &Request::tls)
      .def_prop_ro("path_params", &Request::path_params)
      .def("scope", &Request::scope, nb::arg("base"), nb::arg("state"), nb::arg("root_path"),
           nb::arg("path_params") = false)
      .def_prop_ro("stream_id", &Request::stream_id)
      .def_prop_ro("answered", &Request::answered)
      .def_prop_ro("cycled", &Request::cycled)
      .def_prop_rw("cycle", &Request::cycle, &Request::set_cycle, nb::arg("cycle").none())
      .def_prop_ro("closed", &Request::closed)
      .def("respond", &Request::respond, nb::arg("status"), nb::arg("headers"), nb::arg("body"))
      .def("answer", &Request::answer, nb::arg("status"), nb::arg("headers"), nb::arg("body"))
      .def("start", &Request::start, nb::arg("status"), nb::arg("headers"), nb::arg("size") = nb::none())
      .def("send", &Request::send, nb::arg("chunk"))
      .def("send_file", &Request::send_file, nb::arg("fd"))
      .def("end", &Request::end)
      .def("consumed", &Request::consumed, nb::arg("n"))
      .def("abort", &Request::abort);

  nb::class_<PyFuture>(m, "Future", nb::type_slots(future_slots))
      .def("done", &PyFuture::done)
      .def("result", &PyFuture::result)
      .def("__await__", &PyFuture::await_);

  m.def("item_reader", &item_reader, nb::arg("d"), nb::arg("key"));

  nb::class_<EagerStart>(m, "EagerStart")
      .def(nb::init<nb::handle, nb::handle, nb::str>(), nb::arg("loop"), nb::arg("task_type"), nb::arg("name"))
      .def("start", &EagerStart::start, nb::arg("coro"))
      .def("hold", &EagerStart::hold)
      .def("release", &EagerStart::release)
      .def_prop_ro("held", &EagerStart::held);

  nb::class_<NativeDispatch>(m, "NativeDispatch", nb::type_slots(dispatch_slots))
      .def(nb::init<nb::object, nb::object, nb::object, nb::object, std::size_t, bool>(), nb::arg("native"),
           nb::arg("request_type"), nb::arg("serve"), nb::arg("drive"), nb::arg("routes"), nb::arg("log_access"))
      .def("new_batch", &NativeDispatch::new_batch, nb::arg("layers").none())
      .def("take_served", &NativeDispatch::take_served)
      .def("raise_pending", &NativeDispatch::raise_pending);

  nb::class_<PyEngine>(m, "Engine")
      .def(
          "__init__",
          [](PyEngine* self, const std::string& host, int port, int threads, const std::string& server_header,
             std::uint64_t max_body, std::size_t max_connections, std::size_t max_pipelined,
             std::size_t max_request_line, std::size_t max_header_bytes, std::size_t max_headers,
             double header_timeout, double keep_alive_timeout, double body_timeout, double write_timeout,
             bool reuse_port, const std::string& ssl_certfile, const std::string& ssl_keyfile,
             const std::vector<std::string>& forwarded_allow, std::size_t inbound_capacity,
             std::size_t command_capacity, int fd) {
            fs::Config c;
            c.host = host;
            c.port = port;
            c.threads = threads;
            c.server_header = server_header;
            c.limits.max_body = max_body;
            c.limits.max_connections = max_connections;
            c.limits.max_pipelined = max_pipelined;
            c.limits.max_request_line = max_request_line;
            c.limits.max_header_line = max_header_bytes;
            c.limits.max_header_bytes = max_header_bytes;
            c.limits.max_headers = max_headers;
            c.timeouts.header = header_timeout;
            c.timeouts.keep_alive = keep_alive_timeout;
            c.timeouts.body = body_timeout;
            c.timeouts.write = write_timeout;
            c.reuse_port = reuse_port;
            c.ssl_certfile = ssl_certfile;
            c.ssl_keyfile = ssl_keyfile;
            c.forwarded_allow = forwarded_allow;
            c.inbound_capacity = inbound_capacity;
            c.command_capacity = command_capacity;
            c.fd = fd;
            new (self) PyEngine(std::move(c));
          },
          nb::arg("host") = "127.0.0.1", nb::arg("port") = 8000, nb::arg("threads") = 1,
          nb::arg("server_header") = "fasterapi", nb::arg("max_body") = 1ull << 30,
          nb::arg("max_connections") = 10000, nb::arg("max_pipelined") = 32, nb::arg("max_request_line") = 8190,
          nb::arg("max_header_bytes") = 65536, nb::arg("max_headers") = 100, nb::arg("header_timeout") = 10.0,
          nb::arg("keep_alive_timeout") = 5.0, nb::arg("body_timeout") = 30.0, nb::arg("write_timeout") = 60.0,
          nb::arg("reuse_port") = false, nb::arg("ssl_certfile") = "", nb::arg("ssl_keyfile") = "",
          nb::arg("forwarded_allow") = std::vector<std::string>{}, nb::arg("inbound_capacity") = 1u << 16, nb::arg("command_capacity") = 1u << 14,
          nb::arg("fd") = -1)
      .def("add_route", &PyEngine::add_route, nb::arg("methods"), nb::arg("pattern"), nb::arg("id"))
      .def("bind", &PyEngine::bind)
      .def("start", &PyEngine::start)
      .def("drain", &PyEngine::drain)
      .def("stop", &PyEngine::stop)
      .def("fileno", &PyEngine::fileno)
      .def("io_fileno", &PyEngine::io_fileno)
      .def("poll", &PyEngine::poll, nb::arg("dispatch") = nb::none())
      .def("flush", &PyEngine::flush)
      .def("submit", &PyEngine::submit, nb::arg("fn"), nb::arg("args"),
           nb::sig("def submit(self, fn: typing.Callable[..., typing.Any], /, *args: typing.Any) -> Future"))
      .def("set_executor_threads", &PyEngine::set_executor_threads, nb::arg("n"))
      .def("executor_threads", &PyEngine::executor_threads)
      .def("stats", &PyEngine::stats);
}
