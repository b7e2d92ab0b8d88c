// Which stream's data goes into the next STREAM frame. Streams with the lowest urgency value are
// served first (strict priority: 0 most urgent .. 7, as in RFC 9218); streams of equal urgency
// take turns, one frame each (round-robin), so two bulk transfers progress together and a small
// message on an urgent stream overtakes a bulk one.
//
// The scheduler holds only the streams that may have something to send. The connection calls
// schedule() when a stream gets data (a write, a loss, more flow-control credit) and drops a
// stream it finds blocked or empty; every operation is O(1) (a list per urgency level). A stream
// that comes and goes with every message (request and reply) reuses the nodes the last one left,
// so scheduling allocates nothing in the steady state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace srudp::stream {

inline constexpr std::uint8_t kMaxUrgency = 7;
inline constexpr std::uint8_t kDefaultUrgency = 3;

class StreamScheduler {
 public:
  // Queues `id` at the back of its urgency level; a stream already queued keeps its place.
  // Urgencies above kMaxUrgency count as kMaxUrgency.
  void schedule(std::uint64_t id, std::uint8_t urgency);
  // Moves a queued stream to the back of its new level (nothing when not queued).
  void set_urgency(std::uint64_t id, std::uint8_t urgency);
  void remove(std::uint64_t id);
  // The stream to serve next: the front of the most urgent non-empty level.
  std::optional<std::uint64_t> front() const;
  // `id` was served a frame and has more: it goes to the back of its level (its turn is over).
  void rotate(std::uint64_t id);

  bool contains(std::uint64_t id) const { return where_.count(id) != 0; }
  std::size_t size() const { return where_.size(); }
  bool empty() const { return where_.empty(); }
  void clear();

 private:
  struct Position {
    std::uint8_t level;
    std::list<std::uint64_t>::iterator it;
  };
  static constexpr std::size_t kMaxSpareNodes = 8;

  std::array<std::list<std::uint64_t>, kMaxUrgency + 1> levels_;
  std::unordered_map<std::uint64_t, Position> where_;
  // Nodes of removed streams, for the next schedule(): list nodes (up to kMaxSpareNodes) and one
  // map node.
  std::list<std::uint64_t> spare_;
  std::unordered_map<std::uint64_t, Position>::node_type spare_position_;
};

}  // namespace srudp::stream
