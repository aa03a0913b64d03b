// Python binding of fasterapi::server::json: Python objects to and from the reader and writer in
// include/fasterapi/server/json/. Only object handling lives here. The GIL is held throughout:
// every object read or made is Python's.
#include <nanobind/nanobind.h>

#include <datetime.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "fasterapi/server/json/reader.hpp"
#include "fasterapi/server/json/writer.hpp"

namespace nb = nanobind;
namespace fj = fasterapi::server::json;

namespace fasterapi_server_json_binding {
namespace {

// Held for the life of the process (set once by _register, never released).
struct Globals {
  PyObject* decode_error = nullptr;  // json._decode_error(msg, doc) -> a JSONDecodeError to raise
  PyObject* exact_loads = nullptr;   // json._exact_loads(doc): the stdlib, for numbers beyond 64 bits
  PyObject* encode_error = nullptr;  // JSONEncodeError
  PyObject* enum_type = nullptr;     // enum.Enum
  PyObject* utc = nullptr;           // datetime.timezone.utc
  // Types of optional modules, looked up in sys.modules when first needed: an object of a module
  // that was never imported cannot exist, so a missing module means "not this type" and costs no
  // import (pydantic takes ~100 ms to import).
  PyObject* uuid_type = nullptr;
  PyObject* decimal_type = nullptr;
  PyObject* basemodel_type = nullptr;
  PyObject* dataclass_field = nullptr;   // dataclasses._FIELD: the marker of a real field
  PyObject* dataclass_names = nullptr;   // {type: (field name, ...)}, a dataclass's fields never change
  PyObject* s_value = nullptr, *s_int = nullptr, *s_isoformat = nullptr, *s_dataclass_fields = nullptr,
           *s_field_type = nullptr, *s_serializer = nullptr, *s_to_python = nullptr, *s_mode = nullptr,
           *s_json = nullptr;
};
Globals g;

// --- loads ------------------------------------------------------------------------------------

bool is_ascii(const char* s, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

// simdjson has already validated the UTF-8, so a str is made in place without the checks of
// PyUnicode_DecodeUTF8: ASCII (the common case) is a plain copy.
PyObject* make_str(std::string_view s) {
  if (is_ascii(s.data(), s.size())) {
    PyObject* o = PyUnicode_New(static_cast<Py_ssize_t>(s.size()), 127);
    if (o) std::memcpy(PyUnicode_1BYTE_DATA(o), s.data(), s.size());
    return o;
  }
  const fj::Utf8Shape shape = fj::utf8_shape(s);
  // max_char picks the same storage width the str's real largest character would: canonical form.
  PyObject* o = PyUnicode_New(static_cast<Py_ssize_t>(shape.length), static_cast<Py_UCS4>(shape.max_char));
  if (!o) return nullptr;
  switch (PyUnicode_KIND(o)) {
    case PyUnicode_1BYTE_KIND:
      fj::utf8_decode(s, PyUnicode_1BYTE_DATA(o));
      break;
    case PyUnicode_2BYTE_KIND:
      fj::utf8_decode(s, PyUnicode_2BYTE_DATA(o));
      break;
    default:
      fj::utf8_decode(s, PyUnicode_4BYTE_DATA(o));
      break;
  }
  return o;
}

// Object keys repeat across the records of a document and across requests (orjson's key cache):
// one shared str per short ASCII key, its hash computed once, so a dict insert never hashes again.
// Direct-mapped; a collision replaces the older key. At most kSlots strs live for the process.
class KeyCache {
 public:
  PyObject* get(std::string_view s) {
    if (s.size() > kMaxLength || !is_ascii(s.data(), s.size())) return make_str(s);
    const std::uint64_t h = hash(s);
    Slot& slot = slots_[h & (kSlots - 1)];
    if (slot.key && slot.hash == h && static_cast<std::size_t>(PyUnicode_GET_LENGTH(slot.key)) == s.size() &&
        same_bytes(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(slot.key)), s.data(), s.size())) {
      return Py_NewRef(slot.key);
    }
    PyObject* key = make_str(s);
    if (!key) return nullptr;
    if (PyObject_Hash(key) == -1) {  // cannot fail for a str; keeps the contract explicit
      Py_DECREF(key);
      return nullptr;
    }
    // Re-read the slot: making the str may have run the GC, and a finalizer a nested loads().
    Slot& now = slots_[h & (kSlots - 1)];
    PyObject* old = now.key;
    now.key = Py_NewRef(key);
    now.hash = h;
    Py_XDECREF(old);
    return key;
  }

 private:
  static constexpr std::size_t kSlots = 2048;     // a power of two; ~16 KB of slots
  static constexpr std::size_t kMaxLength = 64;   // longer keys are rarely repeated
  struct Slot {
    PyObject* key = nullptr;
    std::uint64_t hash = 0;
  };
  // memcmp for short keys, inline: a call into libc costs more than the comparison.
  static bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    for (; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  static std::uint64_t hash(std::string_view s) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
  }
  std::array<Slot, kSlots> slots_{};
};

KeyCache& key_cache() {
  static KeyCache* cache = new KeyCache();  // never destroyed: its strs outlive the interpreter's teardown order
  return *cache;
}

struct PyBuilder {
  using Value = PyObject*;
  KeyCache& keys;
  bool depth_exceeded = false;

