// Native parts of fasterapi's request path: JsonShape and PathBegin (below), and the constructor
// of Response (fasterapi.responses installs it as Response.__init__). A response is made for nearly every
// request, and most are made the way this writes out: a body of str (in UTF-8), bytes or None, of a class with the stock render()
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

// What the types here share: the objects each holds (Held<T>::fields, null or a reference),
// visited, cleared and released alike.
template <typename T>
struct Held;

template <typename T>
int held_traverse(PyObject* o, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(o));
  for (PyObject* T::*field : Held<T>::fields) Py_VISIT(reinterpret_cast<T*>(o)->*field);
  return 0;
}

template <typename T>
int held_clear(PyObject* o) {
  for (PyObject* T::*field : Held<T>::fields) {
    PyObject*& slot = reinterpret_cast<T*>(o)->*field;
    Py_CLEAR(slot);
  }
  return 0;
}

template <typename T>
void held_dealloc(PyObject* o) {
  PyTypeObject* type = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  held_clear<T>(o);
  type->tp_free(o);
  Py_DECREF(type);
}

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

template <>
struct Held<NativeInit> {
  static constexpr PyObject* NativeInit::*fields[] = {&NativeInit::python_init, &NativeInit::owner,
                                                      &NativeInit::render, &NativeInit::init_headers,
                                                      &NativeInit::globals};
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
PyObject* global(PyObject* globals, PyObject* name) {
  PyObject* value = PyDict_GetItemWithError(globals, name);
  if (value == nullptr && !PyErr_Occurred()) PyErr_Format(PyExc_NameError, "name '%U' is not defined", name);
  return value;
}

// A call of a global of fasterapi.responses with one argument, the global held for the call (the
// call could rebind it).
PyObject* call_global(PyObject* function, PyObject* arg) {
  Py_INCREF(function);
  PyObject* result = PyObject_CallOneArg(function, arg);
  Py_DECREF(function);
  return result;
}

// `_CONTENT_LENGTHS.get(len(body)) or _content_length(len(body))`: the content-length header of
// a body of bytes (a new reference), or null (an error, or without one when _CONTENT_LENGTHS is
// not a dict, which the caller's Python way reads as it is).
PyObject* content_length(PyObject* globals, PyObject* body) {
  PyObject* content_lengths = global(globals, s_content_lengths);
  if (content_lengths == nullptr || !PyDict_CheckExact(content_lengths)) return nullptr;
  PyObject* size = PyLong_FromSsize_t(PyBytes_GET_SIZE(body));
  if (size == nullptr) return nullptr;
  PyObject* length = Py_XNewRef(PyDict_GetItemWithError(content_lengths, size));
  if (length == nullptr || PyObject_IsTrue(length) <= 0) {
    Py_CLEAR(length);
    PyObject* make = PyErr_Occurred() ? nullptr : global(globals, s_content_length);
    if (make != nullptr) length = call_global(make, size);
  }
  Py_DECREF(size);
  return length;
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
  PyObject* utf8_types = global(self->globals, s_utf8_types);
  if (utf8_types == nullptr) return nullptr;
  if (!PyDict_CheckExact(utf8_types)) return nullptr;  // (not as written: _default_headers reads it)
  // (held: content_length() may call Python, which may change the dict)
  PyObject* known_type = Py_XNewRef(PyDict_GetItemWithError(utf8_types, media_type));
  if (known_type == nullptr) return nullptr;  // (or an error, which the caller sees)
  PyObject* length = content_length(self->globals, body);
  PyObject* list = length == nullptr ? nullptr : PyList_New(2);
  if (list == nullptr) {
    Py_XDECREF(length);
    Py_DECREF(known_type);
    return nullptr;
  }
  PyList_SET_ITEM(list, 0, length);
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
      PyObject* default_headers = global(self->globals, s_default_headers);
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
    {Py_tp_traverse, reinterpret_cast<void*>(held_traverse<NativeInit>)},
    {Py_tp_clear, reinterpret_cast<void*>(held_clear<NativeInit>)},
    {Py_tp_dealloc, reinterpret_cast<void*>(held_dealloc<NativeInit>)},
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

// ---- JsonShape: the response of an endpoint's JSON result, for the common cases

// fasterapi.routing's shape(raw, request, background=None, sub=None) for a route whose result is
// written as JSON with a fixed status (fasterapi.responses.native_json_shape tells when), called
// without background tasks or a sub-response: plain JSON data (a route without a response model,
// or one whose model takes plain data as it is: `-> dict[str, Any]`) written by the native writer,
// and an instance of exactly the route's plain response model, written by its dumps_model. The
// response is json_bytes_response()'s, made here. What the writers give up on and any other
// result go to `rest(raw, request)`, the rest of the Python shape's way; a Response, other
// arguments, or a guarded function patched, to the Python shape itself. A `GET /json` of the
// server's bench skips three Python frames (shape, plain_model_json_response, json_bytes_response).
struct JsonShape {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* shape;          // the Python shape(raw, request, background, sub)
  PyObject* rest;           // rest(raw, request): shape's way for what is not written here
  PyObject* response_type;  // Response (fasterapi.responses' when made): a result that is one is shape's
  PyObject* status;         // the route's status code (an int)
  PyObject* plain_types;    // a tuple: the outer types written as plain data (empty: any), or null
  PyObject* model_type;     // the plain response model, or null
  PyObject* model_fields;   // its fields, for dumps_model
  PyObject* dumps_model;    // dumps_model(raw, model_fields): bytes, or None when it gives up
  PyObject* dump_model;     // dump_model(raw): the serializer's bytes, for what dumps_model gives up on
  PyObject* guards;         // a tuple of (type or module, name, value): each must still be so, or null
  // fasterapi.responses' globals, read at each call as its Python code reads them: Response,
  // _new_object, _JSON_TYPE, _CONTENT_LENGTHS, _content_length, _native_dumps_plain (the writer,
  // fasterapi_server.json.dumps_plain; None before it is loaded: then the shape loads it)
  PyObject* globals;
  bool pydantic;   // _native_dumps_plain(raw, pydantic=True): as pydantic-core writes plain data
  bool sized;      // the status takes a body: a content-length header
  bool plain_new;  // object.__new__(response_type) is object's own allocation (checked once)
  bool plain_isinstance;  // Response's metaclass is type: no __instancecheck__ of its own
  bool model_own_class;   // the model's instances give it as their __class__ (own_class)
};

template <>
struct Held<JsonShape> {
  static constexpr PyObject* JsonShape::*fields[] = {
      &JsonShape::shape,        &JsonShape::rest,        &JsonShape::response_type, &JsonShape::status,
      &JsonShape::plain_types,  &JsonShape::model_type,  &JsonShape::model_fields,  &JsonShape::dumps_model,
      &JsonShape::dump_model,   &JsonShape::guards,      &JsonShape::globals};
};

PyObject *s_response, *s_json_type, *s_new_object, *s_application_json, *s_pydantic, *s_native_dumps_plain,
    *s_json_bytes_response, *s_getattribute, *s_dunder_class;
PyObject* kw_pydantic;  // ("pydantic",)
PyObject* object_new;   // object.__new__
PyObject* empty_tuple;

PyObject* shape_fallback(JsonShape* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  return PyObject_Vectorcall(self->shape, args, nargsf, kwnames);
}

PyObject* shape_rest(JsonShape* self, PyObject* const* args) {
  return PyObject_Vectorcall(self->rest, args, 2, nullptr);
}

// `_CONTENT_LENGTHS.get(size) or _content_length(size)` for any _CONTENT_LENGTHS, as Python reads it.
PyObject* content_length_any(PyObject* globals, PyObject* body) {
  PyObject* length = content_length(globals, body);  // (a dict)
  if (length != nullptr || PyErr_Occurred()) return length;
  PyObject* table = global(globals, s_content_lengths);
  PyObject* size = table == nullptr ? nullptr : PyLong_FromSsize_t(PyBytes_GET_SIZE(body));
  if (size == nullptr) return nullptr;
  Py_INCREF(table);
  length = PyObject_CallMethod(table, "get", "O", size);
  Py_DECREF(table);
  const int found = length == nullptr ? -1 : PyObject_IsTrue(length);
  if (found == 0) {
    Py_CLEAR(length);
    PyObject* make = global(globals, s_content_length);
    if (make != nullptr) length = call_global(make, size);
  } else if (found < 0) {
    Py_CLEAR(length);
  }
  Py_DECREF(size);
  return length;
}

// json_bytes_response(body, status) of fasterapi.responses, reading its globals as it does, in
// its order.
PyObject* json_bytes_response(JsonShape* self, PyObject* body) {
  PyObject* new_object = global(self->globals, s_new_object);
  PyObject* response_type = new_object == nullptr ? nullptr : global(self->globals, s_response);
  if (response_type == nullptr) return nullptr;
  PyObject* response;
  if (new_object == object_new && response_type == self->response_type && self->plain_new) {
    response = PyBaseObject_Type.tp_new(reinterpret_cast<PyTypeObject*>(response_type), empty_tuple, nullptr);
  } else {
    Py_INCREF(response_type);
    response = call_global(new_object, response_type);
    Py_DECREF(response_type);
  }
  if (response == nullptr) return nullptr;
  if (PyObject_SetAttr(response, s_status_code, self->status) < 0 ||
      PyObject_SetAttr(response, s_media_type, s_application_json) < 0 ||
      PyObject_SetAttr(response, s_background, Py_None) < 0 || PyObject_SetAttr(response, s_body, body) < 0) {
    Py_DECREF(response);
    return nullptr;
  }
  // [length, _JSON_TYPE] (_JSON_TYPE read last, as Python's list display reads it), or [_JSON_TYPE]
  PyObject* length = nullptr;
  if (self->sized && (length = content_length_any(self->globals, body)) == nullptr) {
    Py_DECREF(response);
    return nullptr;
  }
  PyObject* json_type = global(self->globals, s_json_type);
  PyObject* headers = json_type == nullptr ? nullptr : PyList_New(length != nullptr ? 2 : 1);
  if (headers == nullptr) {
    Py_XDECREF(length);
    Py_DECREF(response);
    return nullptr;
  }
  if (length != nullptr) PyList_SET_ITEM(headers, 0, length);
  PyList_SET_ITEM(headers, length != nullptr ? 1 : 0, Py_NewRef(json_type));
  const int set = PyObject_SetAttr(response, s_raw_headers, headers);
  Py_DECREF(headers);
  if (set < 0) {
    Py_DECREF(response);
    return nullptr;
  }
  return response;
}

// Whether every guard still holds: the attribute `name` of a type (looked up as Python does) or of
// a module (its dict) is `value`.
bool guards_hold(JsonShape* self) {
  if (self->guards == nullptr) return true;
  for (Py_ssize_t i = 0, n = PyTuple_GET_SIZE(self->guards); i < n; ++i) {
    PyObject* guard = PyTuple_GET_ITEM(self->guards, i);
    PyObject* target = PyTuple_GET_ITEM(guard, 0);
    PyObject* name = PyTuple_GET_ITEM(guard, 1);
    PyObject* now;
    if (PyType_Check(target)) {
      now = _PyType_Lookup(reinterpret_cast<PyTypeObject*>(target), name);
    } else {
      now = PyDict_GetItemWithError(PyModule_GetDict(target), name);
      if (now == nullptr) PyErr_Clear();
    }
    if (now != PyTuple_GET_ITEM(guard, 2)) return false;
  }
  return true;
}

// Whether a type's instances give their type as __class__: attribute reads as object's, or
// through a __getattr__ that only runs when they fail, and object's __class__.
bool own_class(PyTypeObject* type) {
  static PyObject* const getattribute = _PyType_Lookup(&PyBaseObject_Type, s_getattribute);
  static PyObject* const dunder_class = _PyType_Lookup(&PyBaseObject_Type, s_dunder_class);
  return _PyType_Lookup(type, s_getattribute) == getattribute && _PyType_Lookup(type, s_dunder_class) == dunder_class;
}

// isinstance(raw, Response): the type's subclass check, and for anything else Python's
// isinstance (which asks __class__, and a metaclass's __instancecheck__), except where the answer
// is known: JSON's built-in types (whose __class__ is their type), and the route's model when its
// __class__ is its own (own_class, asked once).
int is_a_response(JsonShape* self, PyObject* raw) {
  if (PyObject_TypeCheck(raw, reinterpret_cast<PyTypeObject*>(self->response_type))) return 1;
  if (self->plain_isinstance) {
    if (PyDict_CheckExact(raw) || PyList_CheckExact(raw) || PyUnicode_CheckExact(raw) || PyLong_CheckExact(raw) ||
        PyFloat_CheckExact(raw) || PyTuple_CheckExact(raw) || PyBool_Check(raw) || raw == Py_None) {
      return 0;
    }
    if (self->model_own_class && reinterpret_cast<PyObject*>(Py_TYPE(raw)) == self->model_type) return 0;
  }
  return PyObject_IsInstance(raw, self->response_type);
}

bool is_plain_type(JsonShape* self, PyObject* type) {
  const Py_ssize_t n = PyTuple_GET_SIZE(self->plain_types);
  if (n == 0) return true;
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (PyTuple_GET_ITEM(self->plain_types, i) == type) return true;
  }
  return false;
}

PyObject* json_shape_call(PyObject* callable, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<JsonShape*>(callable);
  // (raw, request[, background[, sub]]): background tasks or a sub-response are the shape's
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs < 2 || nargs > 4 || kwnames != nullptr || (nargs > 2 && args[2] != Py_None) ||
      (nargs > 3 && args[3] != Py_None)) {
    return shape_fallback(self, args, nargsf, kwnames);
  }
  // isinstance(raw, Response) as Python asks it (a proxy's __class__ too): a Response is shape's
  const int is_response = is_a_response(self, args[0]);
  if (is_response < 0) return nullptr;
  if (is_response || !guards_hold(self)) return shape_fallback(self, args, nargsf, kwnames);
  PyObject* raw = args[0];
  auto* type = reinterpret_cast<PyObject*>(Py_TYPE(raw));
  PyObject* body;
  if (self->plain_types != nullptr && is_plain_type(self, type)) {
    PyObject* dumps_plain = global(self->globals, s_native_dumps_plain);
    if (dumps_plain == nullptr) return nullptr;
    if (dumps_plain == Py_None) return shape_fallback(self, args, nargsf, kwnames);
    Py_INCREF(dumps_plain);  // (the call may change the globals)
    if (self->pydantic) {
      PyObject* call[2] = {raw, Py_True};
      body = PyObject_Vectorcall(dumps_plain, call, 1, kw_pydantic);
    } else {
      body = PyObject_Vectorcall(dumps_plain, &raw, 1, nullptr);
    }
    Py_DECREF(dumps_plain);
    if (body == Py_None) {  // not plain data after all: the rest of the way
      Py_DECREF(body);
      return shape_rest(self, args);
    }
  } else if (self->model_type != nullptr && type == self->model_type) {
    PyObject* call[2] = {raw, self->model_fields};
    body = PyObject_Vectorcall(self->dumps_model, call, 2, nullptr);
    if (body == Py_None) {  // the serializer writes what the writer gives up on
      Py_DECREF(body);
      body = PyObject_Vectorcall(self->dump_model, &raw, 1, nullptr);
    }
  } else {
    return shape_rest(self, args);
  }
  if (body == nullptr) return nullptr;  // (the writer's error, as shape() would raise it)
  PyObject* response;
  if (PyBytes_CheckExact(body)) {
    response = json_bytes_response(self, body);
  } else {  // (a patched writer's answer: the Python json_bytes_response takes it as it is)
    PyObject* python = global(self->globals, s_json_bytes_response);
    PyObject* call[2] = {body, self->status};
    if (python != nullptr) Py_INCREF(python);
    response = python == nullptr ? nullptr : PyObject_Vectorcall(python, call, 2, nullptr);
    Py_XDECREF(python);
  }
  Py_DECREF(body);
  return response;
}

