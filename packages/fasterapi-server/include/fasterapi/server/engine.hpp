// fasterapi::server::Engine: the I/O threads of the native server.
//
// Theory of operation. Each I/O thread owns a listening socket (SO_REUSEPORT: the kernel spreads
// connections over the threads, and over worker processes), an epoll set, its connections, and
// a ring of commands from the Python thread with a Waker. A thread accepts, reads, parses with
// fasterapi-http1's parser and routes with fasterapi-router's tree; a request becomes an Inbound
// record pushed on the one ring toward the Python thread, whose Waker is notified once per epoll
// batch. Responses come back as Outbound commands, in any order; each connection writes them in
// the order its requests arrived (pipelining), with one gathered send (sendmsg), and keeps reading
// ahead by at most `max_pipelined` requests.
//
//   connection phase   what it waits for                   timeout
//   idle               the first byte of the next request  keep_alive (then closed quietly)
//   head               the rest of the head                header (then 408 and closed)
//   body               the rest of a body                  body (then 408 and closed)
//   busy               responses (the app has the request) none: the app decides
//
// A request body that is all there when the head is parsed (or arrives while the thread holds the
// request back, up to `body_inline` bytes) travels with the request; a longer one is streamed:
// the request goes up at once and the rest follows as body records. Reading stops while more than
// `body_high_water` bytes are delivered and not consumed (the app acknowledges them with a resume
// command when reading had stopped), so an app that does not read holds no more than that.
// Output is the same in reverse: the app's bytes not yet written are counted on the request's
// Stream, and the app is told (a drained record) when they fall under the low-water mark.
//
// Nothing here blocks: a slow client costs its buffers, never a thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "fasterapi/http1/parser.hpp"
#include "fasterapi/http1/serializer.hpp"
#include "fasterapi/router/router.hpp"
#include "fasterapi/server/http_date.hpp"
#include "fasterapi/server/mpsc_ring.hpp"
#include "fasterapi/server/proxy.hpp"
#include "fasterapi/server/records.hpp"
#include "fasterapi/server/tls.hpp"
#include "fasterapi/server/waker.hpp"

