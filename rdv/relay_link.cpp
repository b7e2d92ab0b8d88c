#include "rdv/relay_link.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "io/endpoint_core.hpp"
#include "io/log.hpp"

namespace srudp::rdv {

RelayLink::RelayLink(boost::asio::ip::tcp::socket socket, std::weak_ptr<io::EndpointCore> endpoint,
                     std::span<const std::uint8_t> already_read)
    : socket_(std::move(socket)), keepalive_(socket_.get_executor()), endpoint_(std::move(endpoint)) {
  reader_.feed(already_read);
}

void RelayLink::start(std::function<void(boost::system::error_code)> on_closed) {
  on_closed_ = std::move(on_closed);
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  last_sent_ = std::chrono::steady_clock::now();
  arm_keepalive();
  // What came with the response first, then the socket. Posted: the endpoint may not know the
  // relay's address yet when this is called.
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->deliver();
    if (self->open_) self->read();
  });
}

void RelayLink::send(std::span<const std::uint8_t> datagram) {
  if (!open_) return;
  if (queued_.size() + datagram.size() > kMaxQueuedBytes) {
    ++dropped_;
    return;
  }
  if (rendezvous::append_relay_frame(datagram, queued_)) {
    ++dropped_;
    return;
  }
  if (writing_.empty()) write();
}

void RelayLink::write() {
  if (queued_.empty() || !open_) return;
  writing_.swap(queued_);
  last_sent_ = std::chrono::steady_clock::now();
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                             self->writing_.clear();
                             if (ec) return self->fail(ec);
                             self->write();
                           });
}

void RelayLink::read() {
  socket_.async_read_some(boost::asio::buffer(read_buffer_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            if (!self->open_) return;
                            if (ec) return self->fail(ec);
                            self->reader_.feed(std::span(self->read_buffer_).first(n));
                            self->deliver();
                            if (self->open_) self->read();
                          });
}

void RelayLink::deliver() {
  for (;;) {
    const auto frame = reader_.next();
    using Kind = rendezvous::RelayFrameReader::Frame::Kind;
    if (frame.kind == Kind::need_more) return;
    if (frame.kind == Kind::malformed) return fail(boost::asio::error::invalid_argument);
    auto endpoint = endpoint_.lock();
    if (!endpoint) return fail(boost::asio::error::operation_aborted);
    endpoint->inject_datagram(rendezvous::relay_path_address(), frame.datagram);
    if (!open_) return;
  }
}

void RelayLink::arm_keepalive() {
  keepalive_.expires_at(last_sent_ + kKeepaliveInterval);
  keepalive_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->open_) return;
    if (std::chrono::steady_clock::now() >= self->last_sent_ + kKeepaliveInterval) {
      self->send({});  // an empty frame
    }
    self->arm_keepalive();
  });
}

void RelayLink::fail(boost::system::error_code ec) {
  if (!open_) return;
  io::log().debug("relay closed: {}", ec.message());
  close();
  if (auto callback = std::move(on_closed_)) callback(ec);
}

void RelayLink::close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  keepalive_.cancel();
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (auto endpoint = endpoint_.lock()) endpoint->detach_path(rendezvous::relay_path_address());
}

}  // namespace srudp::rdv
