#include "io/endpoint_core.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include "io/address_conversion.hpp"
#include "io/clock.hpp"
#include "io/connection_config.hpp"
#include "io/connection_core.hpp"
#include "io/log.hpp"

namespace srudp::io {

namespace {

// With a dump: the plaintext of each data packet a connection receives goes there too.
void observe_plaintext(const std::shared_ptr<PacketDump>& dump, transport::ConnectionConfig& config) {
  if (!dump->enabled()) return;
  config.on_received_plaintext = [dump](std::span<const std::uint8_t> frames) { dump->write("frames-in", frames); };
}

}  // namespace

std::shared_ptr<EndpointCore> EndpointCore::create(const boost::asio::any_io_executor& executor,
                                                   const boost::asio::ip::udp::endpoint& local,
                                                   EndpointOptions options, boost::system::error_code& ec) {
  ec = {};
  transport::EndpointConfig config;
  config.accept_incoming = options.accept_incoming;
  config.max_connections = options.max_connections;
  if (options.accept_incoming) {
    auto server = make_connection_config(options.server);
    if (!server) {
      ec = server.error();
      return nullptr;
    }
    config.server_connection = std::move(*server);
  }
  auto dump = std::make_shared<PacketDump>(std::move(options.dump_directory));
  if (options.accept_incoming) observe_plaintext(dump, config.server_connection);
  auto core = std::make_shared<EndpointCore>(executor, std::move(config));
  core->dump_ = std::move(dump);
  if (auto error = core->socket_.open(to_socket_address(local))) {
    ec = error;
    return nullptr;
  }
  // The socket's own address (a dual-stack socket says ::, not an IPv4 form).
  boost::system::error_code local_ec;
  core->local_ = core->socket_.socket().local_endpoint(local_ec);
  log().debug("endpoint on {}{}", core->socket_.local_address().to_string(),
              options.accept_incoming ? " (accepting)" : "");
  core->wait_readable();
  return core;
}

EndpointCore::EndpointCore(const boost::asio::any_io_executor& executor, transport::EndpointConfig config)
    : executor_(executor),
      accept_incoming_(config.accept_incoming),
      transport_(std::move(config), rng_),
      socket_(executor),
      timer_(executor),
      tx_storage_(kBatchSize * kSlotBytes) {
  tx_batch_.reserve(kBatchSize);
}

EndpointCore::~EndpointCore() = default;

transport::Connection* EndpointCore::transport_connection(transport::ConnectionHandle handle) {
  return open_ ? transport_.connection(handle) : nullptr;
}

// ---- operations ----------------------------------------------------------------------------------

void EndpointCore::connect(const boost::asio::ip::udp::endpoint& peer, const ConnectionOptions& options,
                           ConnectOperation op) {
  if (!open_) return op.complete(boost::asio::error::bad_descriptor, Connection());
  if (peer.address().is_v6() && !peer.address().to_v6().is_v4_mapped() && local_endpoint().address().is_v4()) {
    return op.complete(boost::asio::error::address_family_not_supported, Connection());
  }
  auto config = make_connection_config(options);
  if (!config) return op.complete(config.error(), Connection());
  observe_plaintext(dump_, *config);
  auto handle = transport_.connect(std::move(*config), to_socket_address(peer), now());
  if (!handle) return op.complete(handle.error(), Connection());
  auto* connection = transport_.connection(*handle);
  auto core = std::make_shared<ConnectionCore>(shared_from_this(), *handle, ConnectionCore::Role::client,
                                               connection_log_id(connection->local_cid()));
  log().debug("[{}] connecting to {}", core->log_id(), to_socket_address(peer).to_string());
  connections_.emplace(*handle, core);
  core->set_connect_operation(std::move(op));
  request_drive();
}

void EndpointCore::accept(ConnectOperation op) {
  if (!open_) return op.complete(boost::asio::error::bad_descriptor, Connection());
  if (!accept_incoming_) return op.complete(boost::asio::error::operation_not_supported, Connection());
  while (!accept_queue_.empty()) {
    auto connection = std::move(accept_queue_.front());
    accept_queue_.pop_front();
    if (connection->is_open()) return op.complete({}, connection->make_handle());
  }
  const std::uint64_t id = accept_waiters_.push(std::move(op));
  accept_waiters_.back().on_cancel([weak = weak_from_this(), id](boost::asio::cancellation_type) {
    auto self = weak.lock();
    if (!self) return;
    if (auto waiter = self->accept_waiters_.take(id)) waiter->complete(boost::asio::error::operation_aborted, Connection());
  });
}

void EndpointCore::on_incoming_established(const std::shared_ptr<ConnectionCore>& connection) {
  log().debug("[{}] accepted", connection->log_id());
  if (!accept_waiters_.empty()) {
    accept_waiters_.pop_front().complete({}, connection->make_handle());
    return;
  }
  accept_queue_.push_back(connection);
}

void EndpointCore::close() {
  if (!open_) return;
  // Connections first, while the socket can still carry their CLOSE.
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [handle, connection] : connections) connection->close_by_endpoint();
  accept_queue_.clear();
  for (auto& [id, waiter] : accept_waiters_.take_all()) {
    waiter.complete(boost::asio::error::operation_aborted, Connection());
  }
  while (transport_.poll_event()) {
  }
  flush();  // best effort: what the kernel takes now
  auto paths = std::move(paths_);  // a closing path detaches itself
  paths_.clear();
  for (auto& [address, path] : paths) path->close();
  open_ = false;
  socket_.close();
  timer_.cancel();
  connections.clear();
}

