// A STUN Binding responder on one UDP port: each request is answered (per the sans-IO
// answer_stun_binding: never larger than the request) unless its source is over its rate.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/udp.hpp>

namespace srudp::rdv {

class ServerCore;

class StunResponder : public std::enable_shared_from_this<StunResponder> {
 public:
  StunResponder(std::shared_ptr<ServerCore> core, const boost::asio::ip::udp::endpoint& bind_to);
  StunResponder(const StunResponder&) = delete;
  StunResponder& operator=(const StunResponder&) = delete;

  void start();
  void close();
  boost::asio::ip::udp::endpoint local_endpoint() const { return local_endpoint_; }

 private:
  void receive();
  void on_datagram(std::size_t size);

  std::shared_ptr<ServerCore> core_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint local_endpoint_;
  boost::asio::ip::udp::endpoint sender_;
  std::array<std::uint8_t, 1501> request_{};  // one byte more than accepted, to spot oversize
  std::array<std::uint8_t, 1500> reply_{};
};

}  // namespace srudp::rdv
