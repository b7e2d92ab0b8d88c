// The simulator's agenda: actions ordered by (virtual time, insertion sequence). The sequence
// number breaks ties, so two events at the same instant always run in the order they were
// scheduled and a run never depends on heap internals.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/time.hpp"

namespace srudp::sim {

class EventQueue {
 public:
  using Action = std::function<void()>;

  void push(Instant at, Action action);
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  // Time of the earliest event; only when !empty().
  Instant next_time() const noexcept { return heap_.front().at; }
  // Removes and returns the earliest action (with its time). Only when !empty().
  std::pair<Instant, Action> pop();

 private:
  struct Event {
    Instant at;
    std::uint64_t sequence;
    Action action;
  };
  // std::push_heap builds a max-heap: "less" means "runs later".
  static bool later(const Event& a, const Event& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
  }

  std::vector<Event> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace srudp::sim