namespace fasterapi::server {

struct Limits {
  std::size_t max_request_line = 8190;      // 414 past it
  std::size_t max_header_line = 8190;       // 431
  std::size_t max_header_bytes = 65536;     // 431
  std::size_t max_headers = 100;            // 431
  std::uint64_t max_body = 1ull << 30;      // 413; a body is streamed, so this bounds time, not memory
  std::size_t max_connections = 10000;      // per process: accepting pauses at the limit
  std::size_t max_pipelined = 32;           // requests read ahead of their responses on a connection
  std::size_t body_inline = 65536;          // a body up to this size travels with its request
  std::size_t body_high_water = 1u << 20;   // delivered and unconsumed body bytes that stop reading
  std::size_t write_high_water = 1u << 18;  // unwritten response bytes that make the app wait
  std::size_t write_low_water = 1u << 16;   // ... until they fall under this
};

struct Timeouts {
  double header = 10.0;      // from the first byte of a head to its end
  double keep_alive = 5.0;   // an idle connection between requests
  double body = 30.0;        // without a byte of a body being received
  double write = 60.0;       // without a byte of output being taken by the client
  double shutdown = 30.0;    // graceful shutdown: in-flight requests get this long
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 8000;
  int threads = 1;
  int backlog = 2048;
  // Each I/O thread gets its own listening socket with SO_REUSEPORT (the kernel spreads the
  // connections), which also lets worker processes share the port. Off, the threads share one
  // socket (EPOLLEXCLUSIVE: one thread is woken per connection), and a second server on the same
  // port fails with "address in use" instead of silently taking half of the connections.
  bool reuse_port = false;
  // A socket to listen on instead of host and port (a Unix domain socket, or one inherited from
  // a supervisor or from systemd), bound already: the engine listens on a duplicate of it, shared
  // by its threads (reuse_port does not apply), and leaves this descriptor to its owner (whose
  // open file is made non-blocking: the flag is the open file's, shared by its duplicates).
  // -1: none.
  int fd = -1;
  std::string ssl_certfile;  // both set: TLS on every connection
  std::string ssl_keyfile;
  std::string server_header = "fasterapi";
  // The peers whose X-Forwarded-For and X-Forwarded-Proto are believed (TrustedProxies' entries);
  // empty: nobody's.
  std::vector<std::string> forwarded_allow;
  // The rings between the threads (powers of two). Neither side ever waits on a full ring in a
  // way that could wait on the other: an I/O thread keeps what the inbound ring cannot take yet
  // (in order) and passes it on later, and only the Python thread waits, for an I/O thread.
  std::size_t inbound_capacity = 1u << 16;  // records toward the Python thread
  std::size_t command_capacity = 1u << 14;  // commands toward each I/O thread
  Limits limits;
  Timeouts timeouts;
};

// Counters for tests and for the shutdown's wait; read from any thread.
struct Stats {
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> accepted{0};
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> in_flight{0};  // requests whose response is not yet written
  std::atomic<std::int64_t> bad_requests{0};
  std::atomic<std::int64_t> timeouts{0};
};

inline double monotonic_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Growable bytes with a consumed prefix: reads land at the end, the parser consumes at the front.
class ReadBuffer {
 public:
  std::string_view unread() const noexcept { return {data_.get() + start_, end_ - start_}; }
  std::size_t size() const noexcept { return end_ - start_; }
  void consume(std::size_t n) noexcept {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  // Room for at least `want` more bytes at the end.
  char* reserve(std::size_t want) {
    if (cap_ - end_ >= want) return data_.get() + end_;
    const std::size_t live = end_ - start_;
    if (start_ > 0 && cap_ - live >= want) {
      std::memmove(data_.get(), data_.get() + start_, live);
    } else {
      std::size_t cap = cap_ ? cap_ : 16384;
      while (cap - live < want) cap *= 2;
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);  // (not zeroed: 64 KiB a connection)
      if (live) std::memcpy(bigger.get(), data_.get() + start_, live);
      data_ = std::move(bigger);
      cap_ = cap;
    }
    start_ = 0;
    end_ = live;
    return data_.get() + end_;
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void release() noexcept {
    data_.reset();
    cap_ = start_ = end_ = 0;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0, start_ = 0, end_ = 0;
};

// A piece of output and the stream it is counted against.
struct OutPiece {
  std::string data;
  std::shared_ptr<Stream> stream;
  std::int64_t accounted = 0;
  std::shared_ptr<FileRange> file;  // a file piece: `data` is empty
};

// A response that came before its turn (an earlier request on the connection is not answered).
struct Deferred {
  std::deque<OutPiece> pieces;
  bool done = false;
  bool close = false;
};

struct Connection {
  enum class Phase : std::uint8_t { idle, head, body, busy };

  int fd = -1;
  std::uint32_t gen = 0;
  std::optional<http1::Parser> parser;
  ReadBuffer in;
  std::deque<OutPiece> out;
  std::string spare_out;  // a written piece's buffer, for the next response's bytes (no allocation)
  std::size_t out_offset = 0;  // bytes of out.front() already written
  std::deque<std::shared_ptr<Stream>> open;  // requests read whose response is not complete, in order
  std::map<std::uint32_t, Deferred> deferred;
  std::uint32_t next_seq = 0;
  Inbound* pending = nullptr;  // a request held back while its body arrives (body_inline)
  std::shared_ptr<Stream> streaming;  // the request whose body is being streamed up
  Phase phase = Phase::idle;
  double since = 0;           // when the phase began (head), or the last progress (body, idle)
  double write_since = 0;     // the last time output made progress while some was waiting
  bool reading = true;        // EPOLLIN is on
  bool writing = false;       // EPOLLOUT is on
  bool epoll_in = true;       // EPOLLIN is on
  bool eof = false;           // the client sent FIN: no more requests
  bool close_after = false;   // close once the output is written
  bool paused_body = false;   // reading stopped until the app consumes body
  bool discard_body = false;  // the streamed body's request is answered: the rest is read and dropped
  bool dirty = false;         // output queued by this batch of commands, written after it
  std::string peer_host;
  std::uint16_t peer_port = 0;
  bool proxy_trusted = false;  // the peer is a trusted proxy (Config::forwarded_allow)
  TlsStream tls;
};

class Engine;

class IoThread {
 public:
  IoThread(Engine& engine, std::uint32_t index);
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  void start() { thread_ = std::thread([this] { run(); }); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  void submit(Outbound* o) {
    commands_.push(o);
    waker_.notify();
  }
  void submit_quietly(Outbound* o) {
    if (!commands_.try_push(o)) {
      waker_.notify();  // full: the thread must run to make room, so wake it before waiting
      commands_.push(o);
    }
  }
  void notify() noexcept { waker_.notify(); }
  void wake() noexcept { waker_.signal(); }
  int listen_fd() const noexcept { return listen_fd_; }
  void set_listen_fd(int fd) noexcept { listen_fd_ = fd; }

 private:
  void run();
  // One round: the sockets' events, then the Python thread's commands, then the timeouts. On the
  // thread, waiting for the first event; inline (Engine::run_io), not waiting.
  void turn(bool wait);
  // The commands on the ring, and the writes they queued. Records they gave the Python thread wake
  // it, unless it is the caller and reads them next (inline, a turn inside its poll).
  void run_commands(bool caller_polls = false);
  // Inline: one command of the Python thread's, run at once (no ring between a thread and itself).
  // What it queued is written now, or, during a batch, by finish_commands() at its end.
  void take(std::unique_ptr<Outbound> o, bool batched);
  // Inline: the same for a command the caller keeps (and may use again).
  void take_now(Outbound& o, bool batched);
  // The writes the commands queued (write_queued), then the Python thread told of the records
  // given since it last was (tell_python, unless it is the caller and reads them next anyway).
  void finish_commands();
  void write_queued();
  void tell_python(bool caller_polls);
  void listen_on() noexcept;
  void release_listener() noexcept;
  void accept_all();
  void on_event(std::uint32_t slot, std::uint32_t events);
  void on_readable(Connection& c, std::uint32_t slot);
  void parse(Connection& c, std::uint32_t slot);
  bool on_head(Connection& c, std::uint32_t slot, const http1::Head& head);
  void dispatch(Inbound* in);
  bool pass_held();
  // A whole inbound ring's worth of records held: the Python thread is far behind.
  bool flooded() const noexcept;
  void notify_disconnect(const std::shared_ptr<Stream>& s);
  void fail(Connection& c, std::uint32_t slot, int status, std::string_view why);
  bool abandon_streaming(Connection& c, std::uint32_t slot);
  void drop_pending(Connection& c);
  void release_output(const std::shared_ptr<Stream>& s, std::int64_t n);
  void command(Outbound* o);
  void queue_response(Connection& c, std::uint32_t slot, Outbound& o);
  void append_status(std::string& out, int status, bool http10, bool date, bool server, std::time_t now);
  void append_head(std::string& out, const Outbound& o, const Stream& s, bool& close, bool& chunked);
  void emit(Connection& c, std::uint32_t slot, std::uint32_t seq, OutPiece piece, bool last, bool close);
  void finish_response(Connection& c, std::uint32_t slot, bool close);
  void send_continue(Connection& c);
  void flush(Connection& c, std::uint32_t slot);
  bool send_file(Connection& c, std::uint32_t slot);
  void update_events(Connection& c, std::uint32_t slot);
  void close_connection(std::uint32_t slot);
  void sweep(double now);
  void begin_drain();
  Connection* lookup(const Stream& s) noexcept;

  Engine& engine_;
  std::uint32_t index_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;  // inline only: makes epoll_fd_ readable twice a second, for the timeouts
  int listen_fd_ = -1;
  std::vector<epoll_event> events_ = std::vector<epoll_event>(256);
  double last_sweep_ = monotonic_now();
  bool accepting_ = false;
  bool draining_ = false;
  Waker waker_;
  MpscRing<Outbound> commands_;
  std::deque<Inbound*> held_;  // records the full inbound ring could not take yet, in order
  std::vector<Connection> conns_;
  std::vector<std::uint32_t> free_;
  HttpDate date_;
  // The status line, Date and Server of the last head without the app's own Date or Server.
  struct StatusLines {
    std::time_t second = -1;
    int status = 0;
    bool http10 = false;
    std::string text;
  };
  StatusLines status_lines_;
  router::Match match_;
  bool notify_python_ = false;
  // While a batch of commands runs, output is queued and its connections noted; each is written
  // once after the batch (a streamed response's head and chunks, or pipelined responses, in one
  // sendmsg or TLS record instead of one each).
  bool in_commands_ = false;
  std::vector<std::uint32_t> dirty_;
  std::thread thread_;

  friend class Engine;
};

class Engine {
 public:
  explicit Engine(Config config)
      : config_(std::move(config)), proxies_(config_.forwarded_allow), inbound_(config_.inbound_capacity), router_(router::Options{router::ConflictPolicy::first_wins}) {
    if (config_.threads < 0) throw std::invalid_argument("threads must be at least 0");
    if (!config_.ssl_certfile.empty() || !config_.ssl_keyfile.empty()) {
      tls_ = std::make_unique<TlsContext>(config_.ssl_certfile, config_.ssl_keyfile);
    }
  }
  ~Engine() {
    stop();
    for (Inbound* in : spare_records_) delete in;
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Config& config() const noexcept { return config_; }
  const TrustedProxies& proxies() const noexcept { return proxies_; }
  Stats& stats() noexcept { return stats_; }
  // threads == 0: no I/O thread. The Python thread does the I/O itself, between its other work
  // (run_io() when io_fileno() is readable), as one-thread servers do: for a process with one
  // core, where a second thread only takes turns with it.
  bool inline_io() const noexcept { return config_.threads == 0; }

  // Routes the I/O threads match before the Python thread sees a request (before start()).
  router::AddResult add_route(std::span<const std::string_view> methods, std::string_view pattern, std::int32_t id) {
    if (started_) throw std::logic_error("routes are added before the engine starts");
    auto r = router_.add(methods, pattern);
    if (r.status == router::AddStatus::added) {
      // One route of the router's per method, numbered on from r.route: each is this one.
      const std::size_t end = router_.routes().size();
      if (route_ids_.size() < end) route_ids_.resize(end, -1);
      for (std::size_t k = r.route; k < end; ++k) route_ids_[k] = id;
    }
    return r;
  }

  // Binds the listening sockets (one per I/O thread, SO_REUSEPORT) and returns the port.
  int bind() {
    if (!threads_.empty()) return bound_port_;
    for (int i = 0; i < std::max(1, config_.threads); ++i) threads_.push_back(std::make_unique<IoThread>(*this, static_cast<std::uint32_t>(i)));
    int port = config_.port;
    if (config_.reuse_port && config_.fd < 0) {
      for (auto& t : threads_) {
        t->set_listen_fd(open_listener(config_.host, port, true, config_.backlog));
        if (port == 0) port = local_port(t->listen_fd());
      }
    } else {
      shared_listen_fd_ = config_.fd >= 0 ? adopt_listener(config_.fd, config_.backlog)
                                          : open_listener(config_.host, port, false, config_.backlog);
      port = local_port(shared_listen_fd_);  // (0 for a Unix domain socket)
      for (auto& t : threads_) t->set_listen_fd(shared_listen_fd_);
      listeners_left_.store(static_cast<int>(threads_.size()));
    }
    bound_port_ = port;
    return port;
  }

  void start() {
    bind();
    if (started_) return;
    router_.freeze();
    started_ = true;
    if (inline_io()) {
      threads_[0]->listen_on();
    } else {
      for (auto& t : threads_) t->start();
    }
  }

  // Inline: the descriptor that is readable when run_io() has work, and one round of it (the
  // sockets' events, the commands, the timeouts; never waits). Records it hands over are taken
  // by the next poll of the inbound ring; io_behind(): some did not fit, run again soon.
  int io_fileno() const noexcept { return inline_io() && !threads_.empty() ? threads_[0]->epoll_fd_ : -1; }
  void run_io() {
    if (inline_io() && started_ && !stopping_.load() && !threads_.empty()) threads_[0]->turn(false);
  }
  bool io_behind() const noexcept { return inline_io() && !threads_.empty() && !threads_[0]->held_.empty(); }

  // Graceful: stop accepting; idle connections close; busy ones close after their response.
  void drain() {
    draining_.store(true);
    for (auto& t : threads_) t->wake();
  }

  void stop() {
    if (stopping_.exchange(true)) return;
    for (auto& t : threads_) t->wake();
    for (auto& t : threads_) t->join();
    threads_.clear();
    // What the Python thread never popped.
    while (Inbound* in = inbound_.pop()) delete in;
    for (Inbound* in : take_posted()) delete in;
  }

  bool draining() const noexcept { return draining_.load(); }
  bool stopping() const noexcept { return stopping_.load(); }

  // The record of a new request, and its giving back when the caller is done with it. Inline,
  // a given-back record is used again, with the room its buffers grew (three allocations and
  // their frees a request fewer): the thread that does the I/O (run_io's caller) is the only one
  // to take and give back records, or whoever holds its lock. Threaded, new and delete.
  Inbound* new_request() {
    if (!inline_io() || spare_records_.empty()) return new Inbound;
    Inbound* in = spare_records_.back();
    spare_records_.pop_back();
    return in;
  }
  std::size_t spare_records() const noexcept { return spare_records_.size(); }
  void give_back(Inbound* in) noexcept {
    if (!inline_io() || spare_records_.size() >= kSpareRecords || in->kind != Inbound::Kind::request ||
        in->bytes.capacity() > kSpareRecordBytes) {
      delete in;
      return;
    }
    in->reset();
    spare_records_.push_back(in);  // (room reserved: never allocates)
  }

  // The Python thread's side.
  int fileno() const noexcept { return python_waker_.fd(); }
  Waker& python_waker() noexcept { return python_waker_; }
  MpscRing<Inbound>& inbound() noexcept { return inbound_; }
  // From the Python thread. Between begin_batch() and end_batch() (while it handles what one
  // poll handed over) the I/O threads are woken once at the end, not once per response: a thread
  // woken at the first response would take the CPU from the Python thread (they often share a
  // core) to write one response, then sleep again before the next. Inline, the command runs at
  // once, and what it writes is written at end_batch().
  void submit(Outbound* o) {
    const std::uint32_t t = o->stream->thread;
    if (t >= threads_.size()) {
      delete o;
      return;
    }
    if (inline_io()) {
      threads_[t]->take(std::unique_ptr<Outbound>(o), batching_);
      return;
    }
    if (batching_) {
      threads_[t]->submit_quietly(o);
      if (t < 64) dirty_ |= std::uint64_t{1} << t;
      else threads_[t]->notify();
    } else {
      threads_[t]->submit(o);
    }
  }
  // Inline only: a command run at once, which the caller keeps (a whole response whose body it
  // lends, Outbound::lent: no allocation for the command, no copy of the body before the write).
  void submit_now(Outbound& o) {
    const std::uint32_t t = o.stream->thread;
    if (!inline_io() || t >= threads_.size()) return;
    threads_[t]->take_now(o, batching_);
  }
  void begin_batch() noexcept { batching_ = true; }
  void end_batch() {
    batching_ = false;
    if (inline_io()) {
      if (!threads_.empty()) threads_[0]->finish_commands();
      return;
    }
    for (std::uint32_t t = 0; dirty_ != 0 && t < threads_.size(); ++t) {
      if (dirty_ & (std::uint64_t{1} << t)) threads_[t]->notify();
    }
    dirty_ = 0;
  }
  // From any other thread (the executor's). Never waits: the Python thread may be waiting for
  // this one (joining the executor); what the full ring cannot take is set aside for take_posted().
  void post(Inbound* in) {
    if (!inbound_.try_push(in)) {
      std::lock_guard<std::mutex> guard(posted_mutex_);
      posted_.push_back(in);
      has_posted_.store(true, std::memory_order_release);
    }
    python_waker_.notify();
  }
  bool has_posted() const noexcept { return has_posted_.load(std::memory_order_acquire); }
  // The Python thread, after the ring: the records post() set aside.
  std::vector<Inbound*> take_posted() {
    std::vector<Inbound*> taken;
    if (!has_posted_.load(std::memory_order_acquire)) return taken;
    std::lock_guard<std::mutex> guard(posted_mutex_);
    taken.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
    return taken;
  }

  std::uint64_t next_stream_id() noexcept { return stream_ids_.fetch_add(1, std::memory_order_relaxed) + 1; }
  const router::Router& router() const noexcept { return router_; }
  std::int32_t route_id(router::RouteId r) const noexcept { return r < route_ids_.size() ? route_ids_[r] : -1; }

 private:
  static int open_listener(const std::string& host, int port, bool reuse_port, int backlog) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0) {
      throw std::runtime_error("cannot resolve " + host + ": " + ::gai_strerror(rc));
    }
    int err = 0;
    for (addrinfo* a = found; a; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        err = errno;
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) {
        ::freeaddrinfo(found);
        return fd;
      }
      err = errno;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    throw std::system_error(err, std::generic_category(), "cannot listen on " + host + ":" + service);
  }

  // A duplicate of `given` (a stream socket), listening and non-blocking, owned by the engine.
  static int adopt_listener(int given, int backlog) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(given, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
      throw std::system_error(errno, std::generic_category(), "fd " + std::to_string(given) + " is not a socket");
    }
    if (type != SOCK_STREAM) throw std::runtime_error("fd " + std::to_string(given) + " is not a stream socket");
    // Bound to an address: listen() would bind an unbound socket to one of its own choosing (any
    // address, a random port; an abstract name).
    sockaddr_storage ss{};
    socklen_t ss_len = sizeof ss;
    const bool bound = ::getsockname(given, reinterpret_cast<sockaddr*>(&ss), &ss_len) == 0 &&
                       (ss.ss_family == AF_UNIX ? ss_len > offsetof(sockaddr_un, sun_path) : port_of(ss) != 0);
    if (!bound) throw std::runtime_error("fd " + std::to_string(given) + " is not bound to an address");
    const int fd = ::fcntl(given, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot use fd " + std::to_string(given));
    const int flags = ::fcntl(fd, F_GETFL);
    // (listen() again on a listening socket only sets its backlog)
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::listen(fd, backlog) != 0) {
      const int err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "cannot listen on fd " + std::to_string(given));
    }
    return fd;
  }