void EndpointCore::inject_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  if (!open_) return;
  in_event([&] {
    if (dump_->enabled()) dump_->write("udp-in", datagram);
    transport_.handle_datagram(now(), from, datagram);
    drive();
  });
}

void EndpointCore::attach_path(const SocketAddress& address, std::shared_ptr<DatagramPath> path) {
  if (!open_) return path->close();
  paths_[address] = std::move(path);
}

void EndpointCore::detach_path(const SocketAddress& address) { paths_.erase(address); }

void EndpointCore::send_raw(const SocketAddress& to, std::span<const std::uint8_t> datagram) {
  if (!open_ || waiting_writable_ || datagram.size() > kSlotBytes) return;  // best effort, as UDP
  if (send_filter_ && !send_filter_(to)) return;
  if (dump_->enabled()) dump_->write("udp-out", datagram);
  // Through the batch (flushed at once), so it keeps its order with what is queued.
  if (tx_batch_.size() == kBatchSize && !send_batch()) return;
  const std::span<std::uint8_t> slot = next_slot();
  std::copy(datagram.begin(), datagram.end(), slot.begin());
  tx_batch_.push_back(OutgoingDatagram{to, slot.first(datagram.size())});
  send_batch();
}

// ---- the loop ------------------------------------------------------------------------------------

template <class Work>
void EndpointCore::in_event(Work&& work) {
  CompletionScope scope(this, &EndpointCore::on_scope_closed);
  std::forward<Work>(work)();
  settle(scope);
}

void EndpointCore::settle(CompletionScope& scope) {
  if (!scope.owning()) return;  // an outer event's scope settles
  for (int round = 0; round < kMaxSettleRounds; ++round) {
    const bool ran = scope.run();
    const bool wanted = std::exchange(drive_requested_, false);
    if (wanted && open_) drive();
    if (!ran && !wanted) return;
  }
}

void EndpointCore::on_scope_closed(void* owner) noexcept {
  // What settle() did not get to (too many rounds, or a handler threw): drive in a later turn.
  auto* self = static_cast<EndpointCore*>(owner);
  if (!std::exchange(self->drive_requested_, false)) return;
  try {
    self->request_drive();
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory; the timer drives again later
  }
}

