// fasterapi::server::Executor: a fixed pool of threads for blocking work (sync endpoints).
//
// submit() queues a callable and returns a Future of its result; the caller attaches what to do
// with the result as a continuation (the binding publishes it on the ring toward the Python
// thread, which resolves an asyncio future). Threads start as jobs come, up to `size`: one more
// whenever the queued jobs outnumber the idle threads; set_size() changes that bound at any time
// (threads past a smaller one leave once idle). stop() lets the running jobs finish, drops the
// queued ones (their futures get an exception) and joins. `on_leave`, when given, is run by each
// thread as it leaves, before anyone may join it and without the pool's lock: what the thread
// keeps of its own is let go there (the binding's: the thread's Python thread state, which takes
// the GIL; the pool joins a thread that left a smaller pool from submit(), where its caller may
// hold the GIL).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "fasterapi/server/future.hpp"

namespace fasterapi::server {

struct ExecutorStopped : std::runtime_error {
  ExecutorStopped() : std::runtime_error("the executor has stopped") {}
};

class Executor {
 public:
  explicit Executor(std::size_t size, std::function<void()> on_leave = {})
      : size_(size ? size : 1), on_leave_(std::move(on_leave)) {}
  ~Executor() { stop(); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  std::size_t size() {
    std::lock_guard guard(lock_);
    return size_;
  }
  std::size_t threads() {
    std::lock_guard guard(lock_);
    return live_;
  }

  void set_size(std::size_t size) {
    {
      std::lock_guard guard(lock_);
      size_ = size ? size : 1;
      grow();  // jobs queued while every thread was busy get the threads now allowed (and those
               // that left earlier are joined)
    }
    ready_.notify_all();  // idle threads past a smaller size leave
  }

  template <class F>
  auto submit(F&& f) -> Future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    Promise<R> promise;
    Future<R> future = promise.future();
    Job job{[f = std::forward<F>(f), promise]() mutable {
              try {
                promise.set_value(f());
              } catch (...) {
                promise.set_exception(std::current_exception());
              }
            },
            [promise]() mutable { promise.set_exception(std::make_exception_ptr(ExecutorStopped())); }};
    {
      std::lock_guard guard(lock_);
      if (stopped_) {
        job.drop();
        return future;
      }
      queue_.push_back(std::move(job));
      grow();
    }
    ready_.notify_one();
    return future;
  }

  void stop() {
    std::deque<Job> dropped;
    std::vector<std::thread> joining;  // (taken under the lock: set_size() from another thread reaps the list)
    {
      std::lock_guard guard(lock_);
      if (stopped_) return;
      stopped_ = true;
      dropped.swap(queue_);
      joining.swap(threads_);
      left_.clear();  // (among those joined here)
    }
    ready_.notify_all();
    for (auto& t : joining) t.join();
    for (auto& job : dropped) job.drop();
  }

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> drop;
  };

  // Under lock_. Each idle thread (one that started counts as idle) takes one queued job.
  void grow() {
    reap();
    while (live_ < size_ && queue_.size() > idle_ && !stopped_) {
      ++live_;
      ++idle_;
      threads_.emplace_back([this] { work(); });
    }
  }

  // Under lock_: joins the threads that left a smaller pool (each has released lock_ for good
  // once it can take it again, or is about to).
  void reap() {
    for (const auto id : left_) {
      auto it = std::find_if(threads_.begin(), threads_.end(), [id](const std::thread& t) { return t.get_id() == id; });
      if (it != threads_.end()) {
        it->join();
        threads_.erase(it);
      }
    }
    left_.clear();
  }

  void work() {
    std::unique_lock guard(lock_);
    while (true) {
      ready_.wait(guard, [this] { return stopped_ || !queue_.empty() || live_ > size_; });
      --idle_;
      if (stopped_ || live_ > size_) {
        --live_;
        if (on_leave_) {
          guard.unlock();
          on_leave_();
          guard.lock();
        }
        if (!stopped_) left_.push_back(std::this_thread::get_id());  // joined by reap()
        return;
      }
      Job job = std::move(queue_.front());
      queue_.pop_front();
      guard.unlock();
      job.run();
      guard.lock();
      ++idle_;
    }
  }

  std::size_t size_;
  std::function<void()> on_leave_;
  std::mutex lock_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> left_;  // threads that left, not yet joined
  std::size_t live_ = 0;              // threads not yet left
  std::size_t idle_ = 0;
  bool stopped_ = false;
};

}  // namespace fasterapi::server
