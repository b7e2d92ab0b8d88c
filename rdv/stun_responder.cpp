#include "rdv/stun_responder.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <spdlog/spdlog.h>

#include "rdv/endpoint_conversion.hpp"
#include "rdv/server_core.hpp"
#include "rendezvous/stun_binding.hpp"

namespace srudp::rdv {

namespace asio = boost::asio;
using asio::ip::udp;

StunResponder::StunResponder(std::shared_ptr<ServerCore> core, const udp::endpoint& bind_to)
    : core_(std::move(core)), socket_(core_->executor()) {
  socket_.open(bind_to.protocol());
  if (bind_to.address().is_v6()) socket_.set_option(asio::ip::v6_only(false));
  socket_.bind(bind_to);
  socket_.non_blocking(true);  // replies are sent at once or dropped, never queued
  local_endpoint_ = socket_.local_endpoint();
}

void StunResponder::start() { receive(); }

void StunResponder::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void StunResponder::receive() {
  socket_.async_receive_from(asio::buffer(request_), sender_,
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                               if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
                               if (!ec) self->on_datagram(n);
                               self->receive();
                             });
}

void StunResponder::on_datagram(std::size_t size) {
  auto& metrics = core_->metrics();
  ++metrics.stun_requests_total;
  if (core_->dump().enabled()) core_->dump().write("stun-in", std::span(request_).first(size));
  if (size >= request_.size()) {
    ++metrics.stun_unanswered_total;
    return;
  }
  const SocketAddress source = to_socket_address(sender_);
  const auto answer = rendezvous::answer_stun_binding(std::span(request_).first(size), source, reply_,
                                                      core_->config().stun_rules);
  if (answer.size == 0) {
    ++metrics.stun_unanswered_total;
    return;
  }
  if (!core_->stun_limiter().allow(now(), source.ip)) {
    ++metrics.stun_rate_limited_total;
    return;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(reply_.data(), answer.size), sender_, 0, ec);
  if (ec) {
    spdlog::debug("rdv: STUN reply to {} failed: {}", source.to_string(), ec.message());
    return;
  }
  ++metrics.stun_responses_total;
}

}  // namespace srudp::rdv
