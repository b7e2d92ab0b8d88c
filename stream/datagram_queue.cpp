#include "stream/datagram_queue.hpp"

namespace srudp::stream {

void DatagramQueue::push(std::span<const std::uint8_t> payload) {
  if (capacity_ == 0) {
    ++dropped_;
    return;
  }
  while (entries_.size() >= capacity_) drop_front();
  entries_.push_back(Entry{std::vector<std::uint8_t>(payload.begin(), payload.end()), std::nullopt});
}

void DatagramQueue::drop_stale(Instant now, Duration max_age) {
  while (!entries_.empty() && entries_.front().waiting_since && now - *entries_.front().waiting_since > max_age) {
    drop_front();
  }
  // The newest entries are at the back: stamp until one already has its time.
  for (auto it = entries_.rbegin(); it != entries_.rend() && !it->waiting_since; ++it) it->waiting_since = now;
}

void DatagramQueue::drop_front() {
  entries_.pop_front();
  ++dropped_;
}

}  // namespace srudp::stream
