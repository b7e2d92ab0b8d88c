#include "io/connection_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include "io/address_conversion.hpp"
#include "io/endpoint_core.hpp"
#include "io/log.hpp"
#include "io/stream_core.hpp"

namespace srudp::io {
namespace {

// Received datagrams nobody has asked for yet: beyond this the oldest go (they are unreliable).
constexpr std::size_t kMaxQueuedDatagrams = 256;
// How long a connection whose handles are all gone waits for its written data to be acknowledged.
constexpr std::chrono::seconds kMaxLinger{30};

}  // namespace

ConnectionCore::ConnectionCore(std::shared_ptr<EndpointCore> endpoint, transport::ConnectionHandle handle, Role role,
                               std::string log_id)
    : endpoint_(std::move(endpoint)),
      executor_(endpoint_->executor()),
      handle_(handle),
      role_(role),
      log_id_(std::move(log_id)) {}

ConnectionCore::~ConnectionCore() = default;

const boost::asio::any_io_executor& ConnectionCore::executor() const { return executor_; }

transport::Connection* ConnectionCore::transport() {
  if (error_ || !endpoint_) return nullptr;
  return endpoint_->transport_connection(handle_);
}

void ConnectionCore::request_drive() {
  if (endpoint_) endpoint_->request_drive();
}

std::shared_ptr<ConnectionUser> ConnectionCore::user() {
  if (auto existing = user_.lock()) return existing;
  auto created = std::make_shared<ConnectionUser>(shared_from_this());
  user_ = created;
  return created;
}

Connection ConnectionCore::make_handle() { return Connection(user()); }

Stream ConnectionCore::make_stream(const std::shared_ptr<StreamCore>& stream) { return Stream(stream, user()); }

std::shared_ptr<StreamCore> ConnectionCore::add_stream(std::uint64_t id) {
  auto stream = std::make_shared<StreamCore>(shared_from_this(), id);
  streams_[id] = stream;
  return stream;
}

void ConnectionCore::forget_stream(std::uint64_t id) { streams_.erase(id); }

// ---- events --------------------------------------------------------------------------------------

void ConnectionCore::on_event(transport::ConnectionEvent& event) {
  using Kind = transport::ConnectionEvent::Kind;
  auto stream = [&]() -> std::shared_ptr<StreamCore> {
    auto it = streams_.find(event.stream_id);
    return it == streams_.end() ? nullptr : it->second;
  };
  switch (event.kind) {
    case Kind::established:
      established_ = true;
      log().debug("[{}] established", log_id_);
      if (role_ == Role::client) {
        connect_op_.complete({}, make_handle());
      } else if (endpoint_) {
        endpoint_->on_incoming_established(shared_from_this());
      }
      break;
    case Kind::stream_opened:
      incoming_streams_.push_back(add_stream(event.stream_id));
      deliver_incoming_streams();
      break;
    case Kind::stream_readable:
      if (auto s = stream()) s->on_readable();
      break;
    case Kind::stream_writable:
      if (auto s = stream()) s->on_writable();
      break;
    case Kind::datagram:
      if (datagrams_.size() >= kMaxQueuedDatagrams) datagrams_.pop_front();
      datagrams_.push_back(std::move(event.data));
      deliver_datagrams();
      break;
    case Kind::stream_reset:  // the read fails with stream_reset
      if (auto s = stream()) s->on_readable();
      break;
    case Kind::stream_stopped:  // the write fails with stream_stopped
      if (auto s = stream()) s->on_writable();
      break;
    case Kind::streams_available:
      on_progress();
      break;
    case Kind::closed:
      fail(event.error ? event.error : make_error_code(errc::connection_closed));
      break;
  }
}

void ConnectionCore::on_progress() {
  if (lingering_) {
    auto* connection = transport();
    if (connection == nullptr || !connection->has_unacknowledged_stream_data()) finish_linger();
    return;
  }
  while (!open_stream_waiters_.empty()) {
    std::shared_ptr<StreamCore> stream;
    const std::error_code ec = try_open(stream);
    if (ec == errc::stream_limit_reached) return;
    open_stream_waiters_.pop_front().complete(ec, ec ? Stream() : make_stream(stream));
  }
}

void ConnectionCore::fail(std::error_code ec) {
  if (error_) return;
  // After a graceful close by the peer its data can still be read: the streams take it now.
  if (auto* connection = transport()) {
    for (auto& [id, stream] : streams_) stream->salvage_input(*connection);
  }
  error_ = ec;
  lingering_ = false;
  if (linger_timer_) linger_timer_->cancel();
  log().debug("[{}] closed: {}", log_id_, ec.message());
  connect_op_.complete(ec, Connection());
  for (auto& [id, op] : accept_stream_waiters_.take_all()) op.complete(ec, Stream());
  for (auto& [id, op] : open_stream_waiters_.take_all()) op.complete(ec, Stream());
  for (auto& [id, waiter] : datagram_waiters_.take_all()) waiter.op.complete(ec, 0);
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->on_connection_closed(ec);
  incoming_streams_.clear();
  datagrams_.clear();
  endpoint_.reset();  // the endpoint forgets us too; handles may outlive it
}

void ConnectionCore::set_connect_operation(ConnectOperation op) {
  connect_op_ = std::move(op);
  connect_op_.on_cancel([weak = weak_from_this()](boost::asio::cancellation_type) {
    auto self = weak.lock();
    if (!self || !self->connect_op_) return;
    // Undone: the half-made connection goes away (silently if the handshake had not finished).
    self->connect_op_.complete(boost::asio::error::operation_aborted, Connection());
    self->close(0, "connect cancelled");
  });
}

// ---- streams -------------------------------------------------------------------------------------

std::error_code ConnectionCore::try_open(std::shared_ptr<StreamCore>& out) {
  auto* connection = transport();
  if (connection == nullptr) return error_ ? error_ : make_error_code(errc::connection_closed);
  auto id = connection->open_stream(transport::StreamDirection::bidirectional);
  if (!id) return id.error();
  out = add_stream(*id);
  return {};
}

void ConnectionCore::open_stream(StreamOperation op) {
  if (open_stream_waiters_.empty()) {  // first come, first served
    std::shared_ptr<StreamCore> stream;
    const std::error_code ec = try_open(stream);
    if (ec != errc::stream_limit_reached) return op.complete(ec, ec ? Stream() : make_stream(stream));
  }
  const std::uint64_t id = open_stream_waiters_.push(std::move(op));
  open_stream_waiters_.back().on_cancel([weak = weak_from_this(), id](boost::asio::cancellation_type) {
    auto self = weak.lock();
    if (!self) return;
    if (auto waiter = self->open_stream_waiters_.take(id)) {
      waiter->complete(boost::asio::error::operation_aborted, Stream());
    }
  });
}

Stream ConnectionCore::open_stream_now(boost::system::error_code& ec) {
  std::shared_ptr<StreamCore> stream;
  if (!open_stream_waiters_.empty()) {
    ec = errc::stream_limit_reached;  // the waiting ones come first
    return Stream();
  }
  const std::error_code error = try_open(stream);
  ec = error;
  return error ? Stream() : make_stream(stream);
}

void ConnectionCore::accept_stream(StreamOperation op) {
  if (error_) return op.complete(error_, Stream());
  const std::uint64_t id = accept_stream_waiters_.push(std::move(op));
  accept_stream_waiters_.back().on_cancel([weak = weak_from_this(), id](boost::asio::cancellation_type) {
    auto self = weak.lock();
    if (!self) return;
    if (auto waiter = self->accept_stream_waiters_.take(id)) {
      waiter->complete(boost::asio::error::operation_aborted, Stream());
    }
  });
  deliver_incoming_streams();
}

void ConnectionCore::deliver_incoming_streams() {
  while (!incoming_streams_.empty() && !accept_stream_waiters_.empty()) {
    auto stream = std::move(incoming_streams_.front());
    incoming_streams_.pop_front();
    accept_stream_waiters_.pop_front().complete({}, make_stream(stream));
  }
}

// ---- datagrams -----------------------------------------------------------------------------------

boost::system::error_code ConnectionCore::send_datagram(std::span<const std::uint8_t> payload) {
  auto* connection = transport();
  if (connection == nullptr) return error_ ? error_ : make_error_code(errc::connection_closed);
  if (payload.size() > connection->max_datagram_payload()) return boost::asio::error::message_size;
  if (auto ec = connection->send_datagram(payload)) return ec;
  request_drive();
  return {};
}

std::size_t ConnectionCore::max_datagram_size() {
  auto* connection = transport();
  return connection ? connection->max_datagram_payload() : 0;
}

void ConnectionCore::receive_datagram(boost::asio::mutable_buffer buffer, SizeOperation op) {
  if (error_) return op.complete(error_, 0);
  const std::uint64_t id = datagram_waiters_.push(DatagramWaiter{buffer, std::move(op)});
  datagram_waiters_.back().op.on_cancel([weak = weak_from_this(), id](boost::asio::cancellation_type) {
    auto self = weak.lock();
    if (!self) return;
    if (auto waiter = self->datagram_waiters_.take(id)) waiter->op.complete(boost::asio::error::operation_aborted, 0);
  });
  deliver_datagrams();
}

void ConnectionCore::deliver_datagrams() {
  while (!datagrams_.empty() && !datagram_waiters_.empty()) {
    std::vector<std::uint8_t> datagram = std::move(datagrams_.front());
    datagrams_.pop_front();
    DatagramWaiter waiter = datagram_waiters_.pop_front();
    const std::size_t n = std::min(datagram.size(), waiter.buffer.size());
    if (n > 0) std::memcpy(waiter.buffer.data(), datagram.data(), n);
    waiter.op.complete(n < datagram.size() ? boost::asio::error::message_size : boost::system::error_code(), n);
  }
}

// ---- closing and queries -------------------------------------------------------------------------

void ConnectionCore::close(std::uint64_t app_error, std::string_view reason) {
  if (error_) return;
  if (auto* connection = transport()) connection->close(app_error, reason);
  request_drive();  // sends the CLOSE
  fail(errc::connection_closed);
}

void ConnectionCore::close_by_endpoint() {
  if (error_) return;
  if (auto* connection = transport()) connection->close(0, "endpoint closed");
  fail(errc::connection_closed);
}

void ConnectionCore::on_user_gone() {
  if (!user_.expired() || error_ || lingering_) return;  // a new handle was made meanwhile, or over
  auto* connection = transport();
  if (connection != nullptr && connection->has_unacknowledged_stream_data()) {
    // As TCP's close(): what was written still gets there. The streams keep sending meanwhile.
    log().debug("[{}] last handle dropped: closing once the written data is acknowledged", log_id_);
    lingering_ = true;
    linger_timer_.emplace(executor_);
    linger_timer_->expires_after(kMaxLinger);
    linger_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self && self->lingering_) self->finish_linger();
    });
    request_drive();
    return;
  }
  log().debug("[{}] last handle dropped: closing", log_id_);
  close(0, {});
}

