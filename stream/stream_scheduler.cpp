#include "stream/stream_scheduler.hpp"

#include <algorithm>

namespace srudp::stream {

void StreamScheduler::schedule(std::uint64_t id, std::uint8_t urgency) {
  if (where_.count(id) != 0) return;
  const std::uint8_t level = std::min(urgency, kMaxUrgency);
  auto& list = levels_[level];
  where_.emplace(id, Position{level, list.insert(list.end(), id)});
}

void StreamScheduler::set_urgency(std::uint64_t id, std::uint8_t urgency) {
  if (where_.count(id) == 0) return;
  remove(id);
  schedule(id, urgency);
}

void StreamScheduler::remove(std::uint64_t id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  levels_[it->second.level].erase(it->second.it);
  where_.erase(it);
}

std::optional<std::uint64_t> StreamScheduler::front() const {
  for (const auto& level : levels_) {
    if (!level.empty()) return level.front();
  }
  return std::nullopt;
}

void StreamScheduler::rotate(std::uint64_t id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  auto& list = levels_[it->second.level];
  list.splice(list.end(), list, it->second.it);  // iterators stay valid
}

void StreamScheduler::clear() {
  for (auto& level : levels_) level.clear();
  where_.clear();
}

}  // namespace srudp::stream
