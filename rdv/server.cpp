#include "rdv/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "rdv/server_core.hpp"

namespace srudp::rdv {

Server::Server(const boost::asio::any_io_executor& executor, ServerConfig config)
    : core_(std::make_shared<ServerCore>(boost::asio::make_strand(executor), std::move(config))) {
  // Binding happens here, on the caller's thread, before the strand runs anything: errors such
  // as a port in use surface as an exception from the constructor.
  core_->start();
  http_endpoint_ = core_->http_endpoint();
  stun_endpoints_ = core_->stun_endpoints();
}

Server::~Server() { stop(); }

boost::asio::ip::tcp::endpoint Server::http_endpoint() const { return http_endpoint_; }

std::vector<boost::asio::ip::udp::endpoint> Server::stun_endpoints() const { return stun_endpoints_; }

void Server::on_stopped(std::function<void()> callback) {
  boost::asio::post(core_->executor(), [core = core_, callback = std::move(callback)]() mutable {
    core->on_stopped(std::move(callback));
  });
}

void Server::stop() {
  boost::asio::post(core_->executor(), [core = core_] { core->stop(); });
}

}  // namespace srudp::rdv
