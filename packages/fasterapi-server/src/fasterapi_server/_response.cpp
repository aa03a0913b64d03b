// The constructor of fasterapi's Response, in native code (fasterapi.responses installs it as
// Response.__init__). A response is made for nearly every request, and most are made the way
// this writes out: a body of str (in UTF-8), bytes or None, of a class with the stock render()
// and init_headers(), no headers given. Made in Python, PlainTextResponse("Hello, World!") took
// two frames (__init__, _default_headers) and about 5,000 instructions, most of them the frames'
// own; 464 ns against 285 here (timeit).
//
// It does what the Python __init__ does, in the same order (the attributes are set in the order
// Python sets them: CPython 3.11 shares the keys of instances whose attributes come in one order,
// and gives a dict of its own to one that differs). Anything else, including every call whose
// arguments it does not take as they are, goes to the Python __init__ with the same arguments:
// its errors are the errors.
//
// NativeInit is a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR): the interpreter calls it with
// the instance first, unbound, as it calls a function defined in the class; `super().__init__`
// and attribute reads through an instance bind it as a method. `__wrapped__` is the Python
// __init__, so that inspect.signature() gives its signature.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <cstddef>
#include <cstring>

namespace {

struct NativeInit {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* python_init;      // Response.__init__ as written in Python: the fallback
  PyObject* owner;            // Response
  PyObject* render;           // Response.render and
  PyObject* init_headers;     // Response.init_headers: a class with its own takes the fallback
  // fasterapi.responses' globals, read at each call as the Python code reads them: _UTF8_TYPES
  // ({media type: its content-type header in UTF-8}), _CONTENT_LENGTHS ({size: its content-length
  // header}), _content_length(size) (the header, kept) and _default_headers(body, status, media
  // type, charset).
  PyObject* globals;
};

// Interned once, never released.
PyObject *s_content, *s_status_code, *s_headers, *s_media_type, *s_background, *s_body, *s_raw_headers,
    *s_charset, *s_encode, *s_render, *s_init_headers, *s_utf8, *s_utf8_types, *s_content_lengths,
    *s_content_length, *s_default_headers;
PyObject* status_200;  // the int 200, the default status

enum Arg : int { kContent, kStatus, kHeaders, kMediaType, kBackground, kArgs };

PyObject* fallback(NativeInit* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  return PyObject_Vectorcall(self->python_init, args, nargsf, kwnames);
}

// The keyword's index, or -1 for a name __init__ does not take.
int keyword_index(PyObject* name) {
  PyObject* const names[kArgs] = {s_content, s_status_code, s_headers, s_media_type, s_background};
  for (int i = 0; i < kArgs; ++i) {
    if (name == names[i]) return i;
  }
  for (int i = 0; i < kArgs; ++i) {
    if (PyUnicode_Check(name) && PyUnicode_Compare(name, names[i]) == 0) return i;
  }
  return -1;
}

// A global of fasterapi.responses (borrowed), or null with NameError, as Python raises it.
PyObject* global(NativeInit* self, PyObject* name) {
  PyObject* value = PyDict_GetItemWithError(self->globals, name);
  if (value == nullptr && !PyErr_Occurred()) PyErr_Format(PyExc_NameError, "name '%U' is not defined", name);
  return value;
}

// charset == "utf-8" for an exact str (the class attribute is not the interned one: compared by
// its characters, without PyUnicode_Compare's generic way).
bool is_utf8(PyObject* charset) {
  if (charset == s_utf8) return true;
  return PyUnicode_CheckExact(charset) && PyUnicode_GET_LENGTH(charset) == 5 &&
         PyUnicode_KIND(charset) == PyUnicode_1BYTE_KIND && std::memcmp(PyUnicode_1BYTE_DATA(charset), "utf-8", 5) == 0;
}

// What _default_headers gives for a 200 in UTF-8 of a media type seen before; null without an
// error when it would take another way (then it is called).
PyObject* common_headers(NativeInit* self, PyObject* body, PyObject* status, PyObject* media_type, PyObject* charset) {
  if (!PyLong_CheckExact(status) || !PyBytes_CheckExact(body) || !is_utf8(charset) ||
      (media_type != Py_None && !PyUnicode_CheckExact(media_type))) {
    return nullptr;
  }
  int overflow = 0;
  if (PyLong_AsLongAndOverflow(status, &overflow) != 200 || overflow) {
    PyErr_Clear();
    return nullptr;
  }
  PyObject* utf8_types = global(self, s_utf8_types);
  if (utf8_types == nullptr) return nullptr;
  if (!PyDict_CheckExact(utf8_types)) return nullptr;  // (not as written: _default_headers reads it)
  PyObject* known_type = PyDict_GetItemWithError(utf8_types, media_type);  // borrowed
  if (known_type == nullptr) return nullptr;  // (or an error, which the caller sees)
  PyObject* content_lengths = global(self, s_content_lengths);
  if (content_lengths == nullptr || !PyDict_CheckExact(content_lengths)) return nullptr;
  PyObject* size = PyLong_FromSsize_t(PyBytes_GET_SIZE(body));
  if (size == nullptr) return nullptr;
  PyObject* length = PyDict_GetItemWithError(content_lengths, size);  // `.get(size) or _content_length(size)`
  if (length != nullptr && PyObject_IsTrue(length) > 0) {
    Py_INCREF(length);
  } else {
    length = nullptr;
    PyObject* make = PyErr_Occurred() ? nullptr : global(self, s_content_length);
    if (make != nullptr) length = PyObject_CallOneArg(make, size);
  }
  Py_DECREF(size);
  if (length == nullptr) return nullptr;
  PyObject* list = PyList_New(2);
  if (list == nullptr) {
    Py_DECREF(length);
    return nullptr;
  }
  PyList_SET_ITEM(list, 0, length);
  Py_INCREF(known_type);
  PyList_SET_ITEM(list, 1, known_type);
  return list;
}

// Response.__init__ for a body of str, bytes or None: the attributes Python would set, in its
// order (render() gives bytes as they are, and b"" for None).
PyObject* init_plain(NativeInit* self, PyObject* response, PyObject* const* a) {
  if (PyObject_SetAttr(response, s_status_code, a[kStatus]) < 0) return nullptr;
  if (a[kMediaType] != Py_None && PyObject_SetAttr(response, s_media_type, a[kMediaType]) < 0) return nullptr;
  if (PyObject_SetAttr(response, s_background, a[kBackground]) < 0) return nullptr;
  PyObject* charset = PyObject_GetAttr(response, s_charset);
  if (charset == nullptr) return nullptr;
  PyObject* content = a[kContent];
  PyObject* body = nullptr;
  if (content == Py_None) {
    body = PyBytes_FromStringAndSize(nullptr, 0);
  } else if (PyBytes_CheckExact(content)) {
    body = Py_NewRef(content);
  } else {
    body = is_utf8(charset) ? PyUnicode_AsUTF8String(content) : PyObject_CallMethodOneArg(content, s_encode, charset);
  }
  if (body == nullptr || PyObject_SetAttr(response, s_body, body) < 0) {
    Py_XDECREF(body);
    Py_DECREF(charset);
    return nullptr;
  }
  PyObject* media_type = PyObject_GetAttr(response, s_media_type);
  PyObject* headers = nullptr;
  if (media_type != nullptr) {
    headers = common_headers(self, body, a[kStatus], media_type, charset);
    if (headers == nullptr && !PyErr_Occurred()) {
      PyObject* call[4] = {body, a[kStatus], media_type, charset};
      PyObject* default_headers = global(self, s_default_headers);
      if (default_headers != nullptr) headers = PyObject_Vectorcall(default_headers, call, 4, nullptr);
    }
    Py_DECREF(media_type);
  }
  Py_DECREF(body);
  Py_DECREF(charset);
  if (headers == nullptr) return nullptr;
  const int set = PyObject_SetAttr(response, s_raw_headers, headers);
  Py_DECREF(headers);
  if (set < 0) return nullptr;
  Py_RETURN_NONE;
}

PyObject* native_init_call(PyObject* callable, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<NativeInit*>(callable);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs < 1 || nargs > 1 + kArgs) return fallback(self, args, nargsf, kwnames);
  PyObject* response = args[0];
  if (!PyObject_TypeCheck(response, reinterpret_cast<PyTypeObject*>(self->owner))) {
    return fallback(self, args, nargsf, kwnames);
  }
  PyObject* a[kArgs] = {Py_None, status_200, Py_None, Py_None, Py_None};
  bool given[kArgs] = {};
  for (Py_ssize_t i = 1; i < nargs; ++i) {
    a[i - 1] = args[i];
    given[i - 1] = true;
  }
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    const int i = keyword_index(PyTuple_GET_ITEM(kwnames, k));
    if (i < 0 || given[i]) return fallback(self, args, nargsf, kwnames);  // (Python's TypeError)
    a[i] = args[nargs + k];
    given[i] = true;
  }
  PyObject* content = a[kContent];
  if (a[kHeaders] != Py_None ||
      !(PyUnicode_CheckExact(content) || PyBytes_CheckExact(content) || content == Py_None)) {
    return fallback(self, args, nargsf, kwnames);
  }
  auto* cls = Py_TYPE(response);
  if (_PyType_Lookup(cls, s_render) != self->render || _PyType_Lookup(cls, s_init_headers) != self->init_headers) {
    return fallback(self, args, nargsf, kwnames);
  }
  // For bytes and None, Python's init_headers() reads the body and the status back from the
  // instance: a class attribute of either name (a property) could give them otherwise.
  if (!PyUnicode_CheckExact(content) &&
      (_PyType_Lookup(cls, s_body) != nullptr || _PyType_Lookup(cls, s_status_code) != nullptr)) {
    return fallback(self, args, nargsf, kwnames);
  }
  return init_plain(self, response, a);
}

