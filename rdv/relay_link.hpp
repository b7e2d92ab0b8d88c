// rdv::RelayLink: the client's end of the rdv relay, as a path of its endpoint. After CONTINUE the
// TCP connection to the rdv server carries srudp packets in relay frames
// (rendezvous/relay_framing.hpp); the endpoint sends to relay_path_address() through send(), and
// frames read from the server go into the endpoint under that address.
//
// Like UDP it drops rather than queues without bound: beyond kMaxQueuedBytes waiting for the TCP
// socket, datagrams are dropped (the connection's congestion control sees loss, as on any path).
// A keepalive frame goes out after kKeepaliveInterval without sending, so the server's relay idle
// timeout does not close the relay while the connection runs on a direct path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "io/datagram_path.hpp"
#include "rendezvous/relay_framing.hpp"

namespace srudp::io {
class EndpointCore;
}

namespace srudp::rdv {

class RelayLink : public io::DatagramPath, public std::enable_shared_from_this<RelayLink> {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 256 * 1024;
  static constexpr std::chrono::seconds kKeepaliveInterval{30};

  // `already_read`: bytes that arrived with the 101 (or the CONTINUE line) and belong to the relay.
  RelayLink(boost::asio::ip::tcp::socket socket, std::weak_ptr<io::EndpointCore> endpoint,
            std::span<const std::uint8_t> already_read);
  RelayLink(const RelayLink&) = delete;
  RelayLink& operator=(const RelayLink&) = delete;

  // Starts reading and the keepalives. `on_closed` runs once, when the relay ends (the server
  // closed it, it failed, or it spoke something other than relay frames).
  void start(std::function<void(boost::system::error_code)> on_closed);

  void send(std::span<const std::uint8_t> datagram) override;
  void close() override;

  bool is_open() const { return open_; }
  std::uint64_t datagrams_dropped() const { return dropped_; }

 private:
  void read();
  void deliver();
  void write();
  void arm_keepalive();
  void fail(boost::system::error_code ec);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer keepalive_;
  std::weak_ptr<io::EndpointCore> endpoint_;
  std::function<void(boost::system::error_code)> on_closed_;
  rendezvous::RelayFrameReader reader_;
  std::array<std::uint8_t, 16 * 1024> read_buffer_{};
  std::vector<std::uint8_t> queued_;   // frames waiting for the socket
  std::vector<std::uint8_t> writing_;  // frames the socket is writing now
  std::chrono::steady_clock::time_point last_sent_{};
  std::uint64_t dropped_ = 0;
  bool open_ = true;
};

}  // namespace srudp::rdv