PyObject* json_shape_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"shape",        "rest",        "status_code", "pydantic", "plain_types", "model_type",
                                "model_fields", "dumps_model", "dump_model",  "guards",   "globals",     nullptr};
  PyObject *shape = nullptr, *rest = nullptr, *status = nullptr, *plain_types = Py_None, *model_type = Py_None,
           *model_fields = Py_None, *dumps_model = Py_None, *dump_model = Py_None, *guards = Py_None,
           *globals = nullptr;
  int pydantic = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OOO!pOOOOOOO!:JsonShape", const_cast<char**>(names), &shape,
                                   &rest, &PyLong_Type, &status, &pydantic, &plain_types, &model_type,
                                   &model_fields, &dumps_model, &dump_model, &guards, &PyDict_Type, &globals)) {
    return nullptr;
  }
  if (shape == nullptr || rest == nullptr || status == nullptr || globals == nullptr) {
    PyErr_SetString(PyExc_TypeError, "JsonShape: shape, rest, status_code and globals are required");
    return nullptr;
  }
  if (!PyCallable_Check(shape) || !PyCallable_Check(rest)) {
    PyErr_SetString(PyExc_TypeError, "JsonShape: shape and rest must be callable");
    return nullptr;
  }
  PyObject* response_type = PyDict_GetItemWithError(globals, s_response);
  if (response_type == nullptr || !PyType_Check(response_type)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "JsonShape: globals must hold the Response class");
    return nullptr;
  }
  if (plain_types != Py_None && !PyTuple_CheckExact(plain_types)) {
    PyErr_SetString(PyExc_TypeError, "JsonShape: plain_types must be a tuple or None");
    return nullptr;
  }
  if (model_type != Py_None && (!PyType_Check(model_type) || !PyDict_Check(model_fields) ||
                                !PyCallable_Check(dumps_model) || !PyCallable_Check(dump_model))) {
    PyErr_SetString(PyExc_TypeError, "JsonShape: model_type needs model_fields (a dict), dumps_model and dump_model");
    return nullptr;
  }
  if (guards != Py_None) {
    bool ok = PyTuple_CheckExact(guards);
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(guards); ++i) {
      PyObject* g = PyTuple_GET_ITEM(guards, i);
      ok = PyTuple_CheckExact(g) && PyTuple_GET_SIZE(g) == 3 &&
           (PyType_Check(PyTuple_GET_ITEM(g, 0)) || PyModule_Check(PyTuple_GET_ITEM(g, 0))) &&
           PyUnicode_CheckExact(PyTuple_GET_ITEM(g, 1));
    }
    if (!ok) {
      PyErr_SetString(PyExc_TypeError, "JsonShape: guards must be a tuple of (type or module, name, value)");
      return nullptr;
    }
  }
  int overflow = 0;
  const long code = PyLong_AsLongAndOverflow(status, &overflow);
  if (code == -1 && PyErr_Occurred()) return nullptr;
  auto* self = reinterpret_cast<JsonShape*>(type->tp_alloc(type, 0));
  if (self == nullptr) return nullptr;
  auto held = [](PyObject* o) { return o == Py_None ? nullptr : Py_NewRef(o); };
  const bool model = model_type != Py_None;
  self->vectorcall = json_shape_call;
  self->shape = Py_NewRef(shape);
  self->rest = Py_NewRef(rest);
  self->response_type = Py_NewRef(response_type);
  self->status = Py_NewRef(status);
  self->plain_types = held(plain_types);
  self->model_type = model ? Py_NewRef(model_type) : nullptr;
  self->model_fields = model ? Py_NewRef(model_fields) : nullptr;
  self->dumps_model = model ? Py_NewRef(dumps_model) : nullptr;
  self->dump_model = model ? Py_NewRef(dump_model) : nullptr;
  self->guards = held(guards);
  self->globals = Py_NewRef(globals);
  self->pydantic = pydantic != 0;
  // json_bytes_response: `status_code < 200 or status_code in (204, 304)` has no content-length
  self->sized = overflow > 0 || (!overflow && code >= 200 && code != 204 && code != 304);
  self->plain_isinstance = Py_IS_TYPE(response_type, &PyType_Type);
  self->model_own_class = model && own_class(reinterpret_cast<PyTypeObject*>(model_type));
  // Whether object.__new__(Response) takes this class (it refuses one whose C base is not object's,
  // which object's own allocation, called directly, would not): asked once, of object.__new__.
  PyObject* probe = PyObject_CallOneArg(object_new, response_type);
  self->plain_new = probe != nullptr;
  if (probe == nullptr) PyErr_Clear();
  Py_XDECREF(probe);
  return reinterpret_cast<PyObject*>(self);
}

