// Python binding of fasterapi::hpack: type conversion only, the protocol is in the headers.
//
// Speed comes from not building Python objects twice: the static table's names and fields exist
// once per process, and each decoder keeps the HeaderTuple it built for a dynamic entry (by entry
// id, which never names anything else), so a warm connection's indexed fields cost one INCREF.
#include <nanobind/nanobind.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fasterapi/hpack/hpack.hpp"

namespace nb = nanobind;
namespace fh = fasterapi::hpack;

// Bound types live in a namespace of this package's own (nanobind's registry is shared).
namespace fasterapi_hpack_binding {
namespace {

constexpr int kStr = 0, kRaw = 1;  // the two forms of a decoded field: str (utf-8) or bytes

struct Globals {
  PyObject* decoding_error = nullptr;
  PyObject* invalid_index = nullptr;
  PyObject* oversized = nullptr;
  PyObject* invalid_size = nullptr;
  PyTypeObject* header_tuple = nullptr;
  PyTypeObject* never_indexed = nullptr;
  PyObject* indexable = nullptr;  // the interned attribute name
  // Index 1..61; [form][index]. Held for the life of the process.
  PyObject* static_name[2][fh::kStaticTableSize + 1] = {};
  PyObject* static_field[2][fh::kStaticTableSize + 1] = {};
};
Globals g;

// A new tuple of class `cls` (a tuple subclass) holding a and b; steals both, even on failure.
PyObject* make_field(PyTypeObject* cls, PyObject* a, PyObject* b) {
  if (!a || !b) {
    Py_XDECREF(a);
    Py_XDECREF(b);
    return nullptr;
  }
#if PY_VERSION_HEX < 0x030E0000
  // What tuple.__new__ does for a subclass, minus the temporary tuple it copies from.
  PyObject* t = cls->tp_alloc(cls, 2);
  if (!t) {
    Py_DECREF(a);
    Py_DECREF(b);
    return nullptr;
  }
  PyTuple_SET_ITEM(t, 0, a);
  PyTuple_SET_ITEM(t, 1, b);
  return t;
#else
  // Tuples cache their hash from 3.14 on: go through tuple.__new__, which initializes it.
  PyObject* args = PyTuple_Pack(2, a, b);
  Py_DECREF(a);
  Py_DECREF(b);
  if (!args) return nullptr;
  PyObject* t = PyTuple_Type.tp_new(cls, args, nullptr);
  Py_DECREF(args);
  return t;
#endif
}

PyObject* make_text(std::string_view s, int form) {
  if (form == kRaw) return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

const char* describe(fh::Errc e) {
  switch (e) {
    case fh::Errc::truncated: return "Truncated header block";
    case fh::Errc::integer_overflow: return "Integer too large or too long";
    case fh::Errc::string_past_end: return "String length runs past the end of the header block";
    case fh::Errc::huffman_eos: return "EOS symbol in a Huffman-coded string";
    case fh::Errc::huffman_padding: return "Invalid padding in a Huffman-coded string";
    case fh::Errc::index_zero: return "Invalid table index 0";
    case fh::Errc::index_out_of_range: return "Invalid table index";
    case fh::Errc::table_size_too_large: return "Encoder exceeded max allowable table size";
    case fh::Errc::table_size_update_misplaced: return "Table size update not at the start of the block";
    case fh::Errc::too_many_table_size_updates: return "More than two table size updates in a block";
    case fh::Errc::table_size_not_reduced: return "Encoder did not shrink table size to within the max";
    case fh::Errc::header_list_too_large: return "A header list larger than the maximum has been received";
    case fh::Errc::none: break;
  }
  return "HPACK decoding error";
}

[[noreturn]] void raise_error(PyObject* cls, const std::string& message, std::string_view code, std::size_t offset) {
  PyErr_Clear();
  const nb::object exc = nb::borrow(cls)(nb::str(message.data(), message.size()),
                                         nb::arg("code") = nb::str(code.data(), code.size()),
                                         nb::arg("offset") = nb::int_(offset));
  PyErr_SetObject(cls, exc.ptr());
  throw nb::python_error();
}

[[noreturn]] void raise_decoding_error(fh::Errc e, std::size_t offset) {
  PyObject* cls = g.decoding_error;
  switch (e) {
    case fh::Errc::index_zero:
    case fh::Errc::index_out_of_range: cls = g.invalid_index; break;
    case fh::Errc::header_list_too_large: cls = g.oversized; break;
    case fh::Errc::table_size_too_large:
    case fh::Errc::table_size_not_reduced: cls = g.invalid_size; break;
    default: break;
  }
  raise_error(cls, std::string(describe(e)) + " (at byte " + std::to_string(offset) + ")", fh::errc_name(e), offset);
}

// The bytes of a bytes, bytearray or other buffer object, for the duration of a call.
class Bytes {
 public:
  explicit Bytes(PyObject* h) {
    if (PyBytes_Check(h)) {
      view_ = {PyBytes_AS_STRING(h), static_cast<std::size_t>(PyBytes_GET_SIZE(h))};
      return;
    }
    if (PyUnicode_Check(h) || PyObject_GetBuffer(h, &buffer_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw nb::type_error((std::string("expected bytes or a buffer, not ") + Py_TYPE(h)->tp_name).c_str());
    }
    held_ = true;
    view_ = {static_cast<const char*>(buffer_.buf), static_cast<std::size_t>(buffer_.len)};
  }
  ~Bytes() {
    if (held_) PyBuffer_Release(&buffer_);
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  const std::uint8_t* data() const noexcept { return reinterpret_cast<const std::uint8_t*>(view_.data()); }
  std::size_t size() const noexcept { return view_.size(); }

 private:
  Py_buffer buffer_{};
  bool held_ = false;
  std::string_view view_;
};

// --- decoder --------------------------------------------------------------------------------------

class Decoder {
 public:
  explicit Decoder(std::size_t max_header_list_size) : core_(fh::kDefaultTableSize, max_header_list_size) {
    items_.reserve(32);
  }
  ~Decoder() {
    for (std::size_t i = 0; i < cache_size_; ++i) {
      Py_XDECREF(cache_[i].field[kStr]);
      Py_XDECREF(cache_[i].field[kRaw]);
    }
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  nb::object decode(nb::handle data, bool raw) {
    const Bytes in(data.ptr());
    const int form = raw ? kRaw : kStr;
    items_.clear();
    bool python_error = false;
    std::size_t bad_utf8 = SIZE_MAX;
    const fh::Errc e = core_.decode(in.data(), in.size(), [&](const fh::Field& f) {
      if (python_error || bad_utf8 != SIZE_MAX) return;  // the block is still read to its end
      PyObject* t = field_object(f, form);
      if (t) {
        items_.push_back(t);
      } else if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        bad_utf8 = f.offset;
      } else {
        python_error = true;
      }
    });
    if (e != fh::Errc::none || python_error || bad_utf8 != SIZE_MAX) {
      for (PyObject* t : items_) Py_DECREF(t);
      items_.clear();
      if (e != fh::Errc::none) raise_decoding_error(e, core_.error_offset());
      if (python_error) throw nb::python_error();
      raise_error(g.decoding_error, "Unable to decode headers as UTF-8", "invalid_utf8", bad_utf8);
    }
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(items_.size()));
    if (!list) {
      for (PyObject* t : items_) Py_DECREF(t);
      items_.clear();
      throw nb::python_error();
    }
    for (std::size_t i = 0; i < items_.size(); ++i) PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), items_[i]);
    items_.clear();
    return nb::steal(list);
  }

  std::uint32_t header_table_size() const { return core_.table().max_size(); }
  void set_header_table_size(std::uint32_t n) { core_.set_table_size(n); }
  std::uint32_t max_allowed_table_size() const { return core_.max_allowed_table_size(); }
  void set_max_allowed_table_size(std::uint32_t n) { core_.set_max_allowed_table_size(n); }
  std::size_t max_header_list_size() const { return core_.max_header_list_size(); }
  void set_max_header_list_size(std::size_t n) { core_.set_max_header_list_size(n); }

 private:
  // The fields built for dynamic entries, by entry id, in a ring of at least as many slots as the
  // table has entries: live entries have consecutive ids, so they never share a slot. The ring starts
  // small (a new connection's first block) and doubles with the table.
  struct Slot {
    std::uint64_t id = fh::kNoEntry;
    PyObject* field[2] = {nullptr, nullptr};
  };
  static constexpr std::size_t kFirstCacheSlots = 16;

  Slot* slot_for(std::uint64_t id) const { return cache_size_ ? &cache_[id & (cache_size_ - 1)] : nullptr; }

  PyObject* cached(std::uint64_t id, int form) const {
    const Slot* s = slot_for(id);
    return s && s->id == id ? s->field[form] : nullptr;
  }

  // Room for every live entry; entries no longer live are dropped on the way.
  void fit_cache() {
    const std::size_t live = core_.table().count();
    if (live <= cache_size_) return;
    std::size_t size = cache_size_ ? cache_size_ : kFirstCacheSlots;
    while (size < live) size *= 2;
    std::unique_ptr<Slot[]> fresh(new Slot[size]);
    for (std::size_t i = 0; i < cache_size_; ++i) {
      Slot& old = cache_[i];
      if (old.id != fh::kNoEntry && core_.table().contains_id(old.id)) {
        fresh[old.id & (size - 1)] = old;
      } else {
        Py_XDECREF(old.field[kStr]);
        Py_XDECREF(old.field[kRaw]);
      }
    }
    cache_ = std::move(fresh);
    cache_size_ = size;
  }

  void remember(std::uint64_t id, int form, PyObject* field) {
    fit_cache();
    Slot& s = *slot_for(id);
    if (s.id != id) {
      Py_CLEAR(s.field[kStr]);
      Py_CLEAR(s.field[kRaw]);
      s.id = id;
    }
    Py_XDECREF(s.field[form]);
    Py_INCREF(field);
    s.field[form] = field;
  }

  // A new reference to the field's tuple, or nullptr with a Python error set.
  PyObject* field_object(const fh::Field& f, int form) {
    if (f.representation == fh::Representation::indexed) {
      if (f.source == fh::Source::static_table) return Py_NewRef(g.static_field[form][f.static_index]);
      if (PyObject* t = cached(f.entry_id, form)) return Py_NewRef(t);
      // One at a time: no Python call may run while the first one's error is pending.
      PyObject* name = make_text(f.name, form);
      if (!name) return nullptr;
      PyObject* t = make_field(g.header_tuple, name, make_text(f.value, form));
      if (t) remember(f.entry_id, form, t);
      return t;
    }
    PyObject* name = nullptr;
    if (f.source == fh::Source::static_table) {
      name = Py_NewRef(g.static_name[form][f.static_index]);
    } else if (PyObject* t = f.source == fh::Source::dynamic_table ? cached(f.entry_id, form) : nullptr) {
      name = Py_NewRef(PyTuple_GET_ITEM(t, 0));
    } else {
      name = make_text(f.name, form);
      if (!name) return nullptr;
    }
    PyTypeObject* cls = f.representation == fh::Representation::never_indexed ? g.never_indexed : g.header_tuple;
    PyObject* t = make_field(cls, name, make_text(f.value, form));
    if (t && f.inserted_id != fh::kNoEntry) remember(f.inserted_id, form, t);
    return t;
  }

  fh::Decoder core_;
  std::unique_ptr<Slot[]> cache_;
  std::size_t cache_size_ = 0;
  std::vector<PyObject*> items_;
};

// --- encoder --------------------------------------------------------------------------------------

// Python objects made while encoding one field (str() of a non-text value), released after it.
class Temporaries {
 public:
  ~Temporaries() { clear(); }
  PyObject* keep(PyObject* o) {
    objects_.push_back(o);
    return o;
  }
  void clear() {
    for (PyObject* o : objects_) Py_DECREF(o);
    objects_.clear();
  }

