#include "sim/scripted_node.hpp"

#include <algorithm>
#include <utility>

namespace srudp::sim {

void ScriptedNode::send(const SocketAddress& to, std::vector<std::uint8_t> bytes) {
  send_from(local_, to, std::move(bytes));
}

void ScriptedNode::send_from(const SocketAddress& from, const SocketAddress& to,
                             std::vector<std::uint8_t> bytes) {
  outbox_.push_back(Datagram{from, to, std::move(bytes)});
}

void ScriptedNode::send_at(Instant at, const SocketAddress& to, std::vector<std::uint8_t> bytes) {
  scheduled_.emplace(at, Datagram{local_, to, std::move(bytes)});
}

void ScriptedNode::send_series(Instant first, Duration interval, std::uint64_t count,
                               const SocketAddress& to, std::size_t size) {
  for (std::uint64_t i = 0; i < count; ++i) {
    std::vector<std::uint8_t> bytes(std::max<std::size_t>(size, 8), 0);
    for (std::size_t b = 0; b < 8; ++b) bytes[b] = static_cast<std::uint8_t>(i >> (56 - 8 * b));
    send_at(first + interval * static_cast<Duration::rep>(i), to, std::move(bytes));
  }
}

std::uint64_t ScriptedNode::index_of(const Datagram& datagram) {
  std::uint64_t v = 0;
  for (std::size_t b = 0; b < 8 && b < datagram.bytes.size(); ++b) {
    v = (v << 8) | datagram.bytes[b];
  }
  return v;
}

void ScriptedNode::echo() {
  on_receive([](Instant, const Datagram& d, ScriptedNode& self) {
    self.send_from(d.to, d.from, d.bytes);
  });
}

void ScriptedNode::handle_datagram(Instant now, const Datagram& datagram) {
  received_.push_back(Received{now, datagram});
  if (on_receive_) on_receive_(now, datagram, *this);
}

std::optional<Datagram> ScriptedNode::poll_transmit(Instant now) {
  while (!scheduled_.empty() && scheduled_.begin()->first <= now) {
    outbox_.push_back(std::move(scheduled_.begin()->second));
    scheduled_.erase(scheduled_.begin());
  }
  if (outbox_.empty()) return std::nullopt;
  Datagram d = std::move(outbox_.front());
  outbox_.pop_front();
  return d;
}

std::optional<Instant> ScriptedNode::poll_timeout() {
  if (scheduled_.empty()) return std::nullopt;
  return scheduled_.begin()->first;
}

void ScriptedNode::handle_timeout(Instant) {}  // due datagrams move to the outbox when polled

}  // namespace srudp::sim
