// rdv::PunchDriver: runs a rendezvous::HolePuncher on an srudp endpoint's UDP socket (the socket
// the connection uses, so the probes open the very NAT mappings its packets take). The endpoint
// hands it the STUN datagrams it receives; it sends probes and answers through send_raw and wakes
// on one timer.
//
// local_candidates(): this host's addresses for Rdv-Self-Addrs, with the socket's port: public and
// private IPv4 and IPv6 (not link-local), loopback only when asked.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/address.hpp"
#include "common/random.hpp"
#include "rendezvous/hole_puncher.hpp"

namespace srudp::io {
class EndpointCore;
}

namespace srudp::rdv {

std::vector<SocketAddress> local_candidates(std::uint16_t port, bool include_loopback);

class PunchDriver : public std::enable_shared_from_this<PunchDriver> {
 public:
  PunchDriver(const boost::asio::any_io_executor& executor, std::weak_ptr<io::EndpointCore> endpoint,
              const rendezvous::HolePuncherConfig& config);
  PunchDriver(const PunchDriver&) = delete;
  PunchDriver& operator=(const PunchDriver&) = delete;

  // Events (found, lost, restored, exhausted) are delivered to on_event, on the executor.
  void start(std::span<const SocketAddress> candidates, std::function<void(const rendezvous::PunchEvent&)> on_event);
  // A STUN datagram from the endpoint's socket: true when it was a path check.
  bool on_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void stop();
  std::optional<SocketAddress> working() const { return puncher_.working(); }
  const rendezvous::HolePuncher::Counters& counters() const { return puncher_.counters(); }

 private:
  void pump();

  SystemRandom rng_;
  rendezvous::HolePuncher puncher_;
  boost::asio::steady_timer timer_;
  std::weak_ptr<io::EndpointCore> endpoint_;
  std::function<void(const rendezvous::PunchEvent&)> on_event_;
  bool stopped_ = false;
};

}  // namespace srudp::rdv
