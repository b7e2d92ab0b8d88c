#include "rdv/client_punching.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "io/clock.hpp"
#include "io/endpoint_core.hpp"

namespace srudp::rdv {

std::vector<SocketAddress> local_candidates(std::uint16_t port, bool include_loopback) {
  std::vector<SocketAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    SocketAddress address;
    if (a->ifa_addr->sa_family == AF_INET) {
      sockaddr_in in{};
      std::memcpy(&in, a->ifa_addr, sizeof in);
      const std::uint32_t ip = ntohl(in.sin_addr.s_addr);
      if ((ip >> 24) == 127 && !include_loopback) continue;
      if ((ip >> 16) == 0xa9fe) continue;  // 169.254/16: link-local
      address = SocketAddress::v4(ip, port);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 in6{};
      std::memcpy(&in6, a->ifa_addr, sizeof in6);
      std::array<std::uint8_t, 16> ip{};
      std::memcpy(ip.data(), &in6.sin6_addr, 16);
      if (IN6_IS_ADDR_LINKLOCAL(&in6.sin6_addr)) continue;  // needs a scope: useless to the peer
      if (IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr) && !include_loopback) continue;
      address = SocketAddress::v6(ip, port);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
  ::freeifaddrs(list);
  return out;
}

PunchDriver::PunchDriver(const boost::asio::any_io_executor& executor, std::weak_ptr<io::EndpointCore> endpoint,
                         const rendezvous::HolePuncherConfig& config)
    : puncher_(config, rng_), timer_(executor), endpoint_(std::move(endpoint)) {}

void PunchDriver::start(std::span<const SocketAddress> candidates,
                        std::function<void(const rendezvous::PunchEvent&)> on_event) {
  on_event_ = std::move(on_event);
  puncher_.start(io::now(), candidates);
  pump();
}

bool PunchDriver::on_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  if (stopped_) return false;
  if (!puncher_.handle_datagram(io::now(), from, datagram)) return false;
  pump();
  return true;
}

void PunchDriver::stop() {
  stopped_ = true;
  puncher_.stop();
  timer_.cancel();
}

void PunchDriver::pump() {
  if (stopped_) return;
  auto endpoint = endpoint_.lock();
  if (!endpoint) return stop();
  std::array<std::uint8_t, 512> buffer{};
  const Instant t = io::now();
  while (auto transmit = puncher_.poll_transmit(t, buffer)) {
    endpoint->send_raw(transmit->to, std::span(buffer).first(transmit->size));
  }
  while (auto event = puncher_.poll_event()) {
    if (on_event_) on_event_(*event);
    if (stopped_) return;
  }
  if (const auto deadline = puncher_.poll_timeout()) {
    timer_.expires_at(io::to_steady(std::max(*deadline, t)));
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self) self->pump();
    });
  }
}

}  // namespace srudp::rdv
