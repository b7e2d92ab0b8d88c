// A set of disjoint half-open byte ranges [start, end) over stream offsets. The send buffer keeps
// two of them (acknowledged out of order, lost and waiting for retransmission), so its memory and
// time grow with the number of outstanding ranges, never with the number of bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

namespace srudp::stream {

class RangeSet {
 public:
  struct Range {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // exclusive
    friend bool operator==(const Range&, const Range&) = default;
  };

  // Adds [start, end), merging with overlapping and adjacent ranges. O(log n + merged).
  void insert(std::uint64_t start, std::uint64_t end);
  // Removes [start, end), splitting a range that straddles an edge. O(log n + removed).
  void erase(std::uint64_t start, std::uint64_t end);
  void clear() noexcept;

  bool empty() const noexcept { return ranges_.empty(); }
  // Number of disjoint ranges.
  std::size_t size() const noexcept { return ranges_.size(); }
  // Sum of the lengths of all ranges.
  std::uint64_t total() const noexcept { return total_; }
  // The range with the lowest start.
  std::optional<Range> first() const;
  // Whether every offset of [start, end) is in the set (true for an empty range).
  bool contains(std::uint64_t start, std::uint64_t end) const;

  // Calls gap(s, e) for each maximal part [s, e) of [start, end) that is NOT in the set, in order.
  template <class Fn>
  void for_each_gap(std::uint64_t start, std::uint64_t end, Fn&& gap) const {
    if (start >= end) return;
    auto it = ranges_.upper_bound(start);
    if (it != ranges_.begin()) {
      const auto prev = std::prev(it);
      if (prev->second > start) start = prev->second;
    }
    for (; start < end; ++it) {
      if (it == ranges_.end() || it->first >= end) {
        gap(start, end);
        return;
      }
      if (it->first > start) gap(start, it->first);
      start = it->second;
    }
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [s, e] : ranges_) fn(s, e);
  }

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // start -> end, disjoint and non-adjacent
  std::uint64_t total_ = 0;
};

}  // namespace srudp::stream