 private:
  std::vector<PyObject*> objects_;
};

// The octets of a name or value: bytes as they are, str as UTF-8, bytes-like objects copied, any
// other object as the UTF-8 of its str() (python-hpack's rule: an int value becomes its digits).
std::string_view field_text(PyObject* o, Temporaries& temps) {
  if (PyBytes_Check(o)) return {PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))};
  if (!PyUnicode_Check(o)) {
    if (PyObject_CheckBuffer(o)) {
      PyObject* b = PyBytes_FromObject(o);
      if (!b) throw nb::python_error();
      temps.keep(b);
      return {PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b))};
    }
    o = PyObject_Str(o);
    if (!o) throw nb::python_error();
    temps.keep(o);
  }
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(o, &n);
  if (!p) throw nb::python_error();
  return {p, static_cast<std::size_t>(n)};
}

bool truthy(PyObject* o) {
  const int r = PyObject_IsTrue(o);
  if (r < 0) throw nb::python_error();
  return r == 1;
}

class Encoder {
 public:
  explicit Encoder(bool never_index_sensitive)
      : core_(fh::EncoderOptions{.max_table_size = fh::kDefaultTableSize, .never_index_sensitive = never_index_sensitive}) {}

  bool never_index_sensitive() const { return core_.never_index_sensitive(); }