PyMemberDef json_shape_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(JsonShape, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(JsonShape, shape), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot json_shape_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(json_shape_new)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_traverse, reinterpret_cast<void*>(held_traverse<JsonShape>)},
    {Py_tp_clear, reinterpret_cast<void*>(held_clear<JsonShape>)},
    {Py_tp_dealloc, reinterpret_cast<void*>(held_dealloc<JsonShape>)},
    {Py_tp_members, json_shape_members},
    {0, nullptr},
};

PyType_Spec json_shape_spec = {
    "fasterapi_server._response.JsonShape",
    sizeof(JsonShape),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    json_shape_slots,
};

// ---- PathBegin: a route's begin(request, plan) for path parameters alone

// fasterapi.routing's begin(request, plan) for a coroutine endpoint whose parameters are all path
// parameters (its plan's path_readers): each read from request.path_params and validated, and the
// endpoint called with them as keywords, giving its coroutine. What begin does in Python with
// read_path_values (two frames and a dict of values). Anything else goes to the Python begin with
// the same arguments: another plan (dependency_overrides make their own), path_params that are not
// a dict, a parameter that is missing. A value its validator refuses goes to `refused(request,
// index, error)`, which validates the parameters after it and raises the RequestValidationError
// of all the errors, as begin does: each validator is called once.
struct PathBegin {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* begin;             // the Python begin(request, plan)
  PyObject* call;              // the endpoint
  PyObject* readers;           // the plan's path_readers (the list: another plan has another)
  PyObject* lookups;           // a tuple: each parameter's key in path_params
  PyObject* names;             // a tuple: each parameter's name, the endpoint's keywords
  PyObject* validators;        // a tuple: validate(value, from_attributes=True) of each
  PyObject* validation_error;  // pydantic_core.ValidationError: a refused value
  PyObject* refused;           // refused(request, index, error): raises begin's error for it
};

