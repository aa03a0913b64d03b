// fasterapi::server::Future / Promise: completing work across threads with continuations.
//
// A Promise is the writing end, a Future the reading end of one shared state. The value (or an
// exception) is set once, from any thread; a continuation attached with then() runs exactly once,
// on whichever thread comes second: the one that sets the value if the continuation was already
// attached, else the one that attaches it. There is no blocking get(): the engine never waits,
// it continues. The executor completes Python calls with these, and their continuation publishes
// the result on the ring toward the Python thread, where it resolves an asyncio future.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace fasterapi::server {

template <class T>
class Future;

// The outcome handed to a continuation: a value or the exception that stood for it.
template <class T>
class Result {
 public:
  explicit Result(T value) : v_(std::move(value)) {}
  explicit Result(std::exception_ptr e) : v_(std::move(e)) {}
  bool ok() const noexcept { return v_.index() == 0; }
  T& value() {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  std::exception_ptr error() const noexcept { return ok() ? nullptr : std::get<1>(v_); }

 private:
  std::variant<T, std::exception_ptr> v_;
};

namespace detail {

template <class T>
struct SharedState {
  std::mutex lock;
  std::optional<Result<T>> result;
  std::function<void(Result<T>&&)> continuation;
  bool satisfied = false;
};

}  // namespace detail

template <class T>
class Promise {
 public:
  Promise() : state_(std::make_shared<detail::SharedState<T>>()) {}

  Future<T> future() const { return Future<T>(state_); }

  void set_value(T value) { complete(Result<T>(std::move(value))); }
  void set_exception(std::exception_ptr e) { complete(Result<T>(std::move(e))); }

 private:
  void complete(Result<T>&& r) {
    std::function<void(Result<T>&&)> run;
    {
      std::lock_guard guard(state_->lock);
      if (state_->satisfied) throw std::logic_error("promise already satisfied");
      state_->satisfied = true;
      if (state_->continuation) {
        run = std::move(state_->continuation);
        state_->continuation = nullptr;
      } else {
        state_->result.emplace(std::move(r));
        return;
      }
    }
    run(std::move(r));
  }

  std::shared_ptr<detail::SharedState<T>> state_;
};

template <class T>
class Future {
 public:
  bool ready() const {
    std::lock_guard guard(state_->lock);
    return state_->result.has_value();
  }

  // Attaches the continuation (once). It gets a Result<T>; what it returns becomes the value of
  // the returned future, and an exception it throws becomes that future's exception.
  template <class F>
  auto then(F&& f) -> Future<std::invoke_result_t<F, Result<T>&&>> {
    using R = std::invoke_result_t<F, Result<T>&&>;
    static_assert(!std::is_void_v<R>, "a continuation returns a value (use a bool or a tag type)");
    Promise<R> next;
    Future<R> out = next.future();
    auto run = [f = std::forward<F>(f), next](Result<T>&& r) mutable {
      try {
        next.set_value(f(std::move(r)));
      } catch (...) {
        next.set_exception(std::current_exception());
      }
    };
    std::optional<Result<T>> ready;
    {
      std::lock_guard guard(state_->lock);
      if (state_->continuation) throw std::logic_error("a future takes one continuation");
      if (state_->result) {
        ready = std::move(state_->result);
        state_->result.reset();
      } else {
        state_->continuation = std::move(run);
        return out;
      }
    }
    run(std::move(*ready));
    return out;
  }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<detail::SharedState<T>> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::SharedState<T>> state_;
};

}  // namespace fasterapi::server
