#include "stream/stream_scheduler.hpp"

#include <algorithm>

namespace srudp::stream {

void StreamScheduler::schedule(std::uint64_t id, std::uint8_t urgency) {
  if (where_.count(id) != 0) return;
  const std::uint8_t level = std::min(urgency, kMaxUrgency);
  auto& list = levels_[level];
  std::list<std::uint64_t>::iterator it;
  if (spare_.empty()) {
    it = list.insert(list.end(), id);
  } else {
    it = spare_.begin();
    *it = id;
    list.splice(list.end(), spare_, it);
  }
  if (spare_position_) {
    spare_position_.key() = id;
    spare_position_.mapped() = Position{level, it};
    where_.insert(std::move(spare_position_));
  } else {
    where_.emplace(id, Position{level, it});
  }
}

void StreamScheduler::set_urgency(std::uint64_t id, std::uint8_t urgency) {
  if (where_.count(id) == 0) return;
  remove(id);
  schedule(id, urgency);
}

void StreamScheduler::remove(std::uint64_t id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  auto& list = levels_[it->second.level];
  if (spare_.size() < kMaxSpareNodes) {
    spare_.splice(spare_.end(), list, it->second.it);
  } else {
    list.erase(it->second.it);
  }
  spare_position_ = where_.extract(it);
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
  spare_.clear();
  spare_position_ = {};
}

}  // namespace srudp::stream
