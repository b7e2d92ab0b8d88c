// The replay-window rule stated plainly, on a std::set: what crypto::ReplayWindow must match
// exactly. Shared by the unit test and the fuzz target.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

#include "crypto/replay_window.hpp"

namespace srudp::crypto::test {

class NaiveReplayWindow {
 public:
  static constexpr std::uint64_t kWindow = ReplayWindow::kWindowSize;

  bool may_accept(std::uint64_t pn) const {
    if (!largest_ || pn > *largest_) return true;
    if (*largest_ - pn >= kWindow) return false;
    return seen_.count(pn) == 0;
  }
  void mark(std::uint64_t pn) {
    if (largest_ && pn < *largest_ && *largest_ - pn >= kWindow) return;
    seen_.insert(pn);
    if (!largest_ || pn > *largest_) {
      largest_ = pn;
      // Forget what left the window so memory stays bounded.
      const std::uint64_t floor = pn >= kWindow ? pn - kWindow + 1 : 0;
      seen_.erase(seen_.begin(), seen_.lower_bound(floor));
    }
  }
  std::uint64_t largest() const { return largest_.value_or(0); }

 private:
  std::optional<std::uint64_t> largest_;
  std::set<std::uint64_t> seen_;
};

}  // namespace srudp::crypto::test