template <>
struct Held<PathBegin> {
  static constexpr PyObject* PathBegin::*fields[] = {
      &PathBegin::begin, &PathBegin::call,       &PathBegin::readers,          &PathBegin::lookups,
      &PathBegin::names, &PathBegin::validators, &PathBegin::validation_error, &PathBegin::refused};
};

PyObject *s_path_readers, *s_path_params, *s_from_attributes;
PyObject* kw_from_attributes;  // ("from_attributes",)

PyObject* begin_fallback(PathBegin* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  return PyObject_Vectorcall(self->begin, args, nargsf, kwnames);
}

constexpr Py_ssize_t kMaxPathParams = 16;

PyObject* path_begin_call(PyObject* callable, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<PathBegin*>(callable);
  if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != nullptr) return begin_fallback(self, args, nargsf, kwnames);
  PyObject* readers = PyObject_GetAttr(args[1], s_path_readers);
  if (readers == nullptr) return nullptr;
  Py_DECREF(readers);  // (compared by identity only)
  if (readers != self->readers) return begin_fallback(self, args, nargsf, kwnames);
  PyObject* params = PyObject_GetAttr(args[0], s_path_params);
  if (params == nullptr) return nullptr;
  const Py_ssize_t n = PyTuple_GET_SIZE(self->names);
  PyObject* raw[kMaxPathParams];  // held: a validator could change the dict
  Py_ssize_t found = 0;
  bool usual = PyDict_CheckExact(params);
  for (; usual && found < n; ++found) {
    PyObject* value = PyDict_GetItemWithError(params, PyTuple_GET_ITEM(self->lookups, found));
    usual = value != nullptr && value != Py_None;
    if (!usual) break;
    raw[found] = Py_NewRef(value);
  }
  Py_DECREF(params);
  if (!usual) {
    for (Py_ssize_t i = 0; i < found; ++i) Py_DECREF(raw[i]);
    if (PyErr_Occurred()) return nullptr;
    return begin_fallback(self, args, nargsf, kwnames);
  }
  PyObject* values[kMaxPathParams];
  Py_ssize_t made = 0;
  for (; made < n; ++made) {
    PyObject* call[2] = {raw[made], Py_True};
    values[made] = PyObject_Vectorcall(PyTuple_GET_ITEM(self->validators, made), call, 1, kw_from_attributes);
    if (values[made] == nullptr) break;
  }
  for (Py_ssize_t i = 0; i < n; ++i) Py_DECREF(raw[i]);
  PyObject* result = nullptr;
  if (made == n) {
    result = PyObject_Vectorcall(self->call, values, 0, self->names);
  } else if (PyErr_ExceptionMatches(self->validation_error)) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != nullptr && value != nullptr) PyException_SetTraceback(value, traceback);
    PyObject* index = PyLong_FromSsize_t(made);
    if (index != nullptr && value != nullptr) {
      PyObject* call[3] = {args[0], index, value};
      result = PyObject_Vectorcall(self->refused, call, 3, nullptr);  // (raises, as begin would)
    }
    Py_XDECREF(index);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
  }
  for (Py_ssize_t i = 0; i < made; ++i) Py_DECREF(values[i]);
  return result;
}