  nb::bytes encode(nb::handle headers, bool huffman) {
    out_.clear();
    core_.begin_block(out_);
    if (PyDict_Check(headers.ptr())) {
      // python-hpack's order: the pseudo-headers (names starting with ':') first, then the rest.
      for (const bool pseudo : {true, false}) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(headers.ptr(), &pos, &key, &value)) {
          const nb::object k = nb::borrow(key), v = nb::borrow(value);  // held while str() may run
          Temporaries temps;
          const std::string_view name = field_text(key, temps);
          if ((!name.empty() && name[0] == ':') != pseudo) continue;
          add_field(name, field_text(value, temps), false, huffman);
        }
      }
    } else {
      const nb::object seq = nb::steal(PySequence_Fast(headers.ptr(), "headers must be a dict or an iterable of tuples"));
      if (!seq.is_valid()) throw nb::python_error();
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.ptr()); ++i) {
        PyObject* item = PySequence_Fast_GET_ITEM(seq.ptr(), i);
        if (encode_plain(item, huffman)) continue;
        const nb::object held = nb::borrow(item);  // str() or an attribute may run code that drops it
        encode_item(item, huffman);
      }
    }
    return nb::bytes(out_.data(), out_.size());
  }

  // python-hpack's Encoder.add: one field, without the pending size updates.
  nb::bytes add(nb::handle to_add, bool sensitive, bool huffman) {
    out_.clear();
    const nb::object seq = nb::steal(PySequence_Fast(to_add.ptr(), "to_add must be a (name, value) tuple"));
    if (!seq.is_valid()) throw nb::python_error();
    if (PySequence_Fast_GET_SIZE(seq.ptr()) != 2) throw nb::value_error("to_add must be a (name, value) tuple");
    Temporaries temps;
    const std::string_view name = field_text(PySequence_Fast_GET_ITEM(seq.ptr(), 0), temps);
    add_field(name, field_text(PySequence_Fast_GET_ITEM(seq.ptr(), 1), temps), sensitive, huffman);
    return nb::bytes(out_.data(), out_.size());
  }

  std::uint32_t header_table_size() const { return core_.max_table_size(); }
  void set_header_table_size(std::int64_t n) {
    if (n < 0 || static_cast<std::uint64_t>(n) > fh::kMaxInteger) {
      throw nb::value_error("header_table_size must be between 0 and 2**32 - 1");
    }
    core_.set_max_table_size(static_cast<std::uint32_t>(n));
  }

 private:
  void add_field(std::string_view name, std::string_view value, bool sensitive, bool huffman) {
    if (name.size() > fh::kMaxInteger || value.size() > fh::kMaxInteger) {
      throw nb::value_error("a header name or value is longer than 2**32 - 1 bytes");
    }
    core_.encode_field(name, value, sensitive, huffman, out_);
  }

  // The common field, with no conversion that could run Python code: a tuple, HeaderTuple or
  // NeverIndexedHeaderTuple of two bytes or str. Returns false, having done nothing, for any other.
  bool encode_plain(PyObject* item, bool huffman) {
    PyTypeObject* type = Py_TYPE(item);
    if ((type != &PyTuple_Type && type != g.header_tuple && type != g.never_indexed) || PyTuple_GET_SIZE(item) != 2) {
      return false;
    }
    std::string_view name, value;
    if (!plain_text(PyTuple_GET_ITEM(item, 0), name) || !plain_text(PyTuple_GET_ITEM(item, 1), value)) return false;
    add_field(name, value, type == g.never_indexed, huffman);
    return true;
  }

  // The octets of a bytes or str object (false for other types, and for a str that cannot be UTF-8).
  static bool plain_text(PyObject* o, std::string_view& out) {
    if (PyBytes_CheckExact(o)) {
      out = {PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))};
      return true;
    }
    if (!PyUnicode_CheckExact(o)) return false;
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(o, &n);
    if (!p) {
      PyErr_Clear();  // the general path raises it again
      return false;
    }
    out = {p, static_cast<std::size_t>(n)};
    return true;
  }

  void encode_item(PyObject* item, bool huffman) {
    Temporaries temps;
    PyObject *name, *value;
    bool sensitive = false;
    if (PyTuple_Check(item)) {
      const Py_ssize_t n = PyTuple_GET_SIZE(item);
      if (n < 2) throw nb::value_error("a header is (name, value) or (name, value, sensitive)");
      name = PyTuple_GET_ITEM(item, 0);
      value = PyTuple_GET_ITEM(item, 1);
      PyTypeObject* type = Py_TYPE(item);
      if (type == &PyTuple_Type) {
        sensitive = n > 2 && truthy(PyTuple_GET_ITEM(item, 2));
      } else if (type == g.header_tuple || type == g.never_indexed) {
        sensitive = type == g.never_indexed;
      } else if (PyObject* indexable = PyObject_GetAttr(item, g.indexable)) {  // e.g. python-hpack's HeaderTuple
        temps.keep(indexable);
        sensitive = !truthy(indexable);
      } else {
        PyErr_Clear();
        sensitive = n > 2 && truthy(PyTuple_GET_ITEM(item, 2));
      }
    } else {
      const nb::object seq = nb::steal(PySequence_Fast(item, "a header is (name, value) or (name, value, sensitive)"));
      if (!seq.is_valid()) throw nb::python_error();
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
      if (n < 2) throw nb::value_error("a header is (name, value) or (name, value, sensitive)");
      name = temps.keep(Py_NewRef(PySequence_Fast_GET_ITEM(seq.ptr(), 0)));
      value = temps.keep(Py_NewRef(PySequence_Fast_GET_ITEM(seq.ptr(), 1)));
      sensitive = n > 2 && truthy(PySequence_Fast_GET_ITEM(seq.ptr(), 2));
    }
    const std::string_view n = field_text(name, temps);
    add_field(n, field_text(value, temps), sensitive, huffman);
  }

  fh::Encoder core_;
  fh::Buffer out_;
};

