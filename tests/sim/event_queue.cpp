#include "sim/event_queue.hpp"

#include <algorithm>
#include <utility>

namespace srudp::sim {

void EventQueue::push(Instant at, Action action) {
  heap_.push_back(Event{at, next_sequence_++, std::move(action)});
  std::push_heap(heap_.begin(), heap_.end(), later);
}

std::pair<Instant, EventQueue::Action> EventQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Event e = std::move(heap_.back());
  heap_.pop_back();
  return {e.at, std::move(e.action)};
}

}  // namespace srudp::sim