void EndpointCore::wait_readable() {
  socket_.async_wait_readable([self = shared_from_this()](const boost::system::error_code& ec) {
    self->in_event([&] { self->on_readable(ec); });
  });
}

void EndpointCore::on_readable(const boost::system::error_code& ec) {
  if (ec || !open_) return;
  bool drained = true;  // the last receive found the socket empty, or failed
  for (int i = 0; i < kMaxReceivesPerWakeup; ++i) {
    auto received = socket_.receive(kBatchSize);
    if (!received) {
      log().warn("receive on {}: {}", socket_.local_address().to_string(), received.error().message());
      drained = true;
      break;
    }
    const Instant t = now();
    for (const ReceivedDatagram& d : *received) {
      if (dump_->enabled()) dump_->write("udp-in", d.data);
      if (foreign_handler_ && !d.data.empty() && d.data[0] < 0x40) {
        foreign_handler_(d.from, d.data);
        if (!open_) return;
        continue;
      }
      transport_.handle_datagram(t, d.from, d.data);
    }
    // A short batch emptied the socket: another receive would only find nothing, and drive()
    // below takes the events and sends.
    drained = received->size() < kBatchSize;
    if (drained) break;
    // ACKs free congestion window: send before reading on, as the kernel would pace us anyway.
    process_events();
    flush();
    if (!open_) return;
    // The application is behind: let its handlers (reads this batch completed) run before more
    // data comes in. Receiving on would pile the data up in the streams' receive buffers, up to
    // their windows: megabytes of memory too cold for the copies into and out of them.
    if (transport_.unread_stream_bytes() >= kMaxUnreadBeforeYield) break;
  }
  drive();
  if (!open_) return;
  if (drained) return wait_readable();
  // More is waiting: come back after the handlers queued meanwhile, without a readiness wait
  // (each costs an epoll_ctl to re-arm and an epoll_wait that would return at once).
  boost::asio::post(executor_, [self = shared_from_this()] { self->in_event([&] { self->on_readable({}); }); });
}

void EndpointCore::on_writable(const boost::system::error_code& ec) {
  waiting_writable_ = false;
  if (ec || !open_) return;
  if (send_batch()) drive();
}

void EndpointCore::on_timer() {
  timer_deadline_.reset();
  transport_.handle_timeout(now());
  drive();
}

void EndpointCore::request_drive() {
  if (!open_) return;
  if (const CompletionScope* scope = CompletionScope::current(); scope != nullptr && scope->owner() == this) {
    drive_requested_ = true;  // settle() drives before this event ends
    return;
  }
  if (drive_posted_) return;
  drive_posted_ = true;
  boost::asio::post(executor_, [self = shared_from_this()] {
    self->drive_posted_ = false;
    if (self->open_) self->in_event([&] { self->drive(); });
  });
}

void EndpointCore::drive() {
  process_events();
  flush();
  process_events();  // building packets can raise events too (a stream's buffer has room again)
  // Waiting stream opens: the peer's MAX_STREAMS raised the limit, or acknowledged retired streams.
  for (auto& [handle, connection] : connections_) connection->on_progress();
  rearm_timer();
}

void EndpointCore::process_events() {
  while (auto event = transport_.poll_event()) {
    if (event->kind == transport::EndpointEvent::Kind::accepted) {
      auto* connection = transport_.connection(event->handle);
      if (connection == nullptr) continue;
      auto core = std::make_shared<ConnectionCore>(shared_from_this(), event->handle, ConnectionCore::Role::server,
                                                   connection_log_id(connection->local_cid()));
      log().debug("[{}] handshake from {}", core->log_id(), connection->peer_address().to_string());
      connections_.emplace(event->handle, std::move(core));
      continue;
    }
    auto it = connections_.find(event->handle);
    if (it == connections_.end()) continue;
    const std::shared_ptr<ConnectionCore> connection = it->second;  // on_event may drop the map's reference
    const bool closed = event->event.kind == transport::ConnectionEvent::Kind::closed;
    connection->on_event(event->event);
    if (closed) connections_.erase(event->handle);
  }
}