  static int local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return port_of(ss);
  }
  // The port of a TCP address; 0 for any other (a Unix domain socket's).
  static int port_of(const sockaddr_storage& ss) noexcept {
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    return 0;
  }

  Config config_;
  TrustedProxies proxies_;
  Stats stats_;
  Waker python_waker_;
  MpscRing<Inbound> inbound_;
  std::mutex posted_mutex_;
  std::vector<Inbound*> posted_;  // see post()
  std::atomic<bool> has_posted_{false};
  router::Router router_;
  std::vector<std::int32_t> route_ids_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::atomic<std::uint64_t> stream_ids_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  int bound_port_ = 0;
  std::unique_ptr<TlsContext> tls_;
  int shared_listen_fd_ = -1;         // without reuse_port: the threads' one socket
  std::atomic<int> listeners_left_{0};  // ... and how many threads still use it
  bool batching_ = false;    // the Python thread's
  std::uint64_t dirty_ = 0;  // threads given commands during the batch
  // Inline: request records given back (give_back), at most this many, none whose buffer grew
  // past the second figure (a big head or body: let it go).
  static constexpr std::size_t kSpareRecords = 256;
  static constexpr std::size_t kSpareRecordBytes = 16384;
  std::vector<Inbound*> spare_records_ = reserved_records();
  static std::vector<Inbound*> reserved_records() {
    std::vector<Inbound*> v;
    v.reserve(kSpareRecords);
    return v;
  }