PyObject* path_begin_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"begin",      "call",       "readers", "lookups", "names", "validators",
                                "validation_error", "refused", nullptr};
  PyObject *begin, *call, *readers, *lookups, *kw, *validators, *validation_error, *refused;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OOOO!O!O!O!O:PathBegin", const_cast<char**>(names), &begin,
                                   &call, &readers, &PyTuple_Type, &lookups, &PyTuple_Type, &kw, &PyTuple_Type,
                                   &validators, &PyType_Type, &validation_error, &refused)) {
    return nullptr;
  }
  if (PyTuple_GET_SIZE(args) != 0 || kwargs == nullptr || PyDict_GET_SIZE(kwargs) != 8) {
    PyErr_SetString(PyExc_TypeError, "PathBegin: begin, call, readers, lookups, names, validators, "
                                     "validation_error and refused are required");
    return nullptr;
  }
  const Py_ssize_t n = PyTuple_GET_SIZE(kw);
  bool ok = PyCallable_Check(begin) && PyCallable_Check(call) && PyCallable_Check(refused) && n > 0 &&
            n <= kMaxPathParams &&
            PyTuple_GET_SIZE(lookups) == n && PyTuple_GET_SIZE(validators) == n &&
            PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(validation_error),
                             reinterpret_cast<PyTypeObject*>(PyExc_BaseException));
  for (Py_ssize_t i = 0; ok && i < n; ++i) {
    ok = PyUnicode_CheckExact(PyTuple_GET_ITEM(kw, i)) && PyCallable_Check(PyTuple_GET_ITEM(validators, i));
  }
  if (!ok) {
    PyErr_Format(PyExc_TypeError,
                 "PathBegin: begin, call and refused must be callable; names (1 to %d str), lookups and validators "
                 "(callables) of one length; validation_error an exception type",
                 static_cast<int>(kMaxPathParams));
    return nullptr;
  }
  auto* self = reinterpret_cast<PathBegin*>(type->tp_alloc(type, 0));
  if (self == nullptr) return nullptr;
  self->vectorcall = path_begin_call;
  self->begin = Py_NewRef(begin);
  self->call = Py_NewRef(call);
  self->readers = Py_NewRef(readers);
  self->lookups = Py_NewRef(lookups);
  self->names = Py_NewRef(kw);
  self->validators = Py_NewRef(validators);
  self->validation_error = Py_NewRef(validation_error);
  self->refused = Py_NewRef(refused);
  return reinterpret_cast<PyObject*>(self);
}

