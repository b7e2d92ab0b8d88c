// The receive-buffer rules stated plainly, one map entry per byte: what stream::ReceiveBuffer
// must match exactly. Shared by the unit test and the fuzz target.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace srudp::stream::test {

class NaiveReceiveBuffer {
 public:
  static constexpr std::uint64_t kMaxOffset = (std::uint64_t{1} << 62) - 1;

  explicit NaiveReceiveBuffer(std::uint64_t window) : window_(window), limit_(window) {}

  bool insert(std::uint64_t offset, const std::vector<std::uint8_t>& data, bool fin) {
    if (offset > kMaxOffset || data.size() > kMaxOffset - offset) return false;
    const std::uint64_t end = offset + data.size();
    if (end > limit_ || !final_size_ok(end, fin)) return false;
    if (fin) final_ = end;
    highest_ = std::max(highest_, end);
    if (reset_) return true;
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (offset + i >= read_) bytes_.emplace(offset + i, data[i]);  // emplace keeps the first
    }
    return true;
  }
  bool reset(std::uint64_t final_size) {
    if (final_size > kMaxOffset || final_size > limit_ || !final_size_ok(final_size, true)) return false;
    final_ = final_size;
    highest_ = final_size;
    reset_ = true;
    bytes_.clear();
    return true;
  }
  std::vector<std::uint8_t> read(std::size_t max) {
    std::vector<std::uint8_t> out;
    if (reset_) return out;
    while (out.size() < max) {
      const auto it = bytes_.find(read_);
      if (it == bytes_.end()) break;
      out.push_back(it->second);
      bytes_.erase(it);
      ++read_;
    }
    return out;
  }
  std::size_t readable() const {
    if (reset_) return 0;
    std::size_t n = 0;
    for (auto it = bytes_.find(read_); it != bytes_.end() && it->first == read_ + n; ++it) ++n;
    return n;
  }
  std::optional<std::uint64_t> update() {
    if (final_ || reset_) return std::nullopt;
    const std::uint64_t candidate = read_ + std::min(window_, kMaxOffset - read_);
    if (candidate <= limit_ || candidate - limit_ < window_ / 2) return std::nullopt;
    limit_ = candidate;
    return limit_;
  }
  void set_window(std::uint64_t window) { window_ = std::max(window_, window); }

  std::uint64_t limit() const { return limit_; }
  std::uint64_t read_offset() const { return read_; }
  std::uint64_t highest() const { return highest_; }
  std::uint64_t window() const { return window_; }
  std::optional<std::uint64_t> final_size() const { return final_; }
  bool finished() const { return !reset_ && final_ && read_ == *final_; }

 private:
  bool final_size_ok(std::uint64_t end, bool fin) const {
    if (final_) return end <= *final_ && (!fin || end == *final_);
    return !fin || end >= highest_;
  }

  std::uint64_t window_;
  std::uint64_t limit_;
  std::uint64_t read_ = 0;
  std::uint64_t highest_ = 0;
  std::optional<std::uint64_t> final_;
  bool reset_ = false;
  std::map<std::uint64_t, std::uint8_t> bytes_;
};

}  // namespace srudp::stream::test
