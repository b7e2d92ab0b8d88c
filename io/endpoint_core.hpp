// io::EndpointCore: the driver behind srudp::Endpoint. One UDP socket, one timer and one
// transport::Endpoint on the caller's executor, run as the sans-IO core asks:
//   socket readable -> receive a batch -> handle_datagram(now, ...) each -> deliver events ->
//   drain poll_transmit into a batch -> send it (waiting for writable when the kernel buffer is
//   full) -> re-arm the one timer at poll_timeout() -> on expiry handle_timeout(now), and again.
// Application calls (stream writes, reads that free window, closes) request one deferred drive,
// so a handler's calls are sent together after it returns. Each event runs in a CompletionScope:
// the completions it raises run when its own work is done, and the drives they request run then
// too, in the same turn of the executor, rather than each going through the executor's queue.
//
// Other paths (the rdv relay over TCP) plug in at two points: attach_path() names a DatagramPath by
// a pseudo-address, which transmit() sends to instead of the socket, and inject_datagram() feeds
// datagrams that arrived some other way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "common/random.hpp"
#include "io/completion_scope.hpp"
#include "io/datagram_path.hpp"
#include "io/packet_dump.hpp"
#include "io/pending_operation.hpp"
#include "io/udp_socket.hpp"
#include "srudp/connection.hpp"
#include "srudp/options.hpp"
#include "transport/endpoint.hpp"

namespace srudp::io {

class ConnectionCore;

class EndpointCore : public std::enable_shared_from_this<EndpointCore> {
 public:
  using ConnectOperation = PendingOperation<Connection>;

  static std::shared_ptr<EndpointCore> create(const boost::asio::any_io_executor& executor,
                                              const boost::asio::ip::udp::endpoint& local, EndpointOptions options,
                                              boost::system::error_code& ec);
  EndpointCore(const boost::asio::any_io_executor& executor, transport::EndpointConfig config);
  EndpointCore(const EndpointCore&) = delete;
  EndpointCore& operator=(const EndpointCore&) = delete;
  ~EndpointCore();

  const boost::asio::any_io_executor& executor() const { return executor_; }
  boost::asio::ip::udp::endpoint local_endpoint() const { return local_; }
  bool is_open() const { return open_; }

  void connect(const boost::asio::ip::udp::endpoint& peer, const ConnectionOptions& options, ConnectOperation op);
  void accept(ConnectOperation op);
  void close();

  // For connections and streams (on the executor).
  transport::Connection* transport_connection(transport::ConnectionHandle handle);
  void request_drive();
  void on_incoming_established(const std::shared_ptr<ConnectionCore>& connection);

  // A datagram that arrived by another path: handled as if the socket had received it.
  void inject_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram);
  // Datagrams to `address` go to `path` from now on (until detach_path or close).
  void attach_path(const SocketAddress& address, std::shared_ptr<DatagramPath> path);
  void detach_path(const SocketAddress& address);
  std::size_t connection_count() const { return connections_.size(); }  // open or lingering
  // Datagrams that are not srudp's (first byte below 0x40: STUN, RFC 7983) go to `handler` rather
  // than the transport, which would drop them; send_raw() sends such a datagram from the socket.
  using ForeignHandler = std::function<void(const SocketAddress& from, std::span<const std::uint8_t> datagram)>;
  void set_foreign_handler(ForeignHandler handler) { foreign_handler_ = std::move(handler); }
  void send_raw(const SocketAddress& to, std::span<const std::uint8_t> datagram);
  // Fault injection for tests: datagrams for the UDP socket whose destination `filter` rejects
  // vanish, as in a black hole (attached paths are not filtered).
  using SendFilter = std::function<bool(const SocketAddress& to)>;
  void set_send_filter(SendFilter filter) { send_filter_ = std::move(filter); }

 private:
  static constexpr std::size_t kBatchSize = 64;    // datagrams per receive or send call
  static constexpr std::size_t kSlotBytes = 2048;  // room for one datagram (PMTUD tops out lower)
  static constexpr int kMaxReceivesPerWakeup = 16;  // then let timers and sends have a turn
  // ... or fewer: receiving stops once this many stream bytes wait for the application to read.
  static constexpr std::uint64_t kMaxUnreadBeforeYield = 256 * 1024;

  // Rounds of completions and the drives they request run at the end of one event; then the rest
  // is posted, so an application that keeps writing does not keep the executor from other work.
  static constexpr int kMaxSettleRounds = 16;

  // Runs `work` (one event: readable, writable, timer, a deferred drive, an injected datagram) in
  // a CompletionScope, then what it completed and the drives those request.
  template <class Work>
  void in_event(Work&& work);
  void settle(CompletionScope& scope);
  static void on_scope_closed(void* owner) noexcept;

  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  void on_writable(const boost::system::error_code& ec);
  void on_timer();
  void drive();  // events -> transmits -> events -> waiting opens -> timer
  void process_events();
  void flush();
  // Sends the first `count` datagrams of the batch (all by default); false: the kernel is full
  // and a writable wait is armed.
  bool send_batch(std::size_t count = SIZE_MAX);
  std::span<std::uint8_t> next_slot();
  void transmit(const SocketAddress& to, std::span<const std::uint8_t> datagram);
  void rearm_timer();

  boost::asio::any_io_executor executor_;
  bool accept_incoming_;
  SystemRandom rng_;  // before transport_, which keeps a reference
  transport::Endpoint transport_;
  boost::asio::ip::udp::endpoint local_;
  UdpSocket socket_;
  boost::asio::steady_timer timer_;
  std::optional<Instant> timer_deadline_;  // what the armed wait is for
  std::uint64_t timer_generation_ = 0;
  bool open_ = true;
  bool drive_posted_ = false;
  bool drive_requested_ = false;  // in this endpoint's own scope: settle() drives
  bool waiting_writable_ = false;

  // A ring of kBatchSize slots of kSlotBytes: tx_batch_[i] is in slot (tx_head_ + i) % kBatchSize.
  std::vector<std::uint8_t> tx_storage_;
  std::vector<OutgoingDatagram> tx_batch_;
  std::size_t tx_head_ = 0;

  std::map<SocketAddress, std::shared_ptr<DatagramPath>> paths_;
  ForeignHandler foreign_handler_;
  SendFilter send_filter_;
  // EndpointOptions::dump_directory; shared with the connections' plaintext observers.
  std::shared_ptr<PacketDump> dump_ = std::make_shared<PacketDump>();
  std::map<transport::ConnectionHandle, std::shared_ptr<ConnectionCore>> connections_;
  std::deque<std::shared_ptr<ConnectionCore>> accept_queue_;  // established, not yet accepted
  WaitQueue<ConnectOperation> accept_waiters_;
};

}  // namespace srudp::io