void ConnectionCore::finish_linger() {
  lingering_ = false;
  if (linger_timer_) linger_timer_->cancel();
  log().debug("[{}] written data acknowledged (or the linger is over): closing", log_id_);
  close(0, {});
}

ConnectionStats ConnectionCore::stats() {
  ConnectionStats out;
  auto* connection = transport();
  if (connection == nullptr) return out;
  const transport::ConnectionStats s = connection->stats();
  out.smoothed_rtt = s.smoothed_rtt;
  out.min_rtt = s.min_rtt;
  out.rtt_variation = s.rttvar;
  out.congestion_window = s.congestion_window;
  out.bytes_in_flight = s.bytes_in_flight;
  out.packets_sent = s.packets_sent;
  out.packets_received = s.packets_received;
  out.packets_lost = s.packets_lost;
  out.packets_spuriously_lost = s.packets_spuriously_lost;
  out.bytes_sent = s.bytes_sent;
  out.bytes_received = s.bytes_received;
  out.bytes_retransmitted = s.stream_bytes_retransmitted;
  out.path = to_udp_endpoint(connection->peer_address());
  out.path_mtu = s.path_mtu;
  out.buffered_bytes = s.buffered_bytes;
  out.streams = streams_.size();
  if (s.aead) out.packet_aead = crypto::to_string(*s.aead);
  return out;
}

boost::system::error_code ConnectionCore::set_path(const boost::asio::ip::udp::endpoint& peer) {
  transport::Connection* connection = transport();
  if (connection == nullptr) return make_error_code(errc::connection_closed);
  connection->set_path(to_socket_address(peer));
  request_drive();
  return {};
}

boost::asio::ip::udp::endpoint ConnectionCore::remote_endpoint() {
  auto* connection = transport();
  return connection ? to_udp_endpoint(connection->peer_address()) : boost::asio::ip::udp::endpoint();
}

std::optional<Key> ConnectionCore::peer_identity() {
  auto* connection = transport();
  if (connection == nullptr || !connection->peer_identity()) return std::nullopt;
  return connection->peer_identity()->bytes;
}

ConnectionUser::~ConnectionUser() {
  // Handles may be dropped on any thread: the close runs on the connection's executor.
  try {
    const boost::asio::any_io_executor executor = core_->executor();
    boost::asio::post(executor, [core = std::move(core_)] { core->on_user_gone(); });
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
  }
}

}  // namespace srudp::io
