// Python binding of fasterapi::router: type conversion only, the routing logic is in the headers.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/typing.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "fasterapi/router/router.hpp"

namespace nb = nanobind;
namespace fr = fasterapi::router;

// Bound types live in a namespace of this package's own: nanobind shares one type registry
// between all extensions built with the same ABI, and C++ names must not collide there.
namespace fasterapi_router_binding {
namespace {

// Exception classes from fasterapi_router._errors and uuid.UUID, held for the life of the process.
struct Globals {
  nb::handle pattern_error, conflict_error, frozen_error, uuid;
  nb::handle match_type, miss_type, route_type;
};
Globals g;

std::string_view utf8_of(nb::handle s, const char* what) {
  if (!PyUnicode_Check(s.ptr())) {
    throw nb::type_error((std::string(what) + " must be str, not " + nb::inst_name(s).c_str()).c_str());
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
  if (!data) throw nb::python_error();  // e.g. a lone surrogate: UnicodeEncodeError
  return {data, static_cast<std::size_t>(size)};
}

// A request path: str (encoded as UTF-8) or bytes (taken as they are).
std::string_view path_of(nb::handle p) {
  if (PyBytes_Check(p.ptr())) {
    return {PyBytes_AS_STRING(p.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(p.ptr()))};
  }
  if (!PyUnicode_Check(p.ptr())) {
    throw nb::type_error((std::string("path must be str or bytes, not ") + nb::inst_name(p).c_str()).c_str());
  }
  return utf8_of(p, "path");
}

// `s` is valid UTF-8 (the core checks what it captures); `ascii` when it is known to be ASCII.
PyObject* new_str(std::string_view s, bool ascii) {
  if (!ascii) return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
  PyObject* out = PyUnicode_New(static_cast<Py_ssize_t>(s.size()), 127);
  if (out) std::memcpy(PyUnicode_DATA(out), s.data(), s.size());
  return out;
}

// How many code points the first `bytes` bytes of UTF-8 text `s` hold (an offset for Python).
std::size_t code_points(std::string_view s, std::size_t bytes) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < bytes && i < s.size(); ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

nb::str to_str(std::string_view s, bool ascii = false) {
  PyObject* out = new_str(s, ascii);
  if (!out) throw nb::python_error();
  return nb::steal<nb::str>(out);
}

// A new instance of a bound class, without looking its type up in nanobind's registry.
template <class T>
nb::object new_instance(nb::handle type, T&& value) {
  nb::object o = nb::inst_alloc(type);
  new (nb::inst_ptr<std::decay_t<T>>(o)) std::decay_t<T>(std::forward<T>(value));
  nb::inst_mark_ready(o);
  return o;
}

nb::object convert(const fr::Capture& c, bool ascii) {
  PyObject* out = nullptr;
  switch (c.converter) {
    case fr::Converter::str:
    case fr::Converter::path:
      out = new_str(c.value, ascii);
      break;
    case fr::Converter::int_:
      if (c.value.size() <= 18) {
        long long v = 0;
        for (const char d : c.value) v = v * 10 + (d - '0');
        out = PyLong_FromLongLong(v);
      } else {
        const std::string digits(c.value);
        out = PyLong_FromString(digits.c_str(), nullptr, 10);
      }
      break;
    case fr::Converter::float_: {
      const std::string digits(c.value);
      const double v = PyOS_string_to_double(digits.c_str(), nullptr, nullptr);  // overflow gives inf, as float() does
      if (v == -1.0 && PyErr_Occurred()) break;
      out = PyFloat_FromDouble(v);
      break;
    }
    case fr::Converter::uuid:
      return g.uuid(to_str(c.value, true));
  }
  if (!out) throw nb::python_error();
  return nb::steal(out);
}

// The scratch space of the lookups. Lookups run with the GIL held, but converting a param may
// run Python code (a finalizer during an allocation, uuid.UUID) that lets another thread in, or
// re-enters the router; a lookup that finds the shared scratch busy uses one of its own.
class ScratchLease {
 public:
  ScratchLease() : match_(busy_ ? own_.emplace() : shared_), leased_(!busy_) { busy_ = true; }
  ~ScratchLease() {
    if (leased_) busy_ = false;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  fr::Match& operator*() noexcept { return match_; }

 private:
  static inline fr::Match shared_;
  static inline bool busy_ = false;
  std::optional<fr::Match> own_;
  fr::Match& match_;
  bool leased_;
};

struct Route {
  nb::str method;
  nb::str path;
  nb::object value;
  bool mount;
};

struct Match {
  nb::object value;
  nb::dict params;
  nb::str route;
  nb::str method;
  nb::object tail;  // str for a mount, else None
};

struct Miss {
  int status_code;
  nb::frozenset allowed_methods;
  nb::object redirect_path;  // str or None
};

class Router {
 public:
  explicit Router(std::string_view on_conflict) : core_(options(on_conflict)) {}

  void add(nb::handle methods, nb::handle path, nb::object value) {
    std::vector<std::string_view> list;
    nb::list held;  // keeps the method strings (and so their UTF-8 buffers) alive
    if (PyUnicode_Check(methods.ptr())) {
      list.push_back(utf8_of(methods, "method"));
    } else if (PyBytes_Check(methods.ptr()) || !PyObject_HasAttrString(methods.ptr(), "__iter__")) {
      throw nb::type_error("method must be str or an iterable of str");
    } else {
      for (nb::handle m : methods) held.append(m);
      for (nb::handle m : held) list.push_back(utf8_of(m, "method"));
    }
    const std::size_t before = core_.routes().size();
    const fr::AddResult res = core_.add(std::span<const std::string_view>(list), utf8_of(path, "path"));
    check(res, value);
    record_new(before, value);
  }

  void mount(nb::handle prefix, nb::object value) {
    const std::size_t before = core_.routes().size();
    check(core_.mount(utf8_of(prefix, "prefix")), value);
    record_new(before, value);
  }

  void include(nb::handle prefix, const Router& other) {
    std::vector<fr::RouteId> added;
    const fr::AddResult res = core_.include(utf8_of(prefix, "prefix"), other.core_, &added);
    if (!res.ok()) check(res, added.size() < other.values_.size() ? other.values_[added.size()] : nb::none());
    for (std::size_t i = 0; i < added.size(); ++i) {
      if (added[i] != fr::kNoRoute) record(other.values_[i]);
    }
  }

  nb::object match(nb::handle method, nb::handle path) const {
    ScratchLease lease;
    fr::Match& m = *lease;
    if (core_.match(utf8_of(method, "method"), path_of(path), m) != fr::Outcome::found) return nb::none();
    return make_match(m);
  }

  nb::object lookup(nb::handle method, nb::handle path) const {
    ScratchLease lease;
    fr::Match& m = *lease;
    const std::string_view p = path_of(path);
    switch (core_.match(utf8_of(method, "method"), p, m)) {
      case fr::Outcome::found:
        return make_match(m);
      case fr::Outcome::method_not_allowed:
        return new_instance(g.miss_type, Miss{405, allowed(p, m), nb::none()});
      case fr::Outcome::not_found:
        break;
    }
    // A bytes path may hold bytes that are not UTF-8: no redirect can be named as a str then.
    const auto redirect = core_.redirect_slash(p, m);
    nb::object target = redirect && fr::text::is_valid_utf8(*redirect) ? nb::object(to_str(*redirect)) : nb::none();
    return new_instance(g.miss_type, Miss{404, nb::frozenset(), std::move(target)});
  }

  nb::frozenset allowed_methods(nb::handle path) const {
    ScratchLease lease;
    return allowed(path_of(path), *lease);
  }

  nb::list routes() const {
    nb::list out;
    for (std::size_t i = 0; i < values_.size(); ++i) out.append(route_object(static_cast<fr::RouteId>(i)));
    return out;
  }

  std::size_t size() const { return values_.size(); }
  void freeze() { core_.freeze(); }
  bool frozen() const { return core_.frozen(); }
  const char* on_conflict() const {
    return core_.options().on_conflict == fr::ConflictPolicy::error ? "error" : "first";
  }

  // Cyclic GC: a route value may well refer back to the router (an app holding both).
  int traverse(visitproc visit, void* arg) const {
    for (const nb::object& v : values_) Py_VISIT(v.ptr());
    return 0;
  }
  // Breaks reference cycles: the router is left empty (and consistent).
  void clear() {
    core_ = fr::Router(core_.options());
    values_.clear();
    patterns_.clear();
    methods_.clear();
    names_.clear();
  }

 private:
  static fr::Options options(std::string_view on_conflict) {
    if (on_conflict == "error") return {fr::ConflictPolicy::error};
    if (on_conflict == "first") return {fr::ConflictPolicy::first_wins};
    throw nb::value_error("on_conflict must be 'error' or 'first'");
  }

  void check(const fr::AddResult& res, nb::handle value) const {
    switch (res.status) {
      case fr::AddStatus::added:
      case fr::AddStatus::shadowed:
        return;
      case fr::AddStatus::invalid_method:
        throw nb::value_error(res.message.c_str());
      case fr::AddStatus::invalid_pattern:
        raise(g.pattern_error, to_str(res.message), to_str(res.pattern), nb::int_(code_points(res.pattern, res.offset)));
      case fr::AddStatus::conflict:
        raise(g.conflict_error, to_str(res.message), route_object(res.route),
              new_instance(g.route_type, Route{to_str(res.method), to_str(res.pattern), nb::borrow(value), res.mount}));
      case fr::AddStatus::frozen:
        raise(g.frozen_error, to_str(res.message));
    }
  }

  template <class... Args>
  [[noreturn]] static void raise(nb::handle cls, Args&&... args) {
    nb::object exc = cls(std::forward<Args>(args)...);
    PyErr_SetObject(cls.ptr(), exc.ptr());
    throw nb::python_error();
  }

  // Keeps the Python side of the routes the core just added (one per method given).
  void record_new(std::size_t before, nb::handle value) {
    for (std::size_t i = before; i < core_.routes().size(); ++i) record(value);
  }

  void record(nb::handle value) {
    const fr::Route& r = core_.routes()[values_.size()];
    values_.push_back(nb::borrow(value));
    patterns_.push_back(to_str(r.pattern));
    methods_.push_back(to_str(r.method));
    std::vector<nb::str> names;
    for (const std::string& n : r.param_names) {
      PyObject* s = PyUnicode_FromStringAndSize(n.data(), static_cast<Py_ssize_t>(n.size()));
      if (!s) throw nb::python_error();
      PyUnicode_InternInPlace(&s);
      names.push_back(nb::steal<nb::str>(s));
    }
    names_.push_back(std::move(names));
  }

  nb::object route_object(fr::RouteId id) const {
    return new_instance(g.route_type, Route{methods_[id], patterns_[id], values_[id], core_.route(id).mount});
  }

  nb::object make_match(const fr::Match& m) const {
    const fr::RouteId id = m.route();
    const auto captures = m.params();
    nb::dict params;
    for (std::size_t i = 0; i < captures.size(); ++i) {
      nb::object value = convert(captures[i], m.ascii());
      // Indexed anew after the conversion: it may run Python code (uuid.UUID, a finalizer)
      // that adds routes and so moves names_.
      if (PyDict_SetItem(params.ptr(), names_[id][i].ptr(), value.ptr()) != 0) {
        throw nb::python_error();
      }
    }
    nb::object tail = m.has_tail() ? nb::object(to_str(m.tail(), m.ascii())) : nb::none();
    return new_instance(g.match_type, Match{values_[id], std::move(params), patterns_[id], methods_[id], std::move(tail)});
  }

  nb::frozenset allowed(std::string_view path, fr::Match& m) const {
    nb::set out;
    for (const std::string_view method : core_.allowed_methods(path, m)) out.add(to_str(method));
    return nb::frozenset(out);
  }

  fr::Router core_;
  // By RouteId: what Python sees of each route.
  std::vector<nb::object> values_;
  std::vector<nb::str> patterns_;
  std::vector<nb::str> methods_;
  std::vector<std::vector<nb::str>> names_;
};

template <class T>
int traverse_slot(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  return nb::inst_ptr<T>(self)->traverse(visit, arg);
}

template <class T>
int clear_slot(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<T>(self)->clear();
  return 0;
}

PyType_Slot router_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(traverse_slot<Router>)},
    {Py_tp_clear, reinterpret_cast<void*>(clear_slot<Router>)},
    {0, nullptr},
};

int match_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  const Match* m = nb::inst_ptr<Match>(self);
  Py_VISIT(m->value.ptr());
  Py_VISIT(m->params.ptr());
  return 0;
}
int match_clear(PyObject* self) {
  if (nb::inst_ready(self)) {
    Match* m = nb::inst_ptr<Match>(self);
    m->value = nb::none();
    m->params = nb::dict();
  }
  return 0;
}
PyType_Slot match_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(match_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(match_clear)},
    {0, nullptr},
};

