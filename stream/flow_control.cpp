#include "stream/flow_control.hpp"

#include <algorithm>

namespace srudp::stream {

std::uint64_t WindowTuner::next_window(std::uint64_t window, std::uint64_t max_window, Instant now,
                                       Duration smoothed_rtt) {
  std::uint64_t next = window;
  if (last_update_ && now - *last_update_ < 2 * smoothed_rtt && window < max_window) {
    next = std::min(window * 2, max_window);
  }
  last_update_ = now;
  return next;
}

ConnectionFlowControl::ConnectionFlowControl(std::uint64_t receive_window, std::uint64_t max_receive_window)
    : window_(receive_window), max_window_(std::max(receive_window, max_receive_window)), advertised_(receive_window) {}

bool ConnectionFlowControl::on_max_data(std::uint64_t limit) {
  if (limit <= send_limit_) return false;
  send_limit_ = limit;
  return true;
}

void ConnectionFlowControl::on_consumed(std::uint64_t bytes, Instant now, Duration smoothed_rtt) {
  consumed_ += bytes;
  // An update once half a window was consumed since the last one: fewer frames than one per read.
  if (consumed_ + window_ < advertised_ + window_ / 2) return;
  window_ = tuner_.next_window(window_, max_window_, now, smoothed_rtt);
  advertised_ = std::max(advertised_, consumed_ + window_);
  update_due_ = true;
}

}  // namespace srudp::stream