PyMemberDef path_begin_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PathBegin, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(PathBegin, begin), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot path_begin_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(path_begin_new)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_traverse, reinterpret_cast<void*>(held_traverse<PathBegin>)},
    {Py_tp_clear, reinterpret_cast<void*>(held_clear<PathBegin>)},
    {Py_tp_dealloc, reinterpret_cast<void*>(held_dealloc<PathBegin>)},
    {Py_tp_members, path_begin_members},
    {0, nullptr},
};

PyType_Spec path_begin_spec = {
    "fasterapi_server._response.PathBegin",
    sizeof(PathBegin),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    path_begin_slots,
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_response",
    "Native parts of fasterapi's request path: Response's constructor, an endpoint's start with path "
    "parameters, and its JSON response.",
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
  if (!intern(s_response, "Response") || !intern(s_json_type, "_JSON_TYPE") || !intern(s_new_object, "_new_object") ||
      !intern(s_application_json, "application/json") || !intern(s_pydantic, "pydantic") ||
      !intern(s_native_dumps_plain, "_native_dumps_plain") ||
      !intern(s_json_bytes_response, "json_bytes_response") || !intern(s_getattribute, "__getattribute__") ||
      !intern(s_dunder_class, "__class__") || !intern(s_path_readers, "path_readers") ||
      !intern(s_path_params, "path_params") || !intern(s_from_attributes, "from_attributes")) {
    return nullptr;
  }
  status_200 = PyLong_FromLong(200);
  kw_pydantic = PyTuple_Pack(1, s_pydantic);
  kw_from_attributes = PyTuple_Pack(1, s_from_attributes);
  empty_tuple = PyTuple_New(0);
  object_new = PyObject_GetAttrString(reinterpret_cast<PyObject*>(&PyBaseObject_Type), "__new__");
  if (status_200 == nullptr || kw_pydantic == nullptr || kw_from_attributes == nullptr || empty_tuple == nullptr || object_new == nullptr) return nullptr;
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) return nullptr;
  const struct {
    const char* name;
    PyType_Spec* spec;
  } types[] = {
      {"NativeInit", &native_init_spec}, {"JsonShape", &json_shape_spec}, {"PathBegin", &path_begin_spec}};
  for (const auto& t : types) {
    PyObject* type = PyType_FromSpec(t.spec);
    if (type == nullptr || PyModule_AddObject(module, t.name, type) < 0) {
      Py_XDECREF(type);
      Py_DECREF(module);
      return nullptr;
    }
  }
  return module;
}