  void too_deep() { depth_exceeded = true; }
  Value null() { return Py_NewRef(Py_None); }
  Value boolean(bool v) { return Py_NewRef(v ? Py_True : Py_False); }
  Value int64(std::int64_t v) { return PyLong_FromLongLong(v); }
  Value uint64(std::uint64_t v) { return PyLong_FromUnsignedLongLong(v); }
  Value float64(double v) { return PyFloat_FromDouble(v); }
  Value string(std::string_view s) { return make_str(s); }
  Value key(std::string_view s) { return keys.get(s); }
  Value array(std::size_t n) { return PyList_New(static_cast<Py_ssize_t>(n)); }
  bool set_item(Value list, std::size_t i, Value item) {
    if (!item) return false;
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);  // the list's dealloc skips unset (NULL) items
    return true;
  }
  // Not presized for its n keys: _PyDict_NewPresized is private, and measured no faster here.
  Value object(std::size_t /*n*/) { return PyDict_New(); }
  bool set_field(Value dict, Value key, Value item) {
    const int rc = key && item ? PyDict_SetItem(dict, key, item) : -1;
    Py_XDECREF(key);
    Py_XDECREF(item);
    return rc == 0;
  }
  void discard(Value v) { Py_DECREF(v); }
};

// One parser, reused: its buffers grow to the largest document seen and stay, so a request body
// costs no allocation. Making objects can run the GC and so a finalizer that calls loads() while
// the parser's document is still being read: such a nested call gets a parser of its own.
simdjson::dom::parser& shared_parser() {
  static simdjson::dom::parser* parser = [] {
    auto* p = new simdjson::dom::parser();  // never destroyed (process lifetime)
    (void)fj::prepare(*p, 0);  // on failure parse() reports MEMALLOC
    return p;
  }();
  return *parser;
}
bool shared_parser_busy = false;
constexpr std::size_t kKeptParserBytes = 16u << 20;  // the shared parser keeps buffers for documents up to this

// The bytes of the argument of loads(), for the duration of the parse.
class Input {
 public:
  explicit Input(PyObject* o) {
    if (PyBytes_Check(o)) {
      data_ = PyBytes_AS_STRING(o);
      size_ = static_cast<std::size_t>(PyBytes_GET_SIZE(o));
      ok_ = true;
    } else if (PyUnicode_Check(o)) {
      Py_ssize_t n = 0;
      data_ = PyUnicode_AsUTF8AndSize(o, &n);  // a str with a lone surrogate has no UTF-8: an error
      size_ = static_cast<std::size_t>(n);
      ok_ = data_ != nullptr;
    } else if (PyObject_CheckBuffer(o)) {
      if (PyObject_GetBuffer(o, &buffer_, PyBUF_SIMPLE) == 0) {
        held_ = ok_ = true;
        size_ = static_cast<std::size_t>(buffer_.len);
        data_ = size_ ? static_cast<const char*>(buffer_.buf) : "";  // an empty buffer may have no address
      }
    } else {
      PyErr_Format(PyExc_TypeError, "loads() takes bytes, bytearray, memoryview or str, not %.200s",
                   Py_TYPE(o)->tp_name);
    }
  }
  ~Input() {
    if (held_) PyBuffer_Release(&buffer_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  bool ok() const noexcept { return ok_; }  // else a Python error is set
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  Py_buffer buffer_{};
  bool held_ = false, ok_ = false;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

[[noreturn]] void raise_decode_error(std::string_view message, PyObject* doc) {
  nb::object text = nb::steal(PyUnicode_FromStringAndSize(message.data(), static_cast<Py_ssize_t>(message.size())));
  if (!text.is_valid()) throw nb::python_error();
  PyObject* exc = PyObject_CallFunctionObjArgs(g.decode_error, text.ptr(), doc, nullptr);
  if (exc) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc)), exc);
    Py_DECREF(exc);
  }
  throw nb::python_error();
}

nb::object loads(nb::handle data) {
  if (!g.decode_error) throw nb::type_error("fasterapi_server._json is used through fasterapi_server.json");
  PyObject* doc = data.ptr();
  simdjson::error_code code;
  PyObject* result = nullptr;
  {
    Input in(doc);
    if (!in.ok()) {
      if (PyUnicode_Check(doc) && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear();
        raise_decode_error("str is not valid Unicode: it holds a lone surrogate", doc);
      }
      throw nb::python_error();
    }
    // A nested call (see shared_parser) or a huge document, whose buffers should not stay for the
    // life of the process, gets a parser of its own.
    const bool own_parser = shared_parser_busy || in.size() > kKeptParserBytes;
    std::optional<simdjson::dom::parser> own;
    simdjson::dom::parser& parser = own_parser ? own.emplace() : shared_parser();
    code = own_parser ? fj::prepare(parser, in.size()) : simdjson::SUCCESS;
    simdjson::dom::element root;
    // realloc_if_needed: simdjson reads up to 64 bytes past the end, so the text is copied into the
    // parser's padded buffer (a memcpy, far cheaper than the parse).
    if (!code) code = parser.parse(in.data(), in.size(), true).get(root);
    if (!code) {
      if (!own_parser) shared_parser_busy = true;
      PyBuilder builder{key_cache()};
      result = fj::build(root, builder);
      if (!own_parser) shared_parser_busy = false;
      if (builder.depth_exceeded) code = simdjson::DEPTH_ERROR;
      else if (!result) throw nb::python_error();
    }
  }
  if (result) return nb::steal(result);
  if (code == simdjson::NUMBER_ERROR) {
    // Most often an integer beyond 64 bits or a float beyond double's range, which JSON allows and
    // the stdlib reads exactly (int, inf); a malformed number gets the stdlib's located error.
    PyObject* r = PyObject_CallOneArg(g.exact_loads, doc);
    if (!r) throw nb::python_error();
    return nb::steal(r);
  }
  raise_decode_error(fj::describe(code), doc);
}