// --- Huffman --------------------------------------------------------------------------------------

nb::bytes huffman_encode(nb::handle data) {
  const Bytes in(data.ptr());
  const std::string_view s(reinterpret_cast<const char*>(in.data()), in.size());
  PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(fh::huffman::encoded_length(s)));
  if (!out) throw nb::python_error();
  fh::huffman::encode_to(s, reinterpret_cast<std::uint8_t*>(PyBytes_AS_STRING(out)));
  return nb::steal<nb::bytes>(out);
}

nb::bytes huffman_decode(nb::handle data) {
  const Bytes in(data.ptr());
  std::string out(fh::huffman::max_decoded_length(in.size()), '\0');
  const fh::huffman::DecodeResult r = fh::huffman::decode_to(in.data(), in.size(), out.data());
  if (r.error != fh::Errc::none) {
    raise_error(g.decoding_error, std::string(describe(r.error)) + " (at byte " + std::to_string(r.offset) + ")",
                fh::errc_name(r.error), r.offset);
  }
  return nb::bytes(out.data(), r.size);
}

void init_static_objects() {
  for (std::uint32_t i = 1; i <= fh::kStaticTableSize; ++i) {
    const fh::StaticEntry& e = fh::kStaticTable[i - 1];
    for (const int form : {kStr, kRaw}) {
      PyObject* name = make_text(e.name, form);
      if (!name) throw nb::python_error();
      if (form == kStr) PyUnicode_InternInPlace(&name);
      g.static_name[form][i] = name;
      g.static_field[form][i] = make_field(g.header_tuple, Py_NewRef(name), make_text(e.value, form));
      if (!g.static_field[form][i]) throw nb::python_error();
    }
  }
}

}  // namespace
}  // namespace fasterapi_hpack_binding

