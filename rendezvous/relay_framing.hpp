// Relay framing: how srudp packets cross the rdv server's TCP relay connection.
//
// After CONTINUE the relay copies bytes both ways, so the peers frame their datagrams themselves:
// a 2-byte big-endian length, then that many bytes of one srudp packet (still sealed end to end:
// the relay sees only ciphertext). A zero length is a keepalive that carries nothing; it keeps
// the server's relay idle timer from firing while the connection runs on a direct path.
//
// The connection sees the relay as one more path with an address of its own, relay_path_address(),
// taken from 100::/64 (RFC 6666, discard-only), which no real peer can have.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "common/address.hpp"
#include "common/result.hpp"

namespace srudp::rendezvous {

inline constexpr std::size_t kRelayFrameHeader = 2;
// Larger than any srudp packet (path MTU discovery stops at 1452 bytes of UDP payload).
inline constexpr std::size_t kMaxRelayDatagram = 2048;

SocketAddress relay_path_address();
bool is_relay_path_address(const SocketAddress& address);

// Appends one frame holding `datagram` (empty: a keepalive). errc::invalid_argument above
// kMaxRelayDatagram.
std::error_code append_relay_frame(std::span<const std::uint8_t> datagram, std::vector<std::uint8_t>& out);

// Reassembles frames from the byte stream, whatever the TCP segment boundaries.
class RelayFrameReader {
 public:
  // Takes the bytes read from the relay connection.
  void feed(std::span<const std::uint8_t> bytes);
  struct Frame {
    enum class Kind { need_more, datagram, malformed } kind = Kind::need_more;
    std::span<const std::uint8_t> datagram;  // valid until the next call to feed or next
  };
  // The next complete datagram, keepalives skipped. malformed: a frame over kMaxRelayDatagram (the
  // other end does not speak this framing; close the relay connection). It stays malformed.
  Frame next();
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;  // bytes before this were handed out
  bool malformed_ = false;
};

}  // namespace srudp::rendezvous