  friend class IoThread;
};

// ---------------------------------------------------------------------------------------------

namespace detail {

constexpr std::uint32_t kListenSlot = 0xFFFFFFFFu;
constexpr std::uint32_t kWakeSlot = 0xFFFFFFFEu;
constexpr std::uint32_t kTimerSlot = 0xFFFFFFFDu;
constexpr std::size_t kReadChunk = 65536;
constexpr std::size_t kCommandBatch = 256;  // commands taken before the output they queued is written
constexpr std::size_t kSpareOutBytes = 4096;  // a connection keeps a written piece's buffer up to this size

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

inline void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

inline void append_hex(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
  out.append(buf, end);
}

// send(2) and sendmsg(2) (and recv(2)) rather than writev(2) and read(2): the socket calls skip the
// file layer. Measured on loopback, keep-alive GETs of a small body, one CPU: ~0.4 us less kernel
// time per request, ~3% more requests/s. MSG_NOSIGNAL: a failed write here is only an error (the
// connection closes on the first one anyway); sendfile and OpenSSL's writes have no such flag.
inline ssize_t send_pieces(int fd, iovec* iov, int n) noexcept {
  if (n == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = static_cast<std::size_t>(n);
  return ::sendmsg(fd, &m, MSG_NOSIGNAL);
}

inline bool body_forbidden(int status) noexcept { return status < 200 || status == 204 || status == 304; }

}  // namespace detail

// Inline (threads=0), commands run as they are given (Engine::submit): the ring is never used, and
// is the smallest there is rather than 256 KiB.
inline IoThread::IoThread(Engine& engine, std::uint32_t index)
    : engine_(engine), index_(index), commands_(engine.inline_io() ? 2 : engine.config().command_capacity) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = detail::kWakeSlot;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, waker_.fd(), &ev);
  if (engine.inline_io()) {
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) throw std::system_error(errno, std::generic_category(), "timerfd_create");
    const itimerspec every{{0, 500'000'000}, {0, 500'000'000}};
    ::timerfd_settime(timer_fd_, 0, &every, nullptr);
    ev.data.u64 = detail::kTimerSlot;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  }
}

inline IoThread::~IoThread() {
  join();
  for (std::uint32_t s = 0; s < conns_.size(); ++s) {
    if (conns_[s].fd >= 0) close_connection(s);
  }
  while (Outbound* o = commands_.pop()) delete o;
  for (Inbound* in : held_) delete in;
  release_listener();
  if (timer_fd_ >= 0) ::close(timer_fd_);
  ::close(epoll_fd_);
}

inline void IoThread::release_listener() noexcept {
  if (listen_fd_ < 0) return;
  if (listen_fd_ != engine_.shared_listen_fd_ || engine_.listeners_left_.fetch_sub(1) == 1) ::close(listen_fd_);
  listen_fd_ = -1;
}

inline void IoThread::listen_on() noexcept {
  epoll_event ev{};
  // A shared socket wakes one thread per connection, not all of them.
  ev.events = EPOLLIN | (listen_fd_ == engine_.shared_listen_fd_ ? EPOLLEXCLUSIVE : 0u);
  ev.data.u64 = detail::kListenSlot;
  accepting_ = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0;
}

inline Connection* IoThread::lookup(const Stream& s) noexcept {
  if (s.slot >= conns_.size()) return nullptr;
  Connection& c = conns_[s.slot];
  return c.fd >= 0 && c.gen == s.gen ? &c : nullptr;
}

inline void IoThread::run() {
  listen_on();
  while (!engine_.stopping()) turn(true);
}

inline void IoThread::turn(bool wait) {
  if (engine_.draining() && !draining_) begin_drain();
  int timeout_ms = wait ? 1000 : 0;
  if (!held_.empty() && !pass_held() && wait) timeout_ms = 1;  // the Python thread is behind: try again soon
  if (wait) {
    waker_.sleep_begin();
    if (!commands_.empty()) {
      waker_.sleep_cancel();
      timeout_ms = 0;
    }
  }
  int n = 0;
  if (flooded()) {
    // Reading on would only hold more: take the Python thread's commands (which make room) and
    // leave the sockets' events in epoll (level-triggered) until it has caught up.
    if (wait) {
      pollfd wake{waker_.fd(), POLLIN, 0};
      if (::poll(&wake, 1, timeout_ms) > 0) waker_.clear();
    }
  } else {
    n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  }
  if (wait) waker_.sleep_cancel();
  for (int i = 0; i < n && !flooded(); ++i) {  // (the rest come back from epoll)
    const std::uint64_t key = events_[i].data.u64;
    if (key == detail::kListenSlot) {
      accept_all();
    } else if (key == detail::kWakeSlot) {
      waker_.clear();
    } else if (key == detail::kTimerSlot) {
      std::uint64_t ticks;
      [[maybe_unused]] const auto r = ::read(timer_fd_, &ticks, sizeof ticks);
    } else {
      on_event(static_cast<std::uint32_t>(key), events_[i].events);
    }
  }
  const double now = monotonic_now();
  if (now - last_sweep_ >= 0.5) {
    last_sweep_ = now;
    sweep(now);
  }
  run_commands(!wait);  // (and the records of both told to the Python thread)
}

inline void IoThread::run_commands(bool caller_polls) {
  // In batches: output gets written (and drained records sent) even while commands keep coming.
  for (bool more = true; more;) {
    in_commands_ = true;
    more = false;
    for (std::size_t n = 0; Outbound* o = commands_.pop();) {
      command(o);
      delete o;
      if (++n == detail::kCommandBatch) {
        more = true;
        break;
      }
    }
    in_commands_ = false;
    write_queued();
  }
  tell_python(caller_polls);
}

inline void IoThread::take(std::unique_ptr<Outbound> o, bool batched) { take_now(*o, batched); }

inline void IoThread::take_now(Outbound& o, bool batched) {
  in_commands_ = true;
  command(&o);
  in_commands_ = false;
  if (!batched) finish_commands();
}

inline void IoThread::finish_commands() {
  write_queued();
  tell_python(false);
}

inline void IoThread::write_queued() {
  for (const std::uint32_t slot : dirty_) {
    Connection& c = conns_[slot];
    c.dirty = false;
    if (c.fd >= 0) flush(c, slot);
  }
  dirty_.clear();
}

inline void IoThread::tell_python(bool caller_polls) {
  if (notify_python_) {
    notify_python_ = false;
    if (!caller_polls) engine_.python_waker().notify();
  }
}

inline void IoThread::begin_drain() {
  draining_ = true;
  if (accepting_) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    accepting_ = false;
  }
  release_listener();
  for (std::uint32_t s = 0; s < conns_.size(); ++s) {
    Connection& c = conns_[s];
    if (c.fd < 0) continue;
    if (c.open.empty() && c.out.empty() && c.pending == nullptr) {
      close_connection(s);
    } else if (c.pending == nullptr && c.streaming == nullptr) {
      c.close_after = true;  // after the responses in flight; no more requests are read
    }
    // else a request in flight is still receiving its body: it is read to its end (parse stops
    // at the next head), and the response, saying "Connection: close", closes the connection.
  }
}

