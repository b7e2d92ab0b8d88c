// io::UdpSocket: one non-blocking UDP socket with batched system calls, for the Asio layer.
//
// Receive and send are non-blocking batch calls (recvmmsg / sendmmsg, with UDP GSO and GRO where
// the kernel has them); the caller waits for readiness with async_wait_readable/_writable and then
// drains. This keeps one system call per batch instead of one per datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/udp.hpp>

#include "common/address.hpp"
#include "common/result.hpp"

namespace srudp::io {

// The most UDP payload one GSO message carries: one IPv4 datagram without fragmentation (65535 -
// 20 IP - 8 UDP bytes), the kernel's limit. 45 datagrams of 1 451 bytes, 54 of 1 200.
inline constexpr std::size_t kMaxGsoMessageBytes = 65507;

struct ReceivedDatagram {
  SocketAddress from;
  std::span<const std::uint8_t> data;  // points into the socket's buffers: valid until the next receive()
};

struct OutgoingDatagram {
  SocketAddress to;
  std::span<const std::uint8_t> data;
};

struct UdpSocketCapabilities {
  bool gso = false;  // UDP_SEGMENT known to the kernel; turns false for good if a GSO send fails
  bool gro = false;  // UDP_GRO enabled
};

struct UdpSocketOptions {
  bool allow_gso = true;  // false: one datagram per message (benchmarks compare the two)
  bool allow_gro = true;
};

// What the socket did, for tests and benchmarks: datagrams per system call and per message show
// whether batching and GSO/GRO happen.
struct UdpSocketCounters {
  std::uint64_t send_calls = 0;        // sendmmsg calls
  std::uint64_t sent_messages = 0;     // messages the kernel took (a GSO message holds many datagrams)
  std::uint64_t sent_datagrams = 0;    // datagrams in those messages (dropped ones not counted)
  std::uint64_t receive_calls = 0;     // recvmmsg calls, including those that found nothing
  std::uint64_t received_messages = 0;
  std::uint64_t received_datagrams = 0;  // after splitting GRO messages
};

class UdpSocket {
 public:
  explicit UdpSocket(const boost::asio::any_io_executor& executor);
  ~UdpSocket();
  UdpSocket(UdpSocket&&) noexcept;
  UdpSocket& operator=(UdpSocket&&) noexcept;

  // Binds to `local` (port 0 picks one). The IPv6 wildcard (::) also accepts IPv4 (dual stack).
  // Sets don't-fragment (we never rely on IP fragmentation; a datagram bigger than the interface
  // MTU fails alone with EMSGSIZE), non-blocking mode, large kernel buffers, and GRO where
  // available. Opening a socket that is already open is errc::invalid_state.
  std::error_code open(const SocketAddress& local);
  std::error_code open(const SocketAddress& local, const UdpSocketOptions& options);
  bool is_open() const;
  SocketAddress local_address() const;
  const UdpSocketCapabilities& capabilities() const;
  const UdpSocketCounters& counters() const;

  // Reads up to `max_datagrams` waiting datagrams without blocking; empty when none is waiting.
  // GRO-coalesced receives come back split into the original datagrams; when they are more than
  // `max_datagrams`, the rest come from the next calls before the socket is read again.
  Result<std::span<const ReceivedDatagram>> receive(std::size_t max_datagrams = 64);

  // Sends as many of `batch` as the kernel takes without blocking and returns that count; fewer
  // than batch.size() means the send buffer is full (wait for writable, then send the rest).
  // Errors that concern one datagram (too big, unreachable) drop that datagram and count it sent.
  Result<std::size_t> send(std::span<const OutgoingDatagram> batch);

  // How many datagrams at the front of `batch` send() would pack into complete messages: GSO
  // runs that a datagram of their size appended to the batch could not join (full, or ended by
  // a shorter datagram or by the next one). The rest is the last run, still open. Without GSO
  // every datagram is a message of its own: all of them.
  std::size_t whole_messages(std::span<const OutgoingDatagram> batch) const;

  // Readiness waits; the handler gets (boost::system::error_code).
  template <typename Handler>
  void async_wait_readable(Handler&& handler) {
    socket().async_wait(boost::asio::ip::udp::socket::wait_read, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_wait_writable(Handler&& handler) {
    socket().async_wait(boost::asio::ip::udp::socket::wait_write, std::forward<Handler>(handler));
  }

  void close();  // cancels pending waits
  boost::asio::ip::udp::socket& socket();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace srudp::io