// Bound through an instance (super().__init__, response.__init__), as a function is.
PyObject* native_init_get(PyObject* self, PyObject* obj, PyObject* /*type*/) {
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

PyObject* native_init_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"python_init", "owner", "render", "init_headers", "globals", nullptr};
  PyObject *python_init, *owner, *render, *init_headers, *globals;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "$OO!OOO!:NativeInit", const_cast<char**>(names), &python_init,
                                   &PyType_Type, &owner, &render, &init_headers, &PyDict_Type, &globals)) {
    return nullptr;
  }
  if (!PyCallable_Check(python_init)) {
    PyErr_SetString(PyExc_TypeError, "NativeInit: python_init must be callable");
    return nullptr;
  }
  auto* self = reinterpret_cast<NativeInit*>(type->tp_alloc(type, 0));
  if (self == nullptr) return nullptr;
  self->vectorcall = native_init_call;
  self->python_init = Py_NewRef(python_init);
  self->owner = Py_NewRef(owner);
  self->render = Py_NewRef(render);
  self->init_headers = Py_NewRef(init_headers);
  self->globals = Py_NewRef(globals);
  return reinterpret_cast<PyObject*>(self);
}

int native_init_traverse(PyObject* o, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<NativeInit*>(o);
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(self->python_init);
  Py_VISIT(self->owner);
  Py_VISIT(self->render);
  Py_VISIT(self->init_headers);
  Py_VISIT(self->globals);
  return 0;
}