inline void IoThread::accept_all() {
  auto& stats = engine_.stats_;
  const auto& limits = engine_.config_.limits;
  while (true) {
    if (static_cast<std::size_t>(stats.connections.load(std::memory_order_relaxed)) >= limits.max_connections) {
      // Backpressure on accept: the kernel's backlog holds the rest until a connection closes.
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      accepting_ = false;
      return;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors: epoll says again when it can
    }
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(conns_.size());
      conns_.emplace_back();
    }
    Connection& c = conns_[slot];
    if (engine_.tls_) {
      c.tls.ssl = engine_.tls_->new_ssl(fd);
      if (c.tls.ssl == nullptr) {
        ERR_clear_error();
        ::close(fd);
        free_.push_back(slot);
        continue;
      }
    }
    c.fd = fd;
    http1::Config pc;
    pc.limits.max_request_line = limits.max_request_line;
    pc.limits.max_header_line = limits.max_header_line;
    pc.limits.max_header_bytes = limits.max_header_bytes;
    pc.limits.max_headers = limits.max_headers;
    pc.limits.max_body = limits.max_body;  // a chunked body has no length to check at its head
    c.parser.emplace(http1::Role::request, pc);
    c.phase = Connection::Phase::idle;
    c.since = monotonic_now();
    c.reading = true;
    c.writing = false;
    c.epoll_in = true;
    c.eof = c.close_after = c.paused_body = c.discard_body = false;
    c.next_seq = 0;
    char host[INET6_ADDRSTRLEN] = {};  // (none for a Unix domain socket's peer: its client is None)
    c.peer_port = 0;
    if (ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      c.peer_port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      c.peer_port = ntohs(a->sin6_port);
    }
    c.peer_host = host;
    c.proxy_trusted = !engine_.proxies().empty() && engine_.proxies().trusts(c.peer_host);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = slot;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    stats.connections.fetch_add(1, std::memory_order_relaxed);
    stats.accepted.fetch_add(1, std::memory_order_relaxed);
  }
}

inline void IoThread::on_event(std::uint32_t slot, std::uint32_t events) {
  if (slot >= conns_.size() || conns_[slot].fd < 0) return;
  Connection& c = conns_[slot];
  if (events & (EPOLLERR | EPOLLHUP)) {
    close_connection(slot);
    return;
  }
  if (events & EPOLLOUT) {
    if (c.tls.ssl && c.out.empty()) {
      on_readable(c, slot);  // the handshake (or a record) waited for the socket to be writable
    } else {
      flush(c, slot);
    }
    if (c.fd < 0) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) on_readable(c, slot);
}

