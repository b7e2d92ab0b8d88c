// Records every datagram entering a site (a tap that always passes), for assertions about what
// went over the wire and for replay attacks: capture now, inject() a copy later.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "sim/network.hpp"

namespace srudp::sim {

class PacketCapture {
 public:
  struct Packet {
    Instant at;
    Datagram datagram;
  };
  // Only datagrams for which 'filter' returns true are kept (default: all).
  PacketCapture(Network& network, Site& site, std::function<bool(const Datagram&)> filter = {});
  ~PacketCapture();
  PacketCapture(const PacketCapture&) = delete;
  PacketCapture& operator=(const PacketCapture&) = delete;

  const std::vector<Packet>& packets() const noexcept { return packets_; }
  void clear() { packets_.clear(); }
  // Send captured packet 'index' into the site again, unchanged, after 'delay'.
  void replay(std::size_t index, Duration delay = Duration::zero());

 private:
  Network& network_;
  Site& site_;
  TapId tap_;
  std::vector<Packet> packets_;
};

}  // namespace srudp::sim