int native_init_clear(PyObject* o) {
  auto* self = reinterpret_cast<NativeInit*>(o);
  Py_CLEAR(self->python_init);
  Py_CLEAR(self->owner);
  Py_CLEAR(self->render);
  Py_CLEAR(self->init_headers);
  Py_CLEAR(self->globals);
  return 0;
}

void native_init_dealloc(PyObject* o) {
  PyTypeObject* type = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  native_init_clear(o);
  type->tp_free(o);
  Py_DECREF(type);
}

// __name__, __qualname__ and __doc__ are the Python __init__'s.
PyObject* python_init_attr(PyObject* o, void* name) {
  auto* self = reinterpret_cast<NativeInit*>(o);
  if (self->python_init == nullptr) {
    PyErr_SetString(PyExc_AttributeError, static_cast<const char*>(name));
    return nullptr;
  }
  return PyObject_GetAttrString(self->python_init, static_cast<const char*>(name));
}

PyGetSetDef native_init_getset[] = {
    {"__name__", python_init_attr, nullptr, nullptr, const_cast<char*>("__name__")},
    {"__qualname__", python_init_attr, nullptr, nullptr, const_cast<char*>("__qualname__")},
    {"__doc__", python_init_attr, nullptr, nullptr, const_cast<char*>("__doc__")},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMemberDef native_init_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(NativeInit, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(NativeInit, python_init), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot native_init_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(native_init_new)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(native_init_get)},
    {Py_tp_traverse, reinterpret_cast<void*>(native_init_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(native_init_clear)},
    {Py_tp_dealloc, reinterpret_cast<void*>(native_init_dealloc)},
    {Py_tp_getset, native_init_getset},
    {Py_tp_members, native_init_members},
    {0, nullptr},
};

PyType_Spec native_init_spec = {
    "fasterapi_server._response.NativeInit",
    sizeof(NativeInit),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    native_init_slots,
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_response",
    "The native constructor of fasterapi's Response (installed by fasterapi.responses).",
    -1,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

bool intern(PyObject*& slot, const char* s) {
  slot = PyUnicode_InternFromString(s);
  return slot != nullptr;
}

}  // namespace

PyMODINIT_FUNC PyInit__response() {
  if (!intern(s_content, "content") || !intern(s_status_code, "status_code") || !intern(s_headers, "headers") ||
      !intern(s_media_type, "media_type") || !intern(s_background, "background") || !intern(s_body, "body") ||
      !intern(s_raw_headers, "raw_headers") || !intern(s_charset, "charset") || !intern(s_encode, "encode") ||
      !intern(s_render, "render") || !intern(s_init_headers, "init_headers") || !intern(s_utf8, "utf-8") ||
      !intern(s_utf8_types, "_UTF8_TYPES") || !intern(s_content_lengths, "_CONTENT_LENGTHS") ||
      !intern(s_content_length, "_content_length") || !intern(s_default_headers, "_default_headers")) {
    return nullptr;
  }
  status_200 = PyLong_FromLong(200);
  if (status_200 == nullptr) return nullptr;
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) return nullptr;
  PyObject* type = PyType_FromSpec(&native_init_spec);
  if (type == nullptr || PyModule_AddObject(module, "NativeInit", type) < 0) {
    Py_XDECREF(type);
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