// --- dumps ------------------------------------------------------------------------------------

PyObject* module_type(const char* module, const char* name) {
  PyObject* mod = PyDict_GetItemString(PyImport_GetModuleDict(), module);  // borrowed
  if (!mod) return nullptr;
  PyObject* t = PyObject_GetAttrString(mod, name);
  if (!t) PyErr_Clear();
  return t;
}

class Encoder {
 public:
  Encoder(fj::Writer& w, PyObject* default_fn, bool sort_keys, bool stdlib)
      : w_(w), default_(default_fn), sort_keys_(sort_keys), stdlib_(stdlib) {}

  // Plain: exactly dict (str keys), list, tuple, str, int, finite float, bool and None, or give up
  // (write() false): see dumps_plain().
  struct Plain {
    bool pydantic;
  };
  Encoder(fj::Writer& w, Plain p)
      : w_(w), default_(nullptr), sort_keys_(false), stdlib_(true), plain_(true), pydantic_(p.pydantic) {}

  bool write(PyObject* o) {
    PyTypeObject* t = Py_TYPE(o);
    if (t == &PyUnicode_Type) return write_str(o);
    if (t == &PyLong_Type) return write_int(o);
    if (o == Py_None) {
      w_.put_null();
      return true;
    }
    if (o == Py_True || o == Py_False) {
      w_.put_bool(o == Py_True);
      return true;
    }
    if (t == &PyFloat_Type) return write_float(o);
    if (t == &PyDict_Type) return write_dict(o);
    if (t == &PyList_Type || t == &PyTuple_Type) return write_sequence(o);
    return write_other(o);
  }

  // The kinds of value a field of a plain model takes (dumps_model's `fields`): a bit set of the
  // types below; kList: a list whose items are of the kinds in bits 8 and up.
  enum Kind : long { kInt = 1, kStr = 2, kFloat = 4, kBool = 8, kNone = 16, kList = 32 };

  // The fields of a pydantic model as its serializer writes them (dumps_model): its __dict__ in
  // the dict's order, each key written as `fields` has it, each value of exactly a kind its field
  // takes; anything else gives up (false).
  bool write_model(PyObject* values, PyObject* fields) {
    if (!PyDict_CheckExact(values) || PyDict_GET_SIZE(values) != PyDict_GET_SIZE(fields)) return false;
    w_.put('{');
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    bool first = true;
    Py_ssize_t written = 0;
    while (PyDict_Next(values, &pos, &k, &v)) {
      // Held: looking the key up in `fields` may run Python code (a key of a str subclass there,
      // with an __eq__ of its own), which may change either dict.
      nb::object hold_k = nb::borrow(k), hold_v = nb::borrow(v);
      // (the same number of keys, each one a field's: every field once)
      PyObject* found = PyUnicode_CheckExact(k) ? PyDict_GetItemWithError(fields, k) : nullptr;
      if (!found) return false;
      nb::object field = nb::borrow(found);
      if (!PyTuple_CheckExact(found) || PyTuple_GET_SIZE(found) != 2) return false;
      PyObject* key = PyTuple_GET_ITEM(found, 0);
      PyObject* kind = PyTuple_GET_ITEM(found, 1);
      const long kinds = PyLong_CheckExact(kind) ? PyLong_AsLong(kind) : -1;  // (-1: an error too)
      if (!PyBytes_CheckExact(key) || kinds < 0 || !takes(kinds, v)) return false;
      if (!first) w_.put(',');
      first = false;
      w_.put(std::string_view(PyBytes_AS_STRING(key), static_cast<std::size_t>(PyBytes_GET_SIZE(key))));
      if (!write(v)) return false;
      ++written;
    }
    w_.put('}');
    return written == PyDict_GET_SIZE(fields);  // (else a dict changed under the lookups)
  }

