// io::DatagramPath: a path that is not the endpoint's UDP socket (the rdv relay over TCP). The
// connection addresses it by a pseudo-address of its own (EndpointCore::attach_path); datagrams
// that arrive on it go in through EndpointCore::inject_datagram under that address.
#pragma once

#include <cstdint>
#include <span>

namespace srudp::io {

class DatagramPath {
 public:
  virtual ~DatagramPath() = default;
  // Best effort, as UDP: the path may drop a datagram it cannot carry now. `datagram` is only
  // valid during the call.
  virtual void send(std::span<const std::uint8_t> datagram) = 0;
  // The endpoint is closing (after its connections sent their CLOSE).
  virtual void close() = 0;
};

}  // namespace srudp::io
