// A sim::Node around one transport::Endpoint, for simulator tests: it records accepted and
// established connections, and can stop taking events (`polling = false`) like a driver that
// stops draining. Plus the PSK configuration the endpoint tests share.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sim/network.hpp"
#include "sim/node.hpp"
#include "transport/endpoint.hpp"

namespace srudp::transport::test {

inline ConnectionConfig psk_config() {
  ConnectionConfig c;
  c.handshake.psk.emplace();
  c.handshake.psk->bytes()[0] = 11;
  return c;
}

// An Endpoint as a simulator node; records events per connection handle.
class EndpointNode final : public sim::Node {
 public:
  EndpointNode(SocketAddress self, EndpointConfig config, RandomSource& rng)
      : self_(self), endpoint(std::move(config), rng) {}

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    endpoint.handle_datagram(now, d.from, d.bytes);
    drain();
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    std::vector<std::uint8_t> buf(1500);
    auto t = endpoint.poll_transmit(now, buf);
    drain();
    if (!t) return std::nullopt;
    buf.resize(t->size);
    return sim::Datagram{self_, t->to, std::move(buf)};
  }
  std::optional<Instant> poll_timeout() override { return endpoint.poll_timeout(); }
  void handle_timeout(Instant now) override {
    endpoint.handle_timeout(now);
    drain();
  }
  void drain() {
    while (auto e = polling ? endpoint.poll_event() : std::nullopt) {
      if (e->kind == EndpointEvent::Kind::accepted) accepted.push_back(e->handle);
      if (e->kind == EndpointEvent::Kind::connection && e->event.kind == ConnectionEvent::Kind::established) {
        established.push_back(e->handle);
      }
    }
  }
  // Reads whatever `handle`'s stream has, appending to `into`.
  void read_all(ConnectionHandle handle, std::uint64_t stream, std::vector<std::uint8_t>& into) {
    std::array<std::uint8_t, 4096> buf{};
    for (;;) {
      auto n = endpoint.connection(handle)->stream_read(stream, buf);
      if (!n || *n == 0) return;
      into.insert(into.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  }

  SocketAddress self_;
  Endpoint endpoint;
  std::vector<ConnectionHandle> accepted, established;
  bool polling = true;  // false: the application stops taking events
};

}  // namespace srudp::transport::test