 private:
  static bool takes(long kinds, PyObject* v) {
    PyTypeObject* t = Py_TYPE(v);
    if (t == &PyUnicode_Type) return (kinds & kStr) != 0;
    if (t == &PyLong_Type) return (kinds & kInt) != 0;
    if (t == &PyFloat_Type) return (kinds & kFloat) != 0;
    if (t == &PyBool_Type) return (kinds & kBool) != 0;
    if (v == Py_None) return (kinds & kNone) != 0;
    if (t == &PyList_Type && (kinds & kList) != 0) {
      const long items = kinds >> 8;
      for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); ++i) {
        if (!takes(items, PyList_GET_ITEM(v, i))) return false;
      }
      return true;
    }
    return false;
  }

  // Depth is counted per container (and per object turned into another: an Enum, a model, a
  // default() result). Hitting the limit is either a cycle or a too-deep value; the stack of
  // objects being written tells which.
  bool enter(PyObject* o) {
    // pydantic-core refuses values nested 256 deep (an error where we would write them): deeper
    // than 200 is left to it.
    if (pydantic_ && depth_ == kPydanticDepth) return false;
    if (depth_ == fj::kMaxDepth) {
      const bool cycle = std::find(stack_.begin(), stack_.end(), o) != stack_.end();
      if (cycle) {
        PyErr_SetString(g.encode_error, "Circular reference detected");
      } else {
        PyErr_Format(g.encode_error, "nesting deeper than %zu containers (or a cycle through default)", fj::kMaxDepth);
      }
      return false;
    }
    stack_[depth_++] = o;
    return true;
  }
  void leave() { --depth_; }

  bool write_str(PyObject* s) {
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) return false;
#endif
    const std::size_t n = static_cast<std::size_t>(PyUnicode_GET_LENGTH(s));
    if (PyUnicode_IS_ASCII(s)) {
      w_.put_string_utf8(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(s)), n);
      return true;
    }
    // A str whose UTF-8 someone already asked for (PyUnicode_AsUTF8) carries it: copy that. We
    // never create it, which would keep a second copy of the text alive with the str.
    const auto* compact = reinterpret_cast<const PyCompactUnicodeObject*>(s);
    if (PyUnicode_IS_COMPACT(s) && compact->utf8) {
      w_.put_string_utf8(compact->utf8, static_cast<std::size_t>(compact->utf8_length));
      return true;
    }
    bool ok = true;
    switch (PyUnicode_KIND(s)) {
      case PyUnicode_1BYTE_KIND:
        ok = w_.put_string_units(PyUnicode_1BYTE_DATA(s), n);
        break;
      case PyUnicode_2BYTE_KIND:
        ok = w_.put_string_units(PyUnicode_2BYTE_DATA(s), n);
        break;
      default:
        ok = w_.put_string_units(PyUnicode_4BYTE_DATA(s), n);
        break;
    }
    if (!ok) PyErr_SetString(g.encode_error, "str is not valid Unicode: it holds a lone surrogate");
    return ok;
  }

  bool write_int(PyObject* o) {
    // Ints of one machine digit (|v| < 2^30: ids, counts, most numbers) read straight from the object.
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact(reinterpret_cast<PyLongObject*>(o))) {
      w_.put_int(static_cast<long long>(PyUnstable_Long_CompactValue(reinterpret_cast<PyLongObject*>(o))));
      return true;
    }
#else
    const Py_ssize_t size = Py_SIZE(o);
    if (size >= -1 && size <= 1) {
      w_.put_int(static_cast<long long>(size) * static_cast<long long>(reinterpret_cast<PyLongObject*>(o)->ob_digit[0]));
      return true;
    }
