// srudp::Endpoint: the public handle over io::EndpointCore.
#include "srudp/endpoint.hpp"

#include <algorithm>
#include <random>

#include <boost/system/system_error.hpp>

#include "io/endpoint_core.hpp"
#include "io/handle_support.hpp"

namespace srudp {

Endpoint::Endpoint(const executor_type& executor, const boost::asio::ip::udp::endpoint& local, EndpointOptions options) {
  boost::system::error_code ec;
  core_ = io::EndpointCore::create(executor, local, std::move(options), ec);
  if (ec) throw boost::system::system_error(ec, "srudp::Endpoint");
}

Endpoint::Endpoint(const executor_type& executor, const boost::asio::ip::udp::endpoint& local, EndpointOptions options,
                   boost::system::error_code& ec)
    : core_(io::EndpointCore::create(executor, local, std::move(options), ec)) {}

Endpoint::~Endpoint() { close(); }

Endpoint::Endpoint(Endpoint&& other) noexcept = default;

Endpoint& Endpoint::operator=(Endpoint&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
  }
  return *this;
}

Endpoint::executor_type Endpoint::get_executor() const noexcept { return core_ ? core_->executor() : executor_type(); }

boost::asio::ip::udp::endpoint Endpoint::local_endpoint() const {
  return core_ ? core_->local_endpoint() : boost::asio::ip::udp::endpoint();
}

bool Endpoint::is_open() const noexcept { return core_ && core_->is_open(); }

void Endpoint::start_connect(const std::shared_ptr<io::EndpointCore>& core, const boost::asio::ip::udp::endpoint& peer,
                             ConnectionOptions options, ConnectionHandler handler) {
  if (!core) return io::fail_on_empty_handle<Connection>(std::move(handler), Connection());
  io::run_on(core->executor(), [core, peer, options = std::move(options), h = std::move(handler)]() mutable {
    core->connect(peer, options, io::EndpointCore::ConnectOperation(std::move(h), core->executor()));
  });
}

void Endpoint::start_accept(const std::shared_ptr<io::EndpointCore>& core, ConnectionHandler handler) {
  if (!core) return io::fail_on_empty_handle<Connection>(std::move(handler), Connection());
  io::run_on(core->executor(), [core, h = std::move(handler)]() mutable {
    core->accept(io::EndpointCore::ConnectOperation(std::move(h), core->executor()));
  });
}

void Endpoint::set_simulated_loss(double fraction) {
  if (!core_) return;
  if (!(fraction > 0)) {
    core_->set_send_filter(nullptr);
    return;
  }
  // Drawn from a generator of the filter's own; not for secrets, only for which datagram to drop.
  std::minstd_rand random(std::random_device{}());
  std::bernoulli_distribution drop(std::min(fraction, 1.0));
  core_->set_send_filter([random, drop](const SocketAddress&) mutable { return !drop(random); });
}

void Endpoint::close() {
  if (core_) core_->close();
}

}  // namespace srudp