inline void IoThread::on_readable(Connection& c, std::uint32_t slot) {
  // A few reads per event, for fairness; then epoll says again. Under TLS it cannot for what
  // OpenSSL already holds: the last round takes that too (at most what is left of one record).
  for (int round = 0; round < 5 && c.reading; ++round) {
    std::size_t want = detail::kReadChunk;
    if (round == 4 && (want = c.tls.pending()) == 0) break;
    char* at = c.in.reserve(want);
    const ssize_t n = c.tls.ssl ? c.tls.read(at, want) : ::recv(c.fd, at, want, 0);
    if (n > 0) {
      c.in.commit(static_cast<std::size_t>(n));
      const double now = monotonic_now();
      if (c.phase == Connection::Phase::idle) {
        c.phase = Connection::Phase::head;
        c.since = now;
      } else if (c.phase == Connection::Phase::body) {
        c.since = now;
      }
      parse(c, slot);
      if (c.fd < 0) return;
      if (static_cast<std::size_t>(n) < want && c.tls.pending() == 0) break;
      continue;
    }
    if (n == 0) {
      // The client will send no more. What it asked for is still answered (a half-closed
      // connection waits for its responses); a request cut short is dropped.
      c.eof = true;
      if (c.streaming && !abandon_streaming(c, slot)) return;
      drop_pending(c);  // its body will not come: nobody would answer it
      if (c.open.empty() && c.out.empty()) {
        close_connection(slot);
        return;
      }
      c.close_after = true;
      c.reading = false;
      update_events(c, slot);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
    close_connection(slot);
    return;
  }
}

// The request's stream is closed: its output is dropped from now on, and its app is told.
inline void IoThread::notify_disconnect(const std::shared_ptr<Stream>& s) {
  s->closed.store(true);
  auto* d = new Inbound;
  d->kind = Inbound::Kind::disconnect;
  d->stream = s;
  dispatch(d);
}

// Never waits: the Python thread may itself be waiting for this thread to take its commands.
// Records the ring cannot take are held, in order, and passed on as the Python thread makes room.
inline void IoThread::dispatch(Inbound* in) {
  if (!held_.empty() || !engine_.inbound_.try_push(in)) held_.push_back(in);
  notify_python_ = true;
}

inline bool IoThread::flooded() const noexcept { return held_.size() >= engine_.config_.inbound_capacity; }

// True when nothing is held any more.
inline bool IoThread::pass_held() {
  bool passed = false;
  while (!held_.empty() && engine_.inbound_.try_push(held_.front())) {
    held_.pop_front();
    passed = true;
  }
  // (nothing passed: the ring is still full, and the Python thread, which does not sleep on a
  // ring that is not empty, has them to take first)
  if (passed) engine_.python_waker().notify();
  return held_.empty();
}

inline void IoThread::parse(Connection& c, std::uint32_t slot) {
  const auto& limits = engine_.config_.limits;
  while (c.fd >= 0 && !c.close_after) {
    if (draining_ && c.pending == nullptr && c.streaming == nullptr && c.phase != Connection::Phase::body) {
      // Draining: the request whose body was being read has it all; no further request is.
      c.reading = false;
      if (c.open.empty() && c.out.empty()) {
        close_connection(slot);
      } else {
        c.close_after = true;
        update_events(c, slot);
      }
      return;
    }
    if (c.phase != Connection::Phase::body && c.streaming == nullptr && c.pending == nullptr &&
        c.open.size() >= limits.max_pipelined) {
      // Far enough ahead of the app: read again when responses have gone out.
      c.reading = false;
      update_events(c, slot);
      return;
    }
    if (c.paused_body) return;
    http1::Event ev;
    std::size_t used = 0;
    const http1::Status st = c.parser->next(c.in.unread(), ev, used);
    c.in.consume(used);
    if (st == http1::Status::need_more) return;
    if (st == http1::Status::error) {
      const http1::Errc e = c.parser->error();
      if (c.streaming || c.pending) {
        // The head was good and the app may have it: the body is bad. Tell it, and close.
        if (c.streaming && !abandon_streaming(c, slot)) return;
        drop_pending(c);
      }
      fail(c, slot, http1::status_hint(e), http1::errc_name(e));
      return;
    }
    switch (ev.kind) {
      case http1::Event::Kind::head:
        if (!on_head(c, slot, *ev.head)) return;
        break;
      case http1::Event::Kind::data: {
        const std::string_view data = ev.data;
        if (c.pending) {
          Inbound* p = c.pending;
          p->bytes.append(data);
          p->body.len += static_cast<std::uint32_t>(data.size());
          if (p->bytes.size() > limits.body_inline) {
            // Too long to hold back: the request goes up now, the rest is streamed.
            p->more_body = true;
            c.streaming = p->stream;
            c.streaming->in_unread.fetch_add(p->body.len);
            c.pending = nullptr;
            dispatch(p);
          }
        } else if (c.streaming && !c.discard_body) {
          auto* b = new Inbound;
          b->kind = Inbound::Kind::body;
          b->stream = c.streaming;
          b->bytes.assign(data);
          b->body = {0, static_cast<std::uint32_t>(data.size())};
          b->more_body = true;
          const auto unread = c.streaming->in_unread.fetch_add(static_cast<std::int64_t>(data.size())) +
                              static_cast<std::int64_t>(data.size());
          dispatch(b);
          if (static_cast<std::size_t>(unread) > limits.body_high_water) {
            c.streaming->in_paused.store(true);
            // The app may have consumed everything between the add and the flag: look again.
            if (static_cast<std::size_t>(c.streaming->in_unread.load()) > limits.body_high_water) {
              c.paused_body = true;
              c.reading = false;
              update_events(c, slot);
              return;
            }
            c.streaming->in_paused.store(false);
          }
        }
        break;
      }
      case http1::Event::Kind::end:
        if (c.pending) {
          dispatch(c.pending);
          c.pending = nullptr;
        } else if (c.streaming) {
          if (!c.discard_body) {
            auto* b = new Inbound;
            b->kind = Inbound::Kind::body;
            b->stream = c.streaming;
            b->more_body = false;
            dispatch(b);
          }
          c.streaming.reset();
          c.discard_body = false;
        }
        c.phase = c.open.empty() ? Connection::Phase::idle : Connection::Phase::busy;
        c.since = monotonic_now();
        if (!c.parser->idle() && c.parser->error() == http1::Errc::none) {
          // "Connection: close" or HTTP/1.0 without keep-alive: the parser takes no more.
          c.reading = false;
          update_events(c, slot);
          return;
        }
        break;
      case http1::Event::Kind::upgrade:
        // Not HTTP/1 any more (WebSocket comes with its own issue): the request was answered as
        // plain HTTP; nothing after it is read.
        c.reading = false;
        c.close_after = true;
        update_events(c, slot);
        return;
    }
  }
}

inline bool IoThread::on_head(Connection& c, std::uint32_t slot, const http1::Head& head) {
  auto& stats = engine_.stats_;
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  stats.in_flight.fetch_add(1, std::memory_order_relaxed);
  auto stream = std::make_shared<Stream>();
  stream->id = engine_.next_stream_id();
  stream->thread = index_;
  stream->slot = slot;
  stream->gen = c.gen;
  stream->seq = c.next_seq++;
  stream->head_method = head.method == "HEAD";
  stream->http10 = head.version_minor == 0;
  stream->keep_alive = head.keep_alive && !engine_.draining();
  c.open.push_back(stream);

  auto* in = engine_.new_request();
  in->kind = Inbound::Kind::request;
  in->stream = stream;
  std::size_t total = head.method.size() + head.target.size();
  for (const auto& h : head.headers) total += h.name.size() + h.value.size();
  in->bytes.reserve(total + 64 + (head.content_length ? std::min<std::uint64_t>(*head.content_length, 65536) : 0));
  in->method = in->append(head.method);
  in->target = in->append(head.target);
  in->fields.reserve(head.headers.size() * 2);
  for (const auto& h : head.headers) {
    // Names lower-cased here, once (ASGI wants them so; the Python thread then has less to do).
    const Span name = in->append(h.name);
    for (std::uint32_t k = 0; k < name.len; ++k) {
      char& ch = in->bytes[name.off + k];
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
    }
    in->fields.push_back(name);
    in->fields.push_back(in->append(h.value));
  }
  in->keep_alive = stream->keep_alive;
  in->version_minor = static_cast<std::uint8_t>(head.version_minor);
  in->peer_host = c.peer_host;
  in->peer_port = c.peer_port;
  in->proxy_trusted = c.proxy_trusted;
  in->tls = c.tls.ssl != nullptr;

  // Route in the I/O thread when the path is plain (no escapes: the app's router decodes those).
  std::string_view path = head.target;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (!path.empty() && path.front() == '/' && path.find('%') == std::string_view::npos) {
    if (engine_.router_.match(head.method, path, match_) == router::Outcome::found) {
      in->route = engine_.route_id(match_.route());
      in->tree_route = match_.route();
      if (in->route >= 0) {
        for (const auto& cap : match_.params()) in->params.push_back(in->append(cap.value));
      }
    }
  }

  // (a Content-Length over max_body never gets here: the parser answers it 413 at the head)
  const bool has_body = head.chunked || (head.content_length && *head.content_length > 0);
  in->body = {static_cast<std::uint32_t>(in->bytes.size()), 0};
  if (!has_body) {
    c.phase = Connection::Phase::busy;
    dispatch(in);
    return true;
  }
  c.phase = Connection::Phase::body;
  c.since = monotonic_now();
  if (head.expect_continue && head.version_minor >= 1 && c.in.size() == 0) {
    // RFC 9110 10.1.1: the client waits for this before sending the body (never to an HTTP/1.0
    // client: 15.2, it would not understand a 1xx). Behind pipelined requests still unanswered,
    // it goes out after their responses (finish_response), never in the middle of them.
    if (c.open.size() == 1) {
      send_continue(c);
      flush(c, slot);
      if (c.fd < 0) {
        delete in;
        return false;
      }
    } else {
      in->continue_due = true;
    }
  }
  c.pending = in;
  return true;
}

inline void IoThread::send_continue(Connection& c) {
  OutPiece p;
  p.data = "HTTP/1.1 100 Continue\r\n\r\n";
  c.out.push_back(std::move(p));
}

inline void IoThread::fail(Connection& c, std::uint32_t slot, int status, std::string_view why) {
  // A request that cannot be read: answered after the responses already due, then closed.
  engine_.stats_.bad_requests.fetch_add(1, std::memory_order_relaxed);
  c.reading = false;
  c.close_after = true;
  auto stream = std::make_shared<Stream>();
  stream->thread = index_;
  stream->slot = slot;
  stream->gen = c.gen;
  stream->seq = c.next_seq++;
  stream->keep_alive = false;
  c.open.push_back(stream);
  engine_.stats_.in_flight.fetch_add(1, std::memory_order_relaxed);
  Outbound o;
  o.kind = Outbound::Kind::response;
  o.stream = stream;
  o.status = status;
  o.fields = "content-type: text/plain; charset=utf-8\r\n";
  o.body = http1::default_reason(status);
  o.body += " (";
  o.body += why;
  o.body += ")\n";
  // Not o.close: that flag says the app's fields already carry "Connection: close". The stream's
  // keep_alive = false closes the connection and has append_head say so.
  queue_response(c, slot, o);
}

// The request whose body was being streamed up will not get the rest (a bad chunk, a body over
// the limit, the client's FIN). The app is told (a disconnect), and its response, which could
// only be about a request cut short (and which Request::submit now drops), is not waited for:
// without this the connection would wait for it forever. False when that response had begun
// going out: the connection cannot be kept in step and is closed (or closes once written).
inline bool IoThread::abandon_streaming(Connection& c, std::uint32_t slot) {
  const std::shared_ptr<Stream> s = std::move(c.streaming);
  c.streaming.reset();
  c.paused_body = false;
  notify_disconnect(s);
  const bool in_open = !c.open.empty() && c.open.back() == s;  // a streamed body is the last request read
  bool begun = c.deferred.count(s->seq) > 0;
  for (const auto& p : c.out) begun = begun || p.stream == s;
  if (in_open && !begun) {
    c.open.pop_back();
    engine_.stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  c.reading = false;
  c.close_after = true;
  if (in_open || (c.open.empty() && c.out.empty())) {
    if (c.dirty) flush(c, slot);  // earlier responses this batch of commands queued
    if (c.fd < 0) return false;
    close_connection(slot);
  } else {
    update_events(c, slot);  // answered already: closed once what is due is written
  }
  return false;
}

// The request held back for its body (never dispatched: the app does not know it) is dropped.
inline void IoThread::drop_pending(Connection& c) {
  if (c.pending == nullptr) return;
  engine_.stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
  c.open.pop_back();
  delete c.pending;
  c.pending = nullptr;
  --c.next_seq;
}

// Output bytes counted on a stream are gone: written, or never to be (a HEAD's body, a dropped
// response). Every such path comes here: an app waiting for them to fall under the low-water
// mark is told, or it would wait forever.
inline void IoThread::release_output(const std::shared_ptr<Stream>& s, std::int64_t n) {
  const auto pending = s->out_pending.fetch_sub(n) - n;
  if (pending <= static_cast<std::int64_t>(engine_.config_.limits.write_low_water) && s->out_waiting.exchange(false)) {
    auto* d = new Inbound;
    d->kind = Inbound::Kind::drained;
    d->stream = s;
    dispatch(d);
  }
}

inline void IoThread::command(Outbound* o) {
  Stream& s = *o->stream;
  Connection* c = lookup(s);
  if (o->kind == Outbound::Kind::resume) {
    if (c && c->paused_body && c->streaming.get() == &s) {
      s.in_paused.store(false);
      c->paused_body = false;
      c->reading = true;
      update_events(*c, s.slot);
      parse(*c, s.slot);
      if (c->fd >= 0 && c->reading) on_readable(*c, s.slot);
    }
    return;
  }
  if (c == nullptr || s.closed.load()) {
    // The connection is gone, or no longer waits for this response (abandon_streaming,
    // finish_response's close): so is the response.
    s.closed.store(true);
    if (o->accounted) release_output(o->stream, o->accounted);
    return;
  }
  if (o->kind == Outbound::Kind::abort) {
    if (c->dirty) flush(*c, s.slot);  // what this batch queued before, earlier responses among it
    close_connection(s.slot);
    return;
  }
  queue_response(*c, s.slot, *o);
}

// The status line, then the Date and Server fields unless the app gave its own.
inline void IoThread::append_status(std::string& out, int status, bool http10, bool date, bool server,
                                    std::time_t now) {
  const std::string_view reason = http1::default_reason(status);
  out.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  detail::append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason.empty() ? std::string_view("Unknown") : reason);
  out.append("\r\n");
  if (date) {
    out.append("date: ");
    out.append(date_.at(now));
    out.append("\r\n");
  }
  if (server && !engine_.config_.server_header.empty()) {
    out.append("server: ");
    out.append(engine_.config_.server_header);
    out.append("\r\n");
  }
}

inline void IoThread::append_head(std::string& out, const Outbound& o, const Stream& s, bool& close, bool& chunked) {
  const std::time_t now = std::time(nullptr);
  if (!o.has_date && !o.has_server) {
    // The usual head starts as the last one did within the same second: kept, appended whole.
    StatusLines& kept = status_lines_;
    if (kept.second != now || kept.status != o.status || kept.http10 != s.http10) {
      kept.text.clear();
      append_status(kept.text, o.status, s.http10, true, true, now);
      kept.second = now;
      kept.status = o.status;
      kept.http10 = s.http10;
    }
    out.append(kept.text);
  } else {
    append_status(out, o.status, s.http10, !o.has_date, !o.has_server, now);
  }
  out.append(o.fields);
  close = close || o.close || !s.keep_alive || engine_.draining();
  chunked = false;
  if (!detail::body_forbidden(o.status)) {
    if (o.kind == Outbound::Kind::response) {
      if (!o.has_length && !o.has_encoding) {
        out.append("content-length: ");
        detail::append_number(out, o.body_bytes().size());
        out.append("\r\n");
      }
    } else if (!o.has_length && !o.has_encoding) {
      if (s.http10) {
        close = true;  // an HTTP/1.0 body of unknown length ends at close
      } else {
        chunked = true;
        out.append("transfer-encoding: chunked\r\n");
      }
    }
  }
  if (close && !o.close) {
    out.append("connection: close\r\n");
  } else if (!close && s.http10) {
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

inline void IoThread::queue_response(Connection& c, std::uint32_t slot, Outbound& o) {
  Stream& s = *o.stream;
  OutPiece piece;
  piece.stream = o.stream;
  piece.accounted = o.accounted;
  bool last = false;
  bool close = false;
  switch (o.kind) {
    case Outbound::Kind::response: {
      bool chunked = false;
      const std::string_view body = o.body_bytes();
      piece.data = std::move(c.spare_out);  // (empty, with room, or nothing)
      piece.data.reserve(128 + o.fields.size() + body.size());
      append_head(piece.data, o, s, close, chunked);
      if (!s.head_method && !detail::body_forbidden(o.status)) piece.data.append(body);
      last = true;
      break;
    }
    case Outbound::Kind::start: {
      bool chunked = false;
      append_head(piece.data, o, s, close, chunked);
      // How the body to come is framed; only this thread reads these after the head.
      s.keep_alive = !close;
      s.skip_body = s.head_method || detail::body_forbidden(o.status);
      s.chunked = chunked && !s.skip_body;
      break;
    }
    case Outbound::Kind::chunk: {
      if (s.skip_body || o.body.empty()) {
        if (o.accounted) release_output(o.stream, o.accounted);  // HEAD, 204, 304: never written
        return;
      }
      if (s.chunked) {
        http1::write_chunk(piece.data, o.body);
      } else {
        piece.data = std::move(o.body);
      }
      break;
    }
    case Outbound::Kind::file: {
      // Opened and measured by the Python thread, which counted that size (the descriptor
      // closes with the last owner, sent or not).
      if (s.skip_body || !o.file || o.file->left == 0) return;
      if (s.chunked) {
        OutPiece size_line;
        size_line.stream = o.stream;
        detail::append_hex(size_line.data, o.file->left);
        size_line.data += "\r\n";
        emit(c, slot, s.seq, std::move(size_line), false, false);
        if (c.fd < 0) return;
        piece.file = std::move(o.file);
        emit(c, slot, s.seq, std::move(piece), false, false);
        if (c.fd < 0) return;
        OutPiece crlf;
        crlf.stream = o.stream;
        crlf.data = "\r\n";
        emit(c, slot, s.seq, std::move(crlf), false, false);
        return;
      }
      piece.file = std::move(o.file);
      break;
    }
    case Outbound::Kind::end: {
      if (s.chunked) piece.data = "0\r\n\r\n";
      close = !s.keep_alive;
      last = true;
      break;
    }
    default:
      return;
  }
  emit(c, slot, s.seq, std::move(piece), last, close);
}

inline void IoThread::emit(Connection& c, std::uint32_t slot, std::uint32_t seq, OutPiece piece, bool last, bool close) {
  const bool current = !c.open.empty() && c.open.front()->seq == seq;
  if (!current) {
    Deferred& d = c.deferred[seq];
    if (!piece.data.empty() || piece.file || piece.accounted) d.pieces.push_back(std::move(piece));
    if (last) {
      d.done = true;
      d.close = close;
    }
    return;
  }
  if (!piece.data.empty() || piece.file) {
    if (c.out.empty()) c.write_since = monotonic_now();
    c.out.push_back(std::move(piece));
  } else if (piece.accounted) {
    release_output(piece.stream, piece.accounted);
  }
  if (last) finish_response(c, slot, close);
  if (c.fd < 0) return;
  if (!in_commands_) {
    flush(c, slot);
  } else if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(slot);
  }
}

inline void IoThread::finish_response(Connection& c, std::uint32_t slot, bool close) {
  // The front request is answered; responses that were waiting for it follow.
  while (true) {
    if (c.streaming && c.open.front() == c.streaming) {
      // Answered before its body was all read: nobody will read the rest, which would hold the
      // connection paused at body_high_water forever. It is read and dropped instead, and the
      // next request follows it.
      c.discard_body = true;
      if (c.paused_body) {
        c.paused_body = false;
        c.streaming->in_paused.store(false);
        c.reading = true;
        update_events(c, slot);
      }
    }
    c.open.pop_front();
    engine_.stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (close) {
      c.close_after = true;
      c.reading = false;
      // Requests read after this one will not be answered; their apps are told (one may be
      // waiting for a drained record that will not come).
      for (auto& s : c.open) {
        engine_.stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
        notify_disconnect(s);
      }
      c.open.clear();
      c.deferred.clear();
      return;
    }
    if (c.open.empty()) break;
    if (c.pending && c.pending->continue_due && c.pending->stream == c.open.front()) {
      c.pending->continue_due = false;  // its turn: the client may send the body now
      send_continue(c);
    }
    auto it = c.deferred.find(c.open.front()->seq);
    if (it == c.deferred.end()) break;
    Deferred d = std::move(it->second);
    c.deferred.erase(it);
    for (auto& p : d.pieces) {
      if (!p.data.empty() || p.file) {
        c.out.push_back(std::move(p));
      } else if (p.accounted) {
        release_output(p.stream, p.accounted);
      }
    }
    if (!d.done) break;
    close = d.close;
  }
  if (c.close_after) return;
  if (c.open.empty()) {
    c.phase = c.streaming ? Connection::Phase::body
              : c.in.size() ? Connection::Phase::head
                            : Connection::Phase::idle;
    c.since = monotonic_now();
  }
  if (!c.eof && !c.paused_body && c.open.size() < engine_.config_.limits.max_pipelined) {
    if (!c.reading) {
      c.reading = true;
      update_events(c, slot);
    }
    // Requests read ahead and held at max_pipelined are in the buffer already: no EPOLLIN will
    // come for them (nor for what OpenSSL holds).
    if (c.in.size()) parse(c, slot);
    if (c.fd >= 0 && c.reading && c.tls.pending()) on_readable(c, slot);
  }
}

inline bool IoThread::send_file(Connection& c, std::uint32_t slot) {
  // The front piece is a file: send what the socket takes. False when the socket is full (or the
  // connection was closed).
  FileRange& f = *c.out.front().file;
  while (f.left > 0) {
    ssize_t w;
    if (c.tls.ssl) {
      char buf[65536];
      const ssize_t r = ::pread(f.fd, buf, std::min(f.left, sizeof buf), f.offset);
      if (r <= 0) {
        close_connection(slot);  // the file shrank or cannot be read: the response cannot end well
        return false;
      }
      iovec iov{buf, static_cast<std::size_t>(r)};
      w = c.tls.writev(&iov, 1);
      if (w > 0) f.offset += w;
    } else {
      w = ::sendfile(c.fd, f.fd, &f.offset, std::min<std::size_t>(f.left, 1u << 30));
      if (w == 0) {
        close_connection(slot);
        return false;
      }
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      close_connection(slot);
      return false;
    }
    f.left -= static_cast<std::size_t>(w);
    c.write_since = monotonic_now();
  }
  c.out.pop_front();
  return true;
}

inline void IoThread::flush(Connection& c, std::uint32_t slot) {
  while (!c.out.empty()) {
    if (c.out.front().file) {
      if (!send_file(c, slot)) {
        if (c.fd < 0) return;
        break;
      }
      continue;
    }
    iovec iov[64];
    int n = 0;
    std::size_t offset = c.out_offset;
    for (auto it = c.out.begin(); it != c.out.end() && n < 64 && !it->file; ++it, ++n) {
      iov[n].iov_base = it->data.data() + offset;
      iov[n].iov_len = it->data.size() - offset;
      offset = 0;
    }
    const ssize_t w = c.tls.ssl ? c.tls.writev(iov, n) : detail::send_pieces(c.fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_connection(slot);
      return;
    }
    c.write_since = monotonic_now();
    auto left = static_cast<std::size_t>(w);
    while (left > 0 && !c.out.empty() && !c.out.front().file) {
      OutPiece& front = c.out.front();
      const std::size_t rest = front.data.size() - c.out_offset;
      if (left < rest) {
        c.out_offset += left;
        left = 0;
        break;
      }
      left -= rest;
      c.out_offset = 0;
      if (front.accounted) release_output(front.stream, front.accounted);
      if (front.data.capacity() > c.spare_out.capacity() && front.data.capacity() <= detail::kSpareOutBytes) {
        c.spare_out = std::move(front.data);  // (the next response's head is written into it)
        c.spare_out.clear();
      }
      c.out.pop_front();
    }
  }
  if (c.out.empty() && c.close_after && c.open.empty()) {
    // All that was due is written: a clean close (FIN after the last byte).
    ::shutdown(c.fd, SHUT_WR);
    close_connection(slot);
    return;
  }
  update_events(c, slot);
}

inline void IoThread::update_events(Connection& c, std::uint32_t slot) {
  const bool want_out = !c.out.empty() || c.tls.want_write;
  const bool want_in = c.reading && !c.eof;
  epoll_event ev{};
  ev.events = (want_in ? EPOLLIN | EPOLLRDHUP : 0u) | (want_out ? EPOLLOUT : 0u);
  ev.data.u64 = slot;
  if (want_out != c.writing || want_in != c.epoll_in) ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.writing = want_out;
  c.epoll_in = want_in;
}

inline void IoThread::close_connection(std::uint32_t slot) {
  Connection& c = conns_[slot];
  if (c.fd < 0) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  if (c.tls.ssl) {
    c.tls.shutdown();
    c.tls.reset();
  }
  ::close(c.fd);
  c.fd = -1;
  ++c.gen;
  auto& stats = engine_.stats_;
  for (auto& s : c.open) {
    stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
    notify_disconnect(s);
  }
  if (c.pending) {
    // Never dispatched: the app does not know it.
    delete c.pending;
    c.pending = nullptr;
  }
  c.open.clear();
  c.deferred.clear();
  c.out.clear();
  c.out_offset = 0;
  std::string().swap(c.spare_out);
  c.streaming.reset();
  c.discard_body = false;
  c.in.release();
  c.parser.reset();
  c.peer_host.clear();
  free_.push_back(slot);
  stats.connections.fetch_sub(1, std::memory_order_relaxed);
  if (!accepting_ && !draining_ && listen_fd_ >= 0 &&
      static_cast<std::size_t>(stats.connections.load()) < engine_.config_.limits.max_connections) {
    listen_on();
  }
}

inline void IoThread::sweep(double now) {
  const auto& t = engine_.config_.timeouts;
  for (std::uint32_t s = 0; s < conns_.size(); ++s) {
    Connection& c = conns_[s];
    if (c.fd < 0) continue;
    if (!c.out.empty() && now - c.write_since > t.write) {
      engine_.stats_.timeouts.fetch_add(1);
      close_connection(s);
      continue;
    }
    switch (c.phase) {
      case Connection::Phase::idle:
        if (c.open.empty() && c.out.empty() && now - c.since > t.keep_alive) close_connection(s);
        break;
      case Connection::Phase::head:
        if (c.open.empty() && now - c.since > t.header) {
          engine_.stats_.timeouts.fetch_add(1);
          if (c.out.empty()) {
            fail(c, s, 408, "header timeout");
            if (c.fd >= 0) close_connection(s);
          } else {
            close_connection(s);
          }
        }
        break;
      case Connection::Phase::body:
        if (!c.paused_body && now - c.since > t.body) {
          engine_.stats_.timeouts.fetch_add(1);
          close_connection(s);
        }
        break;
      case Connection::Phase::busy:
        break;
    }
  }
}

}  // namespace fasterapi::server