#endif
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow) {
      if (v == -1 && PyErr_Occurred()) return false;
      w_.put_int(v);
      return true;
    }
    // Beyond 64 bits: int's own repr (not the subclass's), as the stdlib does. Python's limit on
    // the digits of an int->str conversion applies (ValueError), as it does to the stdlib.
    PyObject* text = PyLong_Type.tp_repr(o);
    if (!text) return false;
    w_.put(std::string_view(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(text)),
                            static_cast<std::size_t>(PyUnicode_GET_LENGTH(text))));
    Py_DECREF(text);
    return true;
  }

  bool write_float(PyObject* o) {
    const double v = PyFloat_AS_DOUBLE(o);
    // pydantic-core writes some floats below 1e-4 otherwise than repr() does (found: "0.00001" and
    // "1e-9" for "1e-05" and "1e-09"): every nonzero float below 1e-4 gives up, whatever the edges.
    if (pydantic_ && v != 0.0 && std::fabs(v) < 1e-4) return false;
    if (w_.put_double(v)) return true;
    if (plain_) return false;  // (giving up: no error)
    PyErr_Format(g.encode_error, "Out of range float values are not JSON compliant: %R", o);
    return false;
  }

  // A dict key as the stdlib writes it: str as is; int, float, bool and None as their JSON text
  // in quotes. No other type (the stdlib's rule; default() is not applied to keys).
  bool write_key(PyObject* k) {
    if (plain_) {
      // jsonable_encoder leaves out keys beginning "_sa" (SQLAlchemy's state); pydantic does not.
      if (Py_TYPE(k) != &PyUnicode_Type || (!pydantic_ && PyUnicode_GET_LENGTH(k) >= 3 && PyUnicode_READ_CHAR(k, 0) == '_' &&
                                            PyUnicode_READ_CHAR(k, 1) == 's' && PyUnicode_READ_CHAR(k, 2) == 'a')) {
        return false;
      }
      return write_str(k);
    }
    if (PyUnicode_Check(k)) return write_str(k);
    w_.put('"');
    if (k == Py_True || k == Py_False) {
      w_.put_bool(k == Py_True);
    } else if (k == Py_None) {
      w_.put_null();
    } else if (PyLong_Check(k)) {
      if (!write_int(k)) return false;
    } else if (PyFloat_Check(k)) {
      if (!write_float(k)) return false;
    } else {
      PyErr_Format(g.encode_error, "keys must be str, int, float, bool or None, not %.200s", Py_TYPE(k)->tp_name);
      return false;
    }
    w_.put('"');
    return true;
  }

  bool write_field(PyObject* k, PyObject* v, bool& first) {
    if (!first) w_.put(',');
    first = false;
    if (!write_key(k)) return false;
    w_.put(':');
    return write(v);
  }

  bool write_dict(PyObject* d) {
    if (!enter(d)) return false;
    w_.put('{');
    bool first = true;
    bool ok = true;
    if (sort_keys_ && PyDict_GET_SIZE(d) > 1) {
      ok = write_sorted(d, first);
    } else {
      Py_ssize_t pos = 0;
      PyObject *k, *v;
      while (ok && PyDict_Next(d, &pos, &k, &v)) {
        // Held: default() or a model's serializer may mutate this dict while its value is written.
        nb::object hold_k = nb::borrow(k), hold_v = nb::borrow(v);
        ok = write_field(k, v, first);
      }
    }
    w_.put('}');
    leave();
    return ok;
  }

  // The stdlib sorts the (key, value) pairs, so keys compare as Python objects (mixed types raise
  // TypeError). All-str keys, the usual case, sort by their UTF-8 bytes: the same order, as UTF-8
  // preserves code point order.
  bool write_sorted(PyObject* d, bool& first) {
    nb::object items = nb::steal(PyDict_Items(d));
    if (!items.is_valid()) return false;
    const Py_ssize_t n = PyList_GET_SIZE(items.ptr());
    std::vector<std::pair<std::string_view, PyObject*>> by_key;
    by_key.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* pair = PyList_GET_ITEM(items.ptr(), i);
      PyObject* k = PyTuple_GET_ITEM(pair, 0);
      if (!PyUnicode_CheckExact(k)) {
        by_key.clear();
        break;
      }
      Py_ssize_t len = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(k, &len);
      if (!utf8) {
        PyErr_Clear();  // a lone surrogate: the Python sort below, then write_str reports it
        by_key.clear();
        break;
      }
      by_key.emplace_back(std::string_view(utf8, static_cast<std::size_t>(len)), pair);
    }
    if (static_cast<Py_ssize_t>(by_key.size()) == n) {
      std::sort(by_key.begin(), by_key.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [key, pair] : by_key) {
        if (!write_field(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), first)) return false;
      }
      return true;
    }
    if (PyList_Sort(items.ptr()) < 0) return false;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* pair = PyList_GET_ITEM(items.ptr(), i);
      if (!write_field(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), first)) return false;
    }
    return true;
  }

  bool write_sequence(PyObject* seq) {
    if (!enter(seq)) return false;
    w_.put('[');
    bool ok = true;
    const bool list = PyList_Check(seq);
    // The size is read on every step: default() may shrink a list while its items are written.
    for (Py_ssize_t i = 0; ok && i < (list ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq)); ++i) {
      if (i) w_.put(',');
      nb::object item = nb::borrow(list ? PyList_GET_ITEM(seq, i) : PyTuple_GET_ITEM(seq, i));
      ok = write(item.ptr());
    }
    w_.put(']');
    leave();
    return ok;
  }

  // An object that stands for another value (an Enum member, a model, a default() result).
  bool write_as(PyObject* o, PyObject* value) {
    if (!value) return false;
    nb::object held = nb::steal(value);
    if (!enter(o)) return false;
    const bool ok = write(value);
    leave();
    return ok;
  }

  bool write_ascii(PyObject* text) {  // a str known to be ASCII JSON text, written unquoted
    if (!text) return false;
    w_.put(std::string_view(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(text)),
                            static_cast<std::size_t>(PyUnicode_GET_LENGTH(text))));
    Py_DECREF(text);
    return true;
  }

  // isoformat() without the method call for the common cases: naive, or UTC.
  void put2(int v) {
    w_.put(static_cast<char>('0' + v / 10));
    w_.put(static_cast<char>('0' + v % 10));
  }
  void put_date(int y, int m, int d) {
    w_.put(static_cast<char>('0' + y / 1000));
    w_.put(static_cast<char>('0' + y / 100 % 10));
    put2(y % 100);
    w_.put('-');
    put2(m);
    w_.put('-');
    put2(d);
  }
  void put_time(int h, int m, int s, int us) {
    put2(h);
    w_.put(':');
    put2(m);
    w_.put(':');
    put2(s);
    if (us) {
      w_.put('.');
      char digits[6];
      for (int i = 5; i >= 0; --i, us /= 10) digits[i] = static_cast<char>('0' + us % 10);
      w_.put(std::string_view(digits, 6));
    }
  }

  bool write_temporal(PyObject* o) {
    PyTypeObject* t = Py_TYPE(o);
    if (t == PyDateTimeAPI->DateTimeType) {
      PyObject* tz = PyDateTime_DATE_GET_TZINFO(o);
      if (tz == Py_None || tz == g.utc) {
        w_.put('"');
        put_date(PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o), PyDateTime_GET_DAY(o));
        w_.put('T');
        put_time(PyDateTime_DATE_GET_HOUR(o), PyDateTime_DATE_GET_MINUTE(o), PyDateTime_DATE_GET_SECOND(o),
                 PyDateTime_DATE_GET_MICROSECOND(o));
        if (tz != Py_None) w_.put(std::string_view("+00:00"));
        w_.put('"');
        return true;
      }
    } else if (t == PyDateTimeAPI->DateType) {
      w_.put('"');
      put_date(PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o), PyDateTime_GET_DAY(o));
      w_.put('"');
      return true;
    } else if (t == PyDateTimeAPI->TimeType && PyDateTime_TIME_GET_TZINFO(o) == Py_None) {
      w_.put('"');
      put_time(PyDateTime_TIME_GET_HOUR(o), PyDateTime_TIME_GET_MINUTE(o), PyDateTime_TIME_GET_SECOND(o),
               PyDateTime_TIME_GET_MICROSECOND(o));
      w_.put('"');
      return true;
    }
    // Other time zones (their utcoffset() is Python code) and subclasses: isoformat() itself.
    PyObject* text = PyObject_CallMethodNoArgs(o, g.s_isoformat);
    if (!text) return false;
    nb::object held = nb::steal(text);
    if (!PyUnicode_Check(text)) {
      PyErr_Format(g.encode_error, "%.200s.isoformat() returned a non-str", Py_TYPE(o)->tp_name);
      return false;
    }
    return write_str(text);
  }

  bool write_uuid(PyObject* o) {
    PyObject* value = PyObject_GetAttr(o, g.s_int);
    if (!value) return false;
    nb::object held = nb::steal(value);
    const unsigned long long lo = PyLong_AsUnsignedLongLongMask(value);
    nb::object high = nb::steal(PyNumber_Rshift(value, nb::int_(64).ptr()));
    if (!high.is_valid()) return false;
    const unsigned long long hi = PyLong_AsUnsignedLongLongMask(high.ptr());
    if (PyErr_Occurred()) return false;
    static constexpr char kHex[] = "0123456789abcdef";
    char text[38];  // "8-4-4-4-12" in quotes
    int k = 0;
    text[k++] = '"';
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) text[k++] = '-';
      const unsigned long long word = i < 16 ? hi : lo;
      text[k++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xF];
    }
    text[k++] = '"';
    w_.put(std::string_view(text, static_cast<std::size_t>(k)));
    return true;
  }

  bool write_decimal(PyObject* o) {
    PyObject* text = PyObject_Str(o);
    if (!text) return false;
    // A finite Decimal's str() is a JSON number (digits, '.', 'E', sign); the others spell
    // NaN, sNaN or Infinity.
    const char* s = reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(text));
    const std::string_view view(s, static_cast<std::size_t>(PyUnicode_GET_LENGTH(text)));
    if (!PyUnicode_IS_ASCII(text) || view.find_first_of("NnIi") != std::string_view::npos) {
      PyErr_Format(g.encode_error, "Out of range Decimal values are not JSON compliant: %U", text);
      Py_DECREF(text);
      return false;
    }
    return write_ascii(text);
  }

  // The names of a dataclass's fields, in definition order (dataclasses.fields(): ClassVar and
  // InitVar pseudo-fields left out), or None for a type that is not a dataclass (borrowed), or
  // nullptr with an error set.
  PyObject* dataclass_fields(PyTypeObject* t) {
    PyObject* cached = PyDict_GetItemWithError(g.dataclass_names, reinterpret_cast<PyObject*>(t));
    if (cached || PyErr_Occurred()) return cached;
    PyObject* fields = PyObject_GetAttr(reinterpret_cast<PyObject*>(t), g.s_dataclass_fields);
    nb::object names;
    if (!fields) {
      if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return nullptr;
      PyErr_Clear();
      names = nb::none();
    } else {
      nb::object held = nb::steal(fields);
      if (!g.dataclass_field) g.dataclass_field = module_type("dataclasses", "_FIELD");
      if (!PyDict_Check(fields) || !g.dataclass_field) {
        names = nb::none();
      } else {
        nb::list list;
        Py_ssize_t pos = 0;
        PyObject *name, *field;
        while (PyDict_Next(fields, &pos, &name, &field)) {
          PyObject* kind = PyObject_GetAttr(field, g.s_field_type);
          if (!kind) return nullptr;
          if (kind == g.dataclass_field) list.append(nb::handle(name));
          Py_DECREF(kind);
        }
        names = nb::tuple(list);
      }
    }
    // Keyed by the type, held for the process: classes are few, and made once.
    if (PyDict_SetItem(g.dataclass_names, reinterpret_cast<PyObject*>(t), names.ptr()) < 0) return nullptr;
    return names.ptr();  // borrowed from the cache
  }

  bool write_dataclass(PyObject* o, PyObject* names) {
    const Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (sort_keys_) {  // the same order a dict of the fields would get
      nb::dict fields;
      for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* v = PyObject_GetAttr(o, PyTuple_GET_ITEM(names, i));
        if (!v) return false;
        nb::object held = nb::steal(v);
        if (PyDict_SetItem(fields.ptr(), PyTuple_GET_ITEM(names, i), v) < 0) return false;
      }
      return write_as(o, fields.release().ptr());
    }
    if (!enter(o)) return false;
    w_.put('{');
    bool first = true;
    bool ok = true;
    for (Py_ssize_t i = 0; ok && i < n; ++i) {
      PyObject* v = PyObject_GetAttr(o, PyTuple_GET_ITEM(names, i));
      if (!v) {
        ok = false;
        break;
      }
      nb::object held = nb::steal(v);
      ok = write_field(PyTuple_GET_ITEM(names, i), v, first);
    }
    w_.put('}');
    leave();
    return ok;
  }

  // 1, 0, or -1 with an error set; a type whose module was never imported is 0.
  static int is_instance(PyObject* o, PyObject*& type, const char* module, const char* name) {
    if (!type) type = module_type(module, name);
    return type ? PyObject_IsInstance(o, type) : 0;
  }

  bool write_other(PyObject* o) {
    if (plain_) return false;
    // Subclasses of the built-in types are written as their base (IntEnum and StrEnum included).
    if (PyUnicode_Check(o)) return write_str(o);
    if (PyLong_Check(o)) return write_int(o);
    if (PyFloat_Check(o)) return write_float(o);
    if (PyDict_Check(o)) return write_dict(o);
    if (PyList_Check(o) || PyTuple_Check(o)) return write_sequence(o);
    if (stdlib_) return write_default(o);
    if (PyDate_Check(o) || PyTime_Check(o)) return write_temporal(o);
    int is = PyObject_IsInstance(o, g.enum_type);
    if (is) return is > 0 && write_as(o, PyObject_GetAttr(o, g.s_value));
    if ((is = is_instance(o, g.uuid_type, "uuid", "UUID"))) return is > 0 && write_uuid(o);
    if ((is = is_instance(o, g.decimal_type, "decimal", "Decimal"))) return is > 0 && write_decimal(o);
    PyObject* names = dataclass_fields(Py_TYPE(o));
    if (!names) return false;
    if (names != Py_None) return write_dataclass(o, names);
    if ((is = is_instance(o, g.basemodel_type, "pydantic", "BaseModel"))) {
      if (is < 0) return false;
      // The model's own serializer in "json" mode: aliases, field serializers and computed fields
      // as the model defines them, giving plain dicts, lists, str, numbers for us to write.
      PyObject* serializer = PyObject_GetAttr(reinterpret_cast<PyObject*>(Py_TYPE(o)), g.s_serializer);
      if (!serializer) return false;
      nb::object held = nb::steal(serializer);
      PyObject* args[] = {serializer, o, g.s_json};
      nb::object kwnames = nb::steal(PyTuple_Pack(1, g.s_mode));
      if (!kwnames.is_valid()) return false;
      return write_as(o, PyObject_VectorcallMethod(g.s_to_python, args, 2, kwnames.ptr()));
    }
    return write_default(o);
  }

  bool write_default(PyObject* o) {
    if (default_) return write_as(o, PyObject_CallOneArg(default_, o));
    PyErr_Format(g.encode_error, "Object of type %.200s is not JSON serializable", Py_TYPE(o)->tp_name);
    return false;
  }

  fj::Writer& w_;
  PyObject* default_;
  bool sort_keys_;
  bool stdlib_;  // only the stdlib's types: the others go to default()
  bool plain_ = false;
  bool pydantic_ = false;  // plain, as pydantic-core writes it (dumps_plain(pydantic=True))
  static constexpr std::size_t kPydanticDepth = 200;
  std::size_t depth_ = 0;
  std::array<PyObject*, fj::kMaxDepth> stack_;  // left uninitialized: only [0, depth_) is ever read
};

