#include "stream/range_set.hpp"

#include <algorithm>

namespace srudp::stream {

void RangeSet::insert(std::uint64_t start, std::uint64_t end) {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    const auto prev = std::prev(it);
    if (prev->second >= start) {  // overlaps or touches: absorb it
      start = prev->first;
      end = std::max(end, prev->second);
      total_ -= prev->second - prev->first;
      ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    total_ -= it->second - it->first;
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, start, end);
  total_ += end - start;
}

void RangeSet::erase(std::uint64_t start, std::uint64_t end) {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    const auto prev = std::prev(it);
    if (prev->second > start) {
      const std::uint64_t prev_end = prev->second;
      if (prev->first < start) {
        prev->second = start;  // keep the left part
      } else {
        ranges_.erase(prev);
      }
      total_ -= std::min(prev_end, end) - start;
      if (prev_end > end) {  // [start, end) was strictly inside: keep the right part too
        ranges_.emplace_hint(it, end, prev_end);
        return;
      }
    }
  }
  while (it != ranges_.end() && it->first < end) {
    if (it->second <= end) {
      total_ -= it->second - it->first;
      it = ranges_.erase(it);
    } else {  // straddles the end: keep [end, it->second)
      const std::uint64_t right_end = it->second;
      total_ -= end - it->first;
      it = ranges_.erase(it);
      ranges_.emplace_hint(it, end, right_end);
      return;
    }
  }
}

void RangeSet::clear() noexcept {
  ranges_.clear();
  total_ = 0;
}

std::optional<RangeSet::Range> RangeSet::first() const {
  if (ranges_.empty()) return std::nullopt;
  return Range{ranges_.begin()->first, ranges_.begin()->second};
}

bool RangeSet::contains(std::uint64_t start, std::uint64_t end) const {
  if (start >= end) return true;
  auto it = ranges_.upper_bound(start);
  if (it == ranges_.begin()) return false;
  --it;
  return it->second >= end;
}

}  // namespace srudp::stream
