// Unreliable datagrams (DATAGRAM frames, RFC 9221) waiting for room in a packet. They are never
// retransmitted, and under congestion they are dropped rather than queued: the queue holds at
// most `capacity` (the oldest goes when a new one arrives), and a datagram that waited too long
// is dropped instead of being sent stale (a game's position update is worthless once the next one
// exists). Every drop is counted.
//
// Application calls carry no time (the connection only knows the time of its last event, which
// may be long past), so a datagram's wait starts at the first drop_stale() after its push: the
// first time the connection could send it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/deque.hpp"
#include "common/time.hpp"

namespace srudp::stream {

class DatagramQueue {
 public:
  explicit DatagramQueue(std::size_t capacity) : capacity_(capacity) {}

  // Queues a copy of `payload`, dropping the oldest when full (a capacity of 0 drops it at once).
  void push(std::span<const std::uint8_t> payload);
  // Drops the datagrams that have waited longer than `max_age` at `now`; starts the clock of those
  // pushed since the last call.
  void drop_stale(Instant now, Duration max_age);
  // The oldest datagram; precondition: !empty().
  const std::vector<std::uint8_t>& front() const { return entries_.front().payload; }
  void pop() { entries_.pop_front(); }  // sent
  void drop_front();                     // not sent, counted (it no longer fits a packet)
  void clear() { entries_.clear(); }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    std::vector<std::uint8_t> payload;
    std::optional<Instant> waiting_since;
  };
  std::size_t capacity_;
  Deque<Entry> entries_;
  std::uint64_t dropped_ = 0;
};

}  // namespace srudp::stream