// The output buffer of the last large document, kept for the next (up to kKeptWriterBytes): a fresh
// one would be page-faulted in and regrown every time (measured: ~15% of a 1 MB dumps). A nested
// dumps() (from default(), a model's serializer) finds it taken and uses its own.
struct KeptBuffer {
  char* data = nullptr;
  std::size_t capacity = 0;
  bool busy = false;
};
KeptBuffer kept;
constexpr std::size_t kKeptWriterBytes = 16u << 20;

// The bytes that write(writer) writes, or nullptr with an error set (a plain encoder that gave up
// may have set none).
template <typename Write>
PyObject* write_document(Write&& write) {
  if (!g.encode_error) throw nb::type_error("fasterapi_server._json is used through fasterapi_server.json");
  const bool use_kept = !kept.busy;
  fj::Writer w = use_kept ? fj::Writer(std::exchange(kept.data, nullptr), kept.capacity) : fj::Writer();
  kept.busy = true;
  struct GiveBack {  // on every way out, exceptions included
    fj::Writer& w;
    bool use_kept;
    ~GiveBack() {
      if (!use_kept) return;
      auto [data, capacity] = w.release();
      if (capacity > kKeptWriterBytes) {
        std::free(data);
        data = nullptr;
        capacity = 0;
      }
      kept = {data, capacity, false};
    }
  } give_back{w, use_kept};
  if (!write(w)) return nullptr;
  return PyBytes_FromStringAndSize(w.data(), static_cast<Py_ssize_t>(w.size()));
}