int route_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  Py_VISIT(nb::inst_ptr<Route>(self)->value.ptr());
  return 0;
}
int route_clear(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<Route>(self)->value = nb::none();
  return 0;
}
PyType_Slot route_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(route_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(route_clear)},
    {0, nullptr},
};

}  // namespace
}  // namespace fasterapi_router_binding

NB_MODULE(_router, m) {
  using namespace fasterapi_router_binding;
  m.doc() = "C++ core of fasterapi_router (use the fasterapi_router package)";

  nb::module_ errors = nb::module_::import_("fasterapi_router._errors");
  nb::module_ uuid = nb::module_::import_("uuid");
  // Deliberately never released: the module needs them for as long as the process lives.
  g.pattern_error = errors.attr("PatternError").inc_ref();
  g.conflict_error = errors.attr("RouteConflictError").inc_ref();
  g.frozen_error = errors.attr("FrozenRouterError").inc_ref();
  g.uuid = uuid.attr("UUID").inc_ref();

  m.attr("T") = nb::type_var("T");

  g.route_type = nb::class_<Route>(m, "Route", nb::type_slots(route_slots), nb::is_generic(),
                    nb::sig("class Route(typing.Generic[T])"), "A registered route (or mount).")
      .def_ro("method", &Route::method, "The method it was added for, or '*' for any method.")
      .def_ro("path", &Route::path, "The pattern as registered; for a mount, the prefix.")
      .def_ro("value", &Route::value, nb::sig("def value(self) -> T"))
      .def_ro("mount", &Route::mount, "Whether this is a mount (matches the prefix and everything below).")
      .def("__repr__", [](const Route& r) {
        return nb::str("Route({!r}, {!r}, {!r}{})")
            .format(r.method, r.path, r.value, r.mount ? ", mount=True" : "");
      });

  g.match_type = nb::class_<Match>(m, "Match", nb::type_slots(match_slots), nb::is_generic(),
                    nb::sig("class Match(typing.Generic[T])"), "A successful lookup.")
      .def_ro("value", &Match::value, nb::sig("def value(self) -> T"), "The value the route was added with.")
      .def_ro("params", &Match::params, nb::sig("def params(self) -> dict[str, typing.Any]"),
              "The path parameters, decoded and converted (a new dict per match).")
      .def_ro("route", &Match::route, "The pattern of the matched route, as registered.")
      .def_ro("method", &Match::method, "The method of the matched route ('*' for a route of any method).")
      .def_ro("tail", &Match::tail, nb::sig("def tail(self) -> str | None"),
              "For a mount: the raw rest of the path, starting with '/'; otherwise None.")
      .def("__repr__", [](const Match& mt) {
        return nb::str("Match(value={!r}, params={!r}, route={!r})").format(mt.value, mt.params, mt.route);
      });

  g.miss_type = nb::class_<Miss>(m, "Miss", "A failed lookup: why, and what the client may do instead.")
      .def_ro("status_code", &Miss::status_code, "404 (no route matches the path) or 405 (none for the method).")
      .def_ro("allowed_methods", &Miss::allowed_methods, nb::sig("def allowed_methods(self) -> frozenset[str]"),
              "For a 405: the methods of the routes that match the path (for the Allow header).")
      .def_ro("redirect_path", &Miss::redirect_path, nb::sig("def redirect_path(self) -> str | None"),
              "For a 404: the path with its trailing slash removed or added, if that one matches.")
      .def("__repr__", [](const Miss& mi) {
        return nb::str("Miss(status_code={}, allowed_methods={!r}, redirect_path={!r})")
            .format(mi.status_code, mi.allowed_methods, mi.redirect_path);
      });

  nb::class_<Router>(m, "Router", nb::type_slots(router_slots), nb::is_generic(),
                     nb::sig("class Router(typing.Generic[T])"),
                     "Routes (method, path) to values of type T; patterns in FastAPI/Starlette syntax.")
      .def(nb::init<std::string_view>(), nb::kw_only(), nb::arg("on_conflict") = "error",
           nb::sig("def __init__(self, *, on_conflict: typing.Literal['error', 'first'] = 'error') -> None"),
           "on_conflict='error' raises RouteConflictError for a second route of the same method and shape;\n"
           "'first' keeps the first one, as FastAPI does.")
      .def("add", &Router::add, nb::arg("method"), nb::arg("path"), nb::arg("value").none(),
           nb::sig("def add(self, method: str | collections.abc.Iterable[str], path: str, value: T) -> None"),
           "Adds a route for one method, several, or '*' (any method).")
      .def("mount", &Router::mount, nb::arg("prefix"), nb::arg("value").none(),
           nb::sig("def mount(self, prefix: str, value: T) -> None"),
           "Matches '<prefix>/' and every path below it, for any method; Match.tail is the raw rest.")
      .def("include", &Router::include, nb::arg("prefix"), nb::arg("router"),
           nb::sig("def include(self, prefix: str, router: Router[T]) -> None"),
           "Adds every route and mount of another router under a prefix, all of them or none.")
      .def("match", &Router::match, nb::arg("method"), nb::arg("path"),
           nb::sig("def match(self, method: str, path: str | bytes) -> Match[T] | None"),
           "The route for this method and raw path (no query string), or None.")
      .def("lookup", &Router::lookup, nb::arg("method"), nb::arg("path"),
           nb::sig("def lookup(self, method: str, path: str | bytes) -> Match[T] | Miss"),
           "Like match(), but a miss says 404 or 405, the allowed methods and a trailing-slash redirect.")
      .def("allowed_methods", &Router::allowed_methods, nb::arg("path"),
           nb::sig("def allowed_methods(self, path: str | bytes) -> frozenset[str]"),
           "The methods of every route whose pattern matches the path ('*' for a route of any method).")
      .def("routes", &Router::routes, nb::sig("def routes(self) -> list[Route[T]]"),
           "The routes and mounts, in the order they were added.")
      .def("freeze", &Router::freeze, "Makes the router immutable: add, mount and include raise FrozenRouterError.")
      .def_prop_ro("frozen", &Router::frozen)
      .def_prop_ro("on_conflict", &Router::on_conflict,
                   nb::sig("def on_conflict(self) -> typing.Literal['error', 'first']"))
      .def("__len__", &Router::size)
      .def("__repr__", [](const Router& r) { return "<Router with " + std::to_string(r.size()) + " routes>"; });
}
