// fasterapi::server::Waker: one eventfd write per batch, not per item.
//
// The consumer of a ring announces that it is about to sleep (sleep_begin), looks at the ring
// once more, and only then blocks on the eventfd (epoll, or asyncio's add_reader). A producer
// publishes its item, then notify()s: it writes the eventfd only if the consumer announced sleep,
// and only the first producer to see that does (the flag is exchanged back to false). The fences
// order "publish, then read the flag" against "set the flag, then read the ring", so a consumer
// never sleeps on a published item (the Dekker pattern). While the consumer is busy, producers
// write nothing at all: under load a whole batch costs one wake-up.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace fasterapi::server {

class Waker {
 public:
  Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~Waker() { ::close(fd_); }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  int fd() const noexcept { return fd_; }

  // Producer side, after publishing.
  void notify() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false, std::memory_order_acq_rel)) signal();
  }

  // Wakes the consumer whatever it announced (shutdown, a timer).
  void signal() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
  }

  // Consumer side: announce, then look at the ring again before blocking.
  void sleep_begin() noexcept {
    sleeping_.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  void sleep_cancel() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

  // Consumer side, after waking: reset the eventfd's counter.
  void clear() noexcept {
    std::uint64_t value;
    [[maybe_unused]] const auto n = ::read(fd_, &value, sizeof value);
  }

 private:
  int fd_;
  std::atomic<bool> sleeping_{true};
};

}  // namespace fasterapi::server