nb::bytes dumps(nb::handle obj, nb::handle default_fn, bool sort_keys, bool stdlib) {
  PyObject* fn = default_fn.is_none() ? nullptr : default_fn.ptr();
  PyObject* out = write_document([&](fj::Writer& w) { return Encoder(w, fn, sort_keys, stdlib).write(obj.ptr()); });
  if (!out) throw nb::python_error();
  return nb::steal<nb::bytes>(out);
}

// What dumps(jsonable_encoder(obj), stdlib=True) gives when obj is made of dict (str keys not
// beginning "_sa"), list, tuple, str, int, finite float, bool and None only (the exact types, no
// subclass), in one pass instead of two; None for anything else, errors included (the caller
// then takes the long way, which gives the same bytes or the same error). pydantic: what
// pydantic-core's to_json writes for the value under an `Any` schema instead (the same bytes for
// these types, but for the keys beginning "_sa" it keeps and the tiny floats it writes otherwise).
nb::object dumps_plain(nb::handle obj, bool pydantic) {
  PyObject* out = write_document([&](fj::Writer& w) { return Encoder(w, Encoder::Plain{pydantic}).write(obj.ptr()); });
  if (!out) {
    PyErr_Clear();
    return nb::none();
  }
  return nb::steal(out);
}

// What a pydantic model's serializer writes for `model` (to_json), for a model whose schema the
// caller found plain (fasterapi: its fields of str, int, float, bool, None and lists of them, no
// serializer, alias or option of its own but the keys'): `fields` maps each field's name to (its
// key as JSON text with the colon after it, the kinds of value it takes: Encoder::Kind). None
// when the instance is not written so: a value of another type (the serializer warns about it),
// a key that is not a field, a field missing, a float pydantic-core writes otherwise (see
// dumps_plain); errors included. The caller then asks pydantic-core.
nb::object dumps_model(nb::handle model, nb::dict fields) {
  nb::object values = nb::steal(PyObject_GenericGetDict(model.ptr(), nullptr));
  if (!values.is_valid()) {
    PyErr_Clear();
    return nb::none();
  }
  PyObject* out = write_document(
      [&](fj::Writer& w) { return Encoder(w, Encoder::Plain{true}).write_model(values.ptr(), fields.ptr()); });
  if (!out) {
    PyErr_Clear();
    return nb::none();
  }
  return nb::steal(out);
}

