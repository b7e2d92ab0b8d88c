// A set of stream ids kept as a sorted vector: ascending iteration like std::set, but its memory
// stays once grown, so the per-packet churn of "this stream owes a frame / a writable event"
// allocates nothing. Sized for the handful of streams that are due at once (O(n) insert).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace srudp::stream {

class StreamIdSet {
 public:
  using const_iterator = std::vector<std::uint64_t>::const_iterator;

  void insert(std::uint64_t id) {
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) ids_.insert(it, id);
  }
  // Whether it was there.
  bool erase(std::uint64_t id) {
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) return false;
    ids_.erase(it);
    return true;
  }
  const_iterator erase(const_iterator it) { return ids_.erase(it); }  // the next one
  void clear() { ids_.clear(); }
  bool empty() const { return ids_.empty(); }
  std::size_t size() const { return ids_.size(); }
  const_iterator begin() const { return ids_.begin(); }
  const_iterator end() const { return ids_.end(); }

 private:
  std::vector<std::uint64_t> ids_;  // ascending, unique
};

}  // namespace srudp::stream
