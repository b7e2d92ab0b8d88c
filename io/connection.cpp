// srudp::Connection: the public handle over io::ConnectionCore.
#include "srudp/connection.hpp"

#include "io/connection_core.hpp"
#include "io/handle_support.hpp"

namespace srudp {

Connection::Connection() noexcept = default;

Connection::Connection(std::shared_ptr<io::ConnectionUser> user) noexcept : user_(std::move(user)) {}

Connection::executor_type Connection::get_executor() const noexcept {
  return user_ ? user_->core().executor() : executor_type();
}

bool Connection::is_open() const noexcept { return user_ && user_->core().is_open(); }

void Connection::start_open_stream(const std::shared_ptr<io::ConnectionUser>& user, StreamHandler handler) {
  if (!user) return io::fail_on_empty_handle<Stream>(std::move(handler), Stream());
  io::run_on(user->core().executor(), [user, h = std::move(handler)]() mutable {
    auto& core = user->core();
    core.open_stream(io::ConnectionCore::StreamOperation(std::move(h), core.executor()));
  });
}

Stream Connection::open_stream(boost::system::error_code& ec) {
  if (!user_) {
    ec = boost::asio::error::bad_descriptor;
    return Stream();
  }
  return user_->core().open_stream_now(ec);
}

void Connection::start_accept_stream(const std::shared_ptr<io::ConnectionUser>& user, StreamHandler handler) {
  if (!user) return io::fail_on_empty_handle<Stream>(std::move(handler), Stream());
  io::run_on(user->core().executor(), [user, h = std::move(handler)]() mutable {
    auto& core = user->core();
    core.accept_stream(io::ConnectionCore::StreamOperation(std::move(h), core.executor()));
  });
}

boost::system::error_code Connection::send_datagram(boost::asio::const_buffer payload) {
  if (!user_) return boost::asio::error::bad_descriptor;
  return user_->core().send_datagram({static_cast<const std::uint8_t*>(payload.data()), payload.size()});
}

std::size_t Connection::max_datagram_size() const { return user_ ? user_->core().max_datagram_size() : 0; }

void Connection::start_receive_datagram(const std::shared_ptr<io::ConnectionUser>& user,
                                        boost::asio::mutable_buffer buffer, SizeHandler handler) {
  if (!user) return io::fail_on_empty_handle<std::size_t>(std::move(handler), std::size_t{0});
  io::run_on(user->core().executor(), [user, buffer, h = std::move(handler)]() mutable {
    auto& core = user->core();
    core.receive_datagram(buffer, io::ConnectionCore::SizeOperation(std::move(h), core.executor()));
  });
}

void Connection::close(std::uint64_t app_error, std::string_view reason) {
  if (user_) user_->core().close(app_error, reason);
}

ConnectionStats Connection::stats() const { return user_ ? user_->core().stats() : ConnectionStats(); }

boost::asio::ip::udp::endpoint Connection::remote_endpoint() const {
  return user_ ? user_->core().remote_endpoint() : boost::asio::ip::udp::endpoint();
}

boost::system::error_code Connection::set_path(const boost::asio::ip::udp::endpoint& peer) {
  if (!user_) return boost::asio::error::bad_descriptor;
  return user_->core().set_path(peer);
}

std::optional<Key> Connection::peer_identity() const {
  return user_ ? user_->core().peer_identity() : std::nullopt;
}

std::string Connection::id() const { return user_ ? user_->core().log_id() : std::string(); }

}  // namespace srudp