// Once per import of fasterapi_server.json (again on a reload, which replaces them).
void register_python_side(nb::handle decode_error, nb::handle exact_loads, nb::handle encode_error) {
  for (auto [slot, value] : {std::pair{&g.decode_error, decode_error}, std::pair{&g.exact_loads, exact_loads},
                             std::pair{&g.encode_error, encode_error}}) {
    PyObject* old = *slot;
    *slot = value.inc_ref().ptr();
    Py_XDECREF(old);
  }
}

}  // namespace
}  // namespace fasterapi_server_json_binding

NB_MODULE(_json, m) {
  using namespace fasterapi_server_json_binding;
  namespace fs = fasterapi_server_json_binding;
  m.doc() = "Native JSON codec of fasterapi_server (use fasterapi_server.json)";

  PyDateTime_IMPORT;
  if (!PyDateTimeAPI) throw nb::python_error();
  // Deliberately never released: the module needs them for as long as the process lives.
  fs::g.utc = nb::module_::import_("datetime").attr("timezone").attr("utc").inc_ref().ptr();
  fs::g.enum_type = nb::module_::import_("enum").attr("Enum").inc_ref().ptr();
  fs::g.dataclass_names = PyDict_New();
  auto intern = [](const char* s) {
    PyObject* o = PyUnicode_InternFromString(s);
    if (!o) throw nb::python_error();
    return o;
  };
  fs::g.s_value = intern("value");
  fs::g.s_int = intern("int");
  fs::g.s_isoformat = intern("isoformat");
  fs::g.s_dataclass_fields = intern("__dataclass_fields__");
  fs::g.s_field_type = intern("_field_type");
  fs::g.s_serializer = intern("__pydantic_serializer__");
  fs::g.s_to_python = intern("to_python");
  fs::g.s_mode = intern("mode");
  fs::g.s_json = intern("json");

  m.attr("MAX_DEPTH") = fj::kMaxDepth;  // arrays and objects, both ways

  m.def("loads", &fs::loads, nb::arg(),
        nb::sig("def loads(data: bytes | bytearray | memoryview | str, /) -> typing.Any"),
        "Parse one JSON document (RFC 8259, UTF-8) into dict, list, str, int, float, bool and None.");
  m.def("dumps", &fs::dumps, nb::arg().none(), nb::kw_only(), nb::arg("default").none() = nb::none(),
        nb::arg("sort_keys") = false, nb::arg("stdlib") = false,
        nb::sig("def dumps(obj: typing.Any, /, *, default: typing.Callable[[typing.Any], typing.Any] | None = None, "
                "sort_keys: bool = False, stdlib: bool = False) -> bytes"),
        "Serialize obj to compact JSON, UTF-8 encoded.");
  m.def("dumps_plain", &fs::dumps_plain, nb::arg().none(), nb::kw_only(), nb::arg("pydantic") = false,
        nb::sig("def dumps_plain(obj: typing.Any, /, *, pydantic: bool = False) -> bytes | None"),
        "dumps(obj, stdlib=True) for a value of plain JSON types only (exact dict with str keys, list, tuple, "
        "str, int, finite float, bool, None), else None. pydantic=True: what pydantic-core's to_json writes for it "
        "under an Any schema instead, else None.");
  m.def("dumps_model", &fs::dumps_model, nb::arg(), nb::arg(),
        nb::sig("def dumps_model(model: typing.Any, fields: dict[str, tuple[bytes, int]], /) -> bytes | None"),
        "What pydantic-core's to_json writes for a model of plain fields (see fasterapi's model_dump_fields), "
        "or None: the fields' JSON keys and value kinds by name.");
  m.def("_register", &fs::register_python_side, nb::arg("decode_error"), nb::arg("exact_loads"),
        nb::arg("encode_error"), "Called once by fasterapi_server.json with its error types and helpers.");
}