NB_MODULE(_hpack, m) {
  using namespace fasterapi_hpack_binding;
  m.doc() = "C++ core of fasterapi_hpack (use the fasterapi_hpack package)";

  // Deliberately never released: the module needs them for as long as the process lives.
  const nb::module_ errors = nb::module_::import_("fasterapi_hpack._errors");
  g.decoding_error = errors.attr("HPACKDecodingError").inc_ref().ptr();
  g.invalid_index = errors.attr("InvalidTableIndex").inc_ref().ptr();
  g.oversized = errors.attr("OversizedHeaderListError").inc_ref().ptr();
  g.invalid_size = errors.attr("InvalidTableSizeError").inc_ref().ptr();
  const nb::module_ structs = nb::module_::import_("fasterapi_hpack._struct");
  g.header_tuple = reinterpret_cast<PyTypeObject*>(structs.attr("HeaderTuple").inc_ref().ptr());
  g.never_indexed = reinterpret_cast<PyTypeObject*>(structs.attr("NeverIndexedHeaderTuple").inc_ref().ptr());
  g.indexable = PyUnicode_InternFromString("indexable");
  init_static_objects();

  m.attr("DEFAULT_MAX_HEADER_LIST_SIZE") = fh::kDefaultMaxHeaderListSize;
  m.attr("DEFAULT_HEADER_TABLE_SIZE") = fh::kDefaultTableSize;

  nb::class_<Decoder>(m, "Decoder",
                      "Decodes HPACK header blocks of one connection (python-hpack's Decoder).\n\n"
                      "After a decoding error the decoder is unusable: every later decode() raises.")
      .def(nb::init<std::size_t>(), nb::arg("max_header_list_size") = fh::kDefaultMaxHeaderListSize)
      .def("decode", &Decoder::decode, nb::arg("data"), nb::arg("raw") = false,
           nb::sig("def decode(self, data: bytes | bytearray | memoryview, raw: bool = False) -> "
                   "list[fasterapi_hpack._struct.HeaderTuple]"),
           "Decodes one complete header block into (name, value) tuples: HeaderTuple, or\n"
           "NeverIndexedHeaderTuple for never-indexed fields; str (UTF-8) or, if raw, bytes.")
      .def_prop_rw("header_table_size", &Decoder::header_table_size, &Decoder::set_header_table_size,
                   "The dynamic table's current maximum size (set by the peer's size updates).")
      .def_prop_rw("max_allowed_table_size", &Decoder::max_allowed_table_size, &Decoder::set_max_allowed_table_size,
                   "The SETTINGS_HEADER_TABLE_SIZE we advertised and saw acknowledged: size updates\n"
                   "above it are errors, and a table left above it must be shrunk by the next block.")
      .def_prop_rw("max_header_list_size", &Decoder::max_header_list_size, &Decoder::set_max_header_list_size,
                   "The largest decoded header list accepted: the sum of name + value + 32 per field.");

  nb::class_<Encoder>(m, "Encoder",
                      "Encodes header blocks for one connection (python-hpack's Encoder).\n\n"
                      "With never_index_sensitive (the default), credentials are sent never-indexed even\n"
                      "when not marked: authorization, proxy-authorization, set-cookie, and cookie values\n"
                      "shorter than 20 bytes (RFC 7541 7.1.3). Without it, only the fields the caller\n"
                      "marks are, as in python-hpack.")
      .def(nb::init<bool>(), nb::kw_only(), nb::arg("never_index_sensitive") = true)
      .def("encode", &Encoder::encode, nb::arg("headers"), nb::arg("huffman") = true,
           nb::sig("def encode(self, headers: collections.abc.Mapping[typing.Any, typing.Any] | "
                   "collections.abc.Iterable[tuple[typing.Any, ...]], huffman: bool = True) -> bytes"),
           "Encodes (name, value) or (name, value, sensitive) tuples, HeaderTuple and\n"
           "NeverIndexedHeaderTuple, or a dict (pseudo-headers first), into one header block.\n"
           "Names and values are bytes or str (UTF-8); other values are encoded as their str().")
      .def("add", &Encoder::add, nb::arg("to_add"), nb::arg("sensitive"), nb::arg("huffman") = false,
           nb::sig("def add(self, to_add: tuple[typing.Any, typing.Any], sensitive: bool, huffman: bool = False) -> bytes"),
           "Encodes one field (without pending table size updates) and indexes it as encode() would.")
      .def_prop_rw("header_table_size", &Encoder::header_table_size, &Encoder::set_header_table_size,
                   "The dynamic table's maximum size; setting it sends a size update in the next block.")
      .def_prop_ro("never_index_sensitive", &Encoder::never_index_sensitive,
                   "Whether credentials are sent never-indexed even when the caller does not mark them.");

  m.def("huffman_encode", &huffman_encode, nb::arg("data"),
        nb::sig("def huffman_encode(data: bytes | bytearray | memoryview) -> bytes"),
        "The HPACK Huffman code of data (RFC 7541 Appendix B), padded with ones.");
  m.def("huffman_decode", &huffman_decode, nb::arg("data"),
        nb::sig("def huffman_decode(data: bytes | bytearray | memoryview) -> bytes"),
        "Decodes an HPACK Huffman-coded string; raises HPACKDecodingError on EOS or bad padding.");
}
