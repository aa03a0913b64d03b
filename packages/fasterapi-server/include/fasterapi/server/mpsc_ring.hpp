// fasterapi::server::MpscRing: a bounded ring of pointers, many producers and one consumer.
//
// Each cell carries a sequence number that says whose turn it is (Dmitry Vyukov's bounded queue):
// a producer claims a position with one compare-and-swap on the tail, writes the item, then
// publishes it by storing position + 1 in the cell; the consumer takes the cell whose sequence is
// head + 1 and hands it back to the producers by storing head + capacity. No locks, no allocation
// after construction. The I/O threads and the executor push requests and completions toward the
// Python thread through one of these; the Python thread pushes commands toward each I/O thread
// through another.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

namespace fasterapi::server {

template <class T>
class MpscRing {
 public:
  explicit MpscRing(std::size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw std::invalid_argument("ring capacity must be a power of two");
    mask_ = capacity - 1;
    cells_ = std::make_unique<Cell[]>(capacity);
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpscRing(const MpscRing&) = delete;
  MpscRing& operator=(const MpscRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // Any thread. False when the ring is full.
  bool try_push(T* item) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    cell->item = item;
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Any thread. Waits (yielding the CPU) while the ring is full: the consumer never waits on a
  // producer, so it makes room.
  void push(T* item) noexcept {
    while (!try_push(item)) std::this_thread::yield();
  }

  // The consumer only. nullptr when nothing is published at the head (a producer that has
  // claimed the head but not yet published counts as nothing: it notifies after publishing).
  T* pop() noexcept {
    Cell& cell = cells_[head_ & mask_];
    const std::size_t seq = cell.seq.load(std::memory_order_acquire);
    if (seq != head_ + 1) return nullptr;
    T* item = cell.item;
    cell.seq.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    return item;
  }

  // The consumer only.
  bool empty() const noexcept { return cells_[head_ & mask_].seq.load(std::memory_order_acquire) != head_ + 1; }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T* item = nullptr;
  };
  static constexpr std::size_t kLine = 64;

  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(kLine) std::atomic<std::size_t> tail_{0};
  alignas(kLine) std::size_t head_ = 0;
};

}  // namespace fasterapi::server
