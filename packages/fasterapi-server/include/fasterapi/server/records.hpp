// What crosses between the I/O threads and the Python thread: a request (and later its body, its
// disconnect, the news that its response drained) going in, response pieces coming out. Both are
// owned by whoever popped them from the ring. A Stream is the state of one request that both
// sides read: the bytes each has handed to the other and not yet seen consumed, and whether the
// connection is gone.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace fasterapi::server {

struct Stream {
  std::uint64_t id = 0;      // unique in the process: the key of the Python side's waiting requests
  std::uint32_t thread = 0;  // the I/O thread that owns the connection
  std::uint32_t slot = 0;    // the connection's slot there, and its generation (slots are reused)
  std::uint32_t gen = 0;
  std::uint32_t seq = 0;     // the request's number on its connection: responses go out in this order
  bool head_method = false;  // HEAD: the response's body is not sent
  bool http10 = false;
  bool keep_alive = true;
  bool chunked = false;    // the I/O thread's: the streamed response body is chunked
  bool skip_body = false;  // ... or not sent at all (HEAD, 204, 304)

  std::atomic<std::int64_t> out_pending{0};  // response bytes submitted, not yet written
  std::atomic<bool> out_waiting{false};      // the app waits for out_pending to fall
  std::atomic<std::int64_t> in_unread{0};    // request body bytes delivered, not yet consumed
  std::atomic<bool> in_paused{false};        // the connection stopped reading because of them
  std::atomic<bool> closed{false};           // the connection is gone: further output is dropped
};

// Offsets into Inbound::bytes.
struct Span {
  std::uint32_t off = 0;
  std::uint32_t len = 0;
};

// An Inbound's fields that own nothing: what Inbound::reset sets again in one assignment, so that
// a field added here needs no line there.
struct InboundPlain {
  enum class Kind : std::uint8_t {
    request,     // a new request: head, and its body when it was all there
    body,        // more of a streamed request body (empty with more_body false: the end)
    disconnect,  // the connection closed before the response was done
    drained,     // the response bytes fell below the low-water mark
    call,        // run `call` on the Python thread (the executor's completions)
  };
  Kind kind = Kind::request;
  Span method, target, body;  // in Inbound::bytes
  std::int32_t route = -1;    // the engine's route id, or -1: the app routes it
  std::uint32_t tree_route = 0;  // the router's own id of that route (its param names, converters)
  bool more_body = false;
  bool continue_due = false;  // the I/O thread's: "Expect: 100-continue" not yet answered (pipelined)
  bool keep_alive = true;
  std::uint8_t version_minor = 1;
  std::uint16_t peer_port = 0;
  bool proxy_trusted = false;  // the peer may tell the client and scheme (X-Forwarded-*)
  bool tls = false;
  void (*call)(void*) = nullptr;  // call: the function and its argument
  void* arg = nullptr;
};
static_assert(std::is_trivially_copyable_v<InboundPlain>, "a field that owns something goes in Inbound");

struct Inbound : InboundPlain {
  std::shared_ptr<Stream> stream;
  std::string bytes;  // request: method, target, field names and values, params, then the body
  std::vector<Span> fields;  // name, value, name, value...
  std::vector<Span> params;  // the route's captures, in order
  std::string peer_host;

  // As new, its buffers' memory kept (Engine::give_back). The plain fields in one assignment; each
  // owning one here by hand (assigning a fresh record instead, which frees and moves the buffers,
  // cost ~250 instructions a request, callgrind, on every request of an inline engine).
  void reset() noexcept {
    static_cast<InboundPlain&>(*this) = InboundPlain{};
    stream.reset();
    bytes.clear();
    fields.clear();
    params.clear();
    peer_host.clear();
  }

  std::string_view view(Span s) const noexcept { return {bytes.data() + s.off, s.len}; }
  Span append(std::string_view v) {
    const Span s{static_cast<std::uint32_t>(bytes.size()), static_cast<std::uint32_t>(v.size())};
    bytes.append(v);
    return s;
  }
};
// A field added to Inbound itself (one that owns something) changes its size: reset() must empty
// it, and this sum count it.
static_assert(sizeof(Inbound) == sizeof(InboundPlain) + sizeof(std::shared_ptr<Stream>) + 2 * sizeof(std::string) +
                                     2 * sizeof(std::vector<Span>),
              "a field added to Inbound: reset() must empty it (and this count it)");

// The bytes of a file still to send (http.response.pathsend): sendfile(2) on a plain socket,
// read and encrypted on a TLS one. Owns the descriptor.
struct FileRange {
  int fd = -1;
  off_t offset = 0;
  std::size_t left = 0;
  explicit FileRange(int f, std::size_t size) : fd(f), left(size) {}
  FileRange(const FileRange&) = delete;
  FileRange& operator=(const FileRange&) = delete;
  ~FileRange() {
    if (fd >= 0) ::close(fd);
  }
};

// An Outbound's fields that own nothing: what Outbound::reset sets again in one assignment.
struct OutboundPlain {
  enum class Kind : std::uint8_t {
    response,  // a whole response: head and body
    start,     // the head of a streamed response
    chunk,     // a piece of its body
    file,      // a file's bytes as the next piece of its body (`file`)
    end,       // its end
    resume,    // the app consumed request body: read again
    abort,     // close the connection now (the app failed mid-response)
  };
  Kind kind = Kind::response;
  int status = 200;
  // A whole response's body lent by the caller instead of Outbound::body, for the length of a
  // command it runs at once (Engine::submit_now: inline, the Python bytes themselves, not a copy).
  // One of the two is empty.
  std::string_view lent;
  bool has_length = false;    // the fields carry Content-Length
  std::uint64_t declared_length = 0;  // ... this one
  bool has_encoding = false;  // ... or Transfer-Encoding
  bool has_date = false;
  bool has_server = false;
  bool close = false;  // the fields say "Connection: close"
  std::int64_t accounted = 0;  // bytes counted in stream->out_pending
};
static_assert(std::is_trivially_copyable_v<OutboundPlain>, "a field that owns something goes in Outbound");

struct Outbound : OutboundPlain {
  std::shared_ptr<Stream> stream;
  std::string fields;  // "name: value\r\n" lines, already checked
  std::string body;
  std::shared_ptr<FileRange> file;  // a file piece's

  std::string_view body_bytes() const noexcept { return lent.empty() ? std::string_view(body) : lent; }

  // As new, its buffers' memory kept (a command used again: the Python thread's kept one). As
  // Inbound::reset, and for the same reason.
  void reset() noexcept {
    static_cast<OutboundPlain&>(*this) = OutboundPlain{};
    stream.reset();
    fields.clear();
    body.clear();
    file.reset();
  }
};
static_assert(sizeof(Outbound) == sizeof(OutboundPlain) + sizeof(std::shared_ptr<Stream>) + 2 * sizeof(std::string) +
                                      sizeof(std::shared_ptr<FileRange>),
              "a field added to Outbound: reset() must empty it (and this count it)");

}  // namespace fasterapi::server
