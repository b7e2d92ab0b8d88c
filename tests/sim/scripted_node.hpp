// A Node for tests that do not need a protocol: it sends what it is told, when it is told, and
// records everything it receives. Also handy as the far end of a real protocol node (an echo
// server, a peer that replays captured bytes).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "sim/node.hpp"

namespace srudp::sim {

class ScriptedNode final : public Node {
 public:
  struct Received {
    Instant at;
    Datagram datagram;
  };
  // Called for each datagram received, after it is recorded (may call send()).
  using OnReceive = std::function<void(Instant now, const Datagram&, ScriptedNode&)>;

  explicit ScriptedNode(SocketAddress local) : local_(local) {}

  // Queue a datagram from the local address, sent at the next poll (the next run, or
  // Network::wake). send_at sends at a virtual time (through the node's timer).
  void send(const SocketAddress& to, std::vector<std::uint8_t> bytes);
  void send_from(const SocketAddress& from, const SocketAddress& to,
                 std::vector<std::uint8_t> bytes);
  void send_at(Instant at, const SocketAddress& to, std::vector<std::uint8_t> bytes);
  // 'count' datagrams to 'to', one every 'interval' starting at 'first'; each payload starts
  // with its 8-byte big-endian index (see index_of) and is padded to 'size' bytes (min 8).
  void send_series(Instant first, Duration interval, std::uint64_t count, const SocketAddress& to,
                   std::size_t size);
  static std::uint64_t index_of(const Datagram& datagram);

  void on_receive(OnReceive callback) { on_receive_ = std::move(callback); }
  // Reply to every datagram with the same bytes.
  void echo();

  const SocketAddress& local() const noexcept { return local_; }
  const std::vector<Received>& received() const noexcept { return received_; }
  void clear_received() { received_.clear(); }
  std::size_t pending() const noexcept { return outbox_.size() + scheduled_.size(); }

  void handle_datagram(Instant now, const Datagram& datagram) override;
  std::optional<Datagram> poll_transmit(Instant now) override;
  std::optional<Instant> poll_timeout() override;
  void handle_timeout(Instant now) override;

 private:
  SocketAddress local_;
  std::deque<Datagram> outbox_;
  std::multimap<Instant, Datagram> scheduled_;  // equal times keep insertion order
  std::vector<Received> received_;
  OnReceive on_receive_;
};

}  // namespace srudp::sim