void EndpointCore::flush() {
  if (waiting_writable_ || !socket_.is_open()) return;
  const Instant t = now();
  for (;;) {
    bool drained = false;
    while (tx_batch_.size() < kBatchSize) {
      const std::span<std::uint8_t> slot = next_slot();
      auto tx = transport_.poll_transmit(t, slot);
      if (!tx) {
        drained = true;
        break;
      }
      transmit(tx->to, slot.first(tx->size));
    }
    if (drained) {
      send_batch();
      return;
    }
    // A full batch: its whole GSO messages go, and the open run at its end stays to be filled by
    // the datagrams that follow, which a bulk sender's flush has. Sent as it was, a batch of 64
    // datagrams of 1 451 bytes became a message of 45 and one of 19; carried, the runs come out
    // whole and a loopback transfer makes a quarter fewer messages. (Its datagrams wait for no
    // more than the next batch is built, as the first of a batch always waited for the rest.)
    const std::size_t whole = socket_.whole_messages(tx_batch_);
    if (!send_batch(whole > 0 ? whole : tx_batch_.size())) return;
  }
}

std::span<std::uint8_t> EndpointCore::next_slot() {
  const std::size_t slot = (tx_head_ + tx_batch_.size()) % kBatchSize;
  return {tx_storage_.data() + slot * kSlotBytes, kSlotBytes};
}

void EndpointCore::transmit(const SocketAddress& to, std::span<const std::uint8_t> datagram) {
  // The one place that decides where a datagram goes: an attached path, or the UDP socket (batched).
  if (dump_->enabled()) dump_->write("udp-out", datagram);
  if (!paths_.empty()) {
    if (auto it = paths_.find(to); it != paths_.end()) {
      const std::shared_ptr<DatagramPath> path = it->second;  // send may detach it
      path->send(datagram);
      return;
    }
  }
  if (send_filter_ && !send_filter_(to)) return;
  tx_batch_.push_back(OutgoingDatagram{to, datagram});
}

bool EndpointCore::send_batch(std::size_t count) {
  count = std::min(count, tx_batch_.size());
  std::size_t done = 0;
  bool kernel_full = false;
  while (done < count) {
    auto sent = socket_.send(std::span(tx_batch_).subspan(done, count - done));
    if (!sent) {
      // Not about one datagram (those are dropped inside): the socket itself failed. The core
      // treats what is lost here like any loss on the path.
      log().warn("send on {}: {}", socket_.local_address().to_string(), sent.error().message());
      done = count;
      break;
    }
    if (*sent == 0) {
      kernel_full = true;
      break;
    }
    done += *sent;
  }
  tx_batch_.erase(tx_batch_.begin(), tx_batch_.begin() + static_cast<std::ptrdiff_t>(done));
  tx_head_ = tx_batch_.empty() ? 0 : (tx_head_ + done) % kBatchSize;
  if (!kernel_full) return true;
  waiting_writable_ = true;
  socket_.async_wait_writable([self = shared_from_this()](const boost::system::error_code& ec) {
    self->in_event([&] { self->on_writable(ec); });
  });
  return false;
}

void EndpointCore::rearm_timer() {
  const std::optional<Instant> deadline = transport_.poll_timeout();
  // A wait armed for no later than the deadline stays armed (also when there is no deadline any
  // more): if it fires early, on_timer finds nothing due and arms the wait again. Moving the wait
  // on every change instead (each pacing step, each ACK that pushes the loss timer out) costs a
  // timerfd_settime call and a cancelled handler each time.
  if (!deadline || (timer_deadline_ && *timer_deadline_ <= *deadline)) return;
  timer_deadline_ = deadline;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(to_steady(*deadline));
  timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (ec || generation != self->timer_generation_ || !self->open_) return;
    self->in_event([&] { self->on_timer(); });
  });
}

}  // namespace srudp::io
