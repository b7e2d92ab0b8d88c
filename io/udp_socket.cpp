#include "io/udp_socket.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <boost/asio/ip/v6_only.hpp>

#include "io/address_conversion.hpp"

namespace srudp::io {
namespace {

using boost::asio::ip::udp;

// Receive ring: each slot holds one message, which with GRO can be up to 64 KiB of coalesced
// datagrams. The bytes are allocated without zero-filling; the kernel writes only what it
// receives, so untouched pages cost no memory.
constexpr std::size_t kReceiveSlots = 64;
constexpr std::size_t kReceiveSlotBytes = 65536;

// The kernel's GSO limits: at most 64 segments (UDP_MAX_SEGMENTS) per send, and the whole
// message at most kMaxGsoMessageBytes.
constexpr std::size_t kMaxGsoSegments = 64;

// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr std::size_t kMaxMessagesPerSend = 1024;

constexpr int kKernelBufferBytes = 4 * 1024 * 1024;

constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(int));
static_assert(CMSG_SPACE(sizeof(std::uint16_t)) <= kControlBytes);

// Control-message buffers must be aligned for cmsghdr.
struct alignas(cmsghdr) ControlBuffer {
  std::array<std::uint8_t, kControlBytes> bytes;
};

std::error_code last_error() { return {errno, std::system_category()}; }

SocketAddress from_sockaddr(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage, sizeof sin);
    return SocketAddress::v4(ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port));
  }
  sockaddr_in6 sin6{};
  std::memcpy(&sin6, &storage, sizeof sin6);
  std::array<std::uint8_t, 16> ip{};
  std::memcpy(ip.data(), &sin6.sin6_addr, ip.size());
  return SocketAddress::v6(ip, ntohs(sin6.sin6_port));
}

// Returns 0 when `address` cannot be reached from this socket's family (IPv6 from an IPv4 socket).
socklen_t to_sockaddr(const SocketAddress& address, bool ipv6_socket, sockaddr_storage& storage) {
  storage = {};
  if (!ipv6_socket) {
    if (!address.is_v4()) return 0;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(address.port);
    sin.sin_addr.s_addr = htonl(address.v4_host_order());
    std::memcpy(&storage, &sin, sizeof sin);
    return sizeof sin;
  }
  // A dual-stack socket reaches IPv4 peers through their v4-mapped form, which is how
  // SocketAddress already stores them.
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(address.port);
  std::memcpy(&sin6.sin6_addr, address.ip.data(), address.ip.size());
  std::memcpy(&storage, &sin6, sizeof sin6);
  return sizeof sin6;
}

std::error_code set_int_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return last_error();
  return {};
}

// Errors that concern one datagram (its size or its destination), not the socket: the datagram is
// dropped as if lost on the path, and the batch goes on. ENOBUFS (a full device queue) is a loss
// too: waiting for writable would not help, the socket is writable.
bool is_per_datagram_error(int error) {
  return error == EMSGSIZE || error == ECONNREFUSED || error == EHOSTUNREACH ||
         error == ENETUNREACH || error == EAFNOSUPPORT || error == EADDRNOTAVAIL ||
         error == EACCES || error == EPERM || error == ENOBUFS;
}

// ICMP errors from earlier sends surface on the next receive call; they say nothing about the
// datagrams waiting, so the receive is simply retried.
bool is_receive_icmp_error(int error) {
  return error == ECONNREFUSED || error == EHOSTUNREACH || error == ENETUNREACH;
}

}  // namespace

struct UdpSocket::State {
  explicit State(const boost::asio::any_io_executor& executor) : socket(executor) {}

  udp::socket socket;
  bool ipv6 = false;
  UdpSocketCapabilities capabilities;
  UdpSocketCounters counters;

  // Receive side: the ring and the datagrams split out of it. `received` may hold more datagrams
  // than one call returns (a GRO message splits into many); `delivered` counts those handed out.
  std::unique_ptr<std::uint8_t[]> receive_bytes;
  std::vector<mmsghdr> receive_messages;
  std::vector<iovec> receive_iovecs;
  std::vector<sockaddr_storage> receive_addresses;
  std::vector<ControlBuffer> receive_controls;
  std::vector<ReceivedDatagram> received;
  std::size_t delivered = 0;
  // Headers the kernel may have written to since they were last set up: those of the messages the
  // last call returned and the one after (a call that stops at an error may have begun it).
  std::size_t receive_headers_written = 0;

  // Send side, reused between calls. One message per run of datagrams (one datagram without GSO);
  // its iovecs point straight at the caller's buffers, so nothing is copied.
  std::vector<mmsghdr> send_messages;
  std::vector<std::size_t> send_message_datagrams;
  std::vector<bool> send_message_segmented;
  std::vector<iovec> send_iovecs;
  std::vector<sockaddr_storage> send_addresses;
  std::vector<ControlBuffer> send_controls;

  int fd() { return socket.native_handle(); }
  std::error_code configure(const UdpSocketOptions& options);
  void allocate_receive_ring();
  void reset_receive_header(std::size_t slot);
  std::size_t build_send_messages(std::span<const OutgoingDatagram> batch);
  void split_received(const mmsghdr& message, std::size_t slot);
};

std::error_code UdpSocket::State::configure(const UdpSocketOptions& options) {
  // Never fragment: PROBE sets DF, fails datagrams bigger than the interface MTU with EMSGSIZE
  // instead of fragmenting them, and ignores the kernel's cached path MTU, so the connection's own
  // path MTU discovery can send probes of any size.
  if (ipv6) {
    if (auto ec = set_int_option(fd(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)) {
      return ec;
    }
  }
  // Also on IPv6 sockets: a dual-stack socket's IPv4 traffic follows the IPv4 option, and without
  // it the kernel fragments v4-mapped datagrams bigger than the interface MTU.
  if (auto ec = set_int_option(fd(), IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)) return ec;

  // Large kernel buffers absorb bursts between two drains. FORCE passes the rmem_max/wmem_max cap
  // when privileged; otherwise the plain option sets what the cap allows. Best effort.
  if (set_int_option(fd(), SOL_SOCKET, SO_RCVBUFFORCE, kKernelBufferBytes)) {
    (void)set_int_option(fd(), SOL_SOCKET, SO_RCVBUF, kKernelBufferBytes);
  }
  if (set_int_option(fd(), SOL_SOCKET, SO_SNDBUFFORCE, kKernelBufferBytes)) {
    (void)set_int_option(fd(), SOL_SOCKET, SO_SNDBUF, kKernelBufferBytes);
  }

  // GSO: kernels without UDP_SEGMENT reject the getsockopt, and would ignore the cmsg (sending one
  // huge datagram), so it is used only when the option is known.
  if (options.allow_gso) {
    int segment = 0;
    socklen_t length = sizeof segment;
    capabilities.gso = ::getsockopt(fd(), SOL_UDP, UDP_SEGMENT, &segment, &length) == 0;
  }
  if (options.allow_gro) {
    capabilities.gro = !set_int_option(fd(), SOL_UDP, UDP_GRO, 1);
  }
  return {};
}

void UdpSocket::State::allocate_receive_ring() {
  if (receive_bytes) return;
  receive_bytes = std::make_unique_for_overwrite<std::uint8_t[]>(kReceiveSlots * kReceiveSlotBytes);
  receive_messages.resize(kReceiveSlots);
  receive_iovecs.resize(kReceiveSlots);
  receive_addresses.resize(kReceiveSlots);
  receive_controls.resize(kReceiveSlots);
  received.reserve(kReceiveSlots);
  for (std::size_t slot = 0; slot < kReceiveSlots; ++slot) {
    receive_iovecs[slot] = {receive_bytes.get() + slot * kReceiveSlotBytes, kReceiveSlotBytes};
    reset_receive_header(slot);
  }
  receive_headers_written = 0;
}

void UdpSocket::State::reset_receive_header(std::size_t slot) {
  msghdr& header = receive_messages[slot].msg_hdr;
  header = {};
  header.msg_name = &receive_addresses[slot];
  header.msg_namelen = sizeof(sockaddr_storage);
  header.msg_iov = &receive_iovecs[slot];
  header.msg_iovlen = 1;
  header.msg_control = receive_controls[slot].bytes.data();
  header.msg_controllen = kControlBytes;
  receive_messages[slot].msg_len = 0;
}

void UdpSocket::State::split_received(const mmsghdr& message, std::size_t slot) {
  // A datagram larger than the slot was cut short: drop it rather than deliver a prefix.
  if (message.msg_hdr.msg_flags & MSG_TRUNC) return;
  const std::size_t length = message.msg_len;
  std::size_t segment = length;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message.msg_hdr); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message.msg_hdr), c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int gro_segment = 0;
      std::memcpy(&gro_segment, CMSG_DATA(c), sizeof gro_segment);
      if (gro_segment > 0) segment = static_cast<std::size_t>(gro_segment);
    }
  }
  const SocketAddress from = from_sockaddr(receive_addresses[slot]);
  const std::uint8_t* bytes = receive_bytes.get() + slot * kReceiveSlotBytes;
  if (length == 0) {  // an empty datagram is still a datagram
    received.push_back({from, {bytes, 0}});
    return;
  }
  for (std::size_t offset = 0; offset < length; offset += segment) {
    received.push_back({from, {bytes + offset, std::min(segment, length - offset)}});
  }
}

UdpSocket::UdpSocket(const boost::asio::any_io_executor& executor)
    : s_(std::make_unique<State>(executor)) {}
UdpSocket::~UdpSocket() = default;
UdpSocket::UdpSocket(UdpSocket&&) noexcept = default;
UdpSocket& UdpSocket::operator=(UdpSocket&&) noexcept = default;

std::error_code UdpSocket::open(const SocketAddress& local) { return open(local, {}); }

std::error_code UdpSocket::open(const SocketAddress& local, const UdpSocketOptions& options) {
  if (!s_) return make_error_code(errc::invalid_state);
  if (s_->socket.is_open()) return make_error_code(errc::invalid_state);
  s_->ipv6 = !local.is_v4();
  s_->capabilities = {};
  s_->counters = {};
  s_->received.clear();
  s_->delivered = 0;

  boost::system::error_code ec;
  s_->socket.open(s_->ipv6 ? udp::v6() : udp::v4(), ec);
  if (ec) return ec;
  auto fail = [this](const std::error_code& error) {
    boost::system::error_code ignored;
    s_->socket.close(ignored);
    return error;
  };
  if (s_->ipv6) {
    s_->socket.set_option(boost::asio::ip::v6_only(false), ec);
    if (ec) return fail(ec);
  }
  s_->socket.native_non_blocking(true, ec);
  if (ec) return fail(ec);
  if (auto error = s_->configure(options)) return fail(error);
  s_->socket.bind(to_udp_endpoint(local), ec);
  if (ec) return fail(ec);
  s_->allocate_receive_ring();
  return {};
}

bool UdpSocket::is_open() const { return s_ && s_->socket.is_open(); }

SocketAddress UdpSocket::local_address() const {
  if (!is_open()) return {};
  boost::system::error_code ec;
  const auto endpoint = s_->socket.local_endpoint(ec);
  if (ec) return {};
  return to_socket_address(endpoint);
}

const UdpSocketCapabilities& UdpSocket::capabilities() const { return s_->capabilities; }
const UdpSocketCounters& UdpSocket::counters() const { return s_->counters; }

Result<std::span<const ReceivedDatagram>> UdpSocket::receive(std::size_t max_datagrams) {
  if (!is_open()) return make_error_code(errc::invalid_state);
  State& s = *s_;
  if (max_datagrams == 0) return std::span<const ReceivedDatagram>{};

  if (s.delivered == s.received.size()) {
    s.received.clear();
    s.delivered = 0;
    const std::size_t want = std::min(max_datagrams, kReceiveSlots);
    // Only the headers the last call used need setting up again (most calls find few messages).
    for (std::size_t slot = 0; slot < s.receive_headers_written; ++slot) s.reset_receive_header(slot);
    int count = -1;
    // Bounded: each ICMP error is consumed by the call that reports it.
    for (int attempt = 0; attempt < 16; ++attempt) {
      count = ::recvmmsg(s.fd(), s.receive_messages.data(), static_cast<unsigned>(want),
                         MSG_DONTWAIT, nullptr);
      ++s.counters.receive_calls;
      s.receive_headers_written = std::min(static_cast<std::size_t>(std::max(count, 0)) + 1, want);
      if (count >= 0 || (errno != EINTR && !is_receive_icmp_error(errno))) break;
    }
    if (count < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
          is_receive_icmp_error(errno)) {
        return std::span<const ReceivedDatagram>{};
      }
      return last_error();
    }
    const auto messages = static_cast<std::size_t>(count);
    s.counters.received_messages += messages;
    for (std::size_t slot = 0; slot < messages; ++slot) {
      s.split_received(s.receive_messages[slot], slot);
    }
    s.counters.received_datagrams += s.received.size();
  }

  const std::size_t take = std::min(max_datagrams, s.received.size() - s.delivered);
  const std::span<const ReceivedDatagram> out(s.received.data() + s.delivered, take);
  s.delivered += take;
  return out;
}

namespace {

struct GsoRun {
  std::size_t end;  // one past its last datagram
  bool closed;      // a datagram of its size appended to the batch could not join it
};

// The GSO run starting at batch[first]: same destination, same size, except that the last may be
// shorter. The kernel cuts the concatenated payload every `segment` bytes, which restores the
// boundaries.
GsoRun gso_run(std::span<const OutgoingDatagram> batch, std::size_t first, bool gso) {
  const std::size_t segment = batch[first].data.size();
  std::size_t end = first + 1;
  std::size_t total = segment;
  if (!gso || segment == 0) return {end, true};
  while (end < batch.size() && end - first < kMaxGsoSegments && batch[end].to == batch[first].to &&
         batch[end].data.size() > 0 && batch[end].data.size() <= segment &&
         total + batch[end].data.size() <= kMaxGsoMessageBytes) {
    total += batch[end].data.size();
    ++end;
    if (batch[end - 1].data.size() < segment) return {end, true};  // a shorter one ends the run
  }
  const bool full = end - first == kMaxGsoSegments || total + segment > kMaxGsoMessageBytes;
  return {end, end < batch.size() || full};
}

}  // namespace

std::size_t UdpSocket::State::build_send_messages(std::span<const OutgoingDatagram> batch) {
  const std::size_t datagrams = std::min(batch.size(), kMaxMessagesPerSend);
  send_iovecs.resize(datagrams);
  send_messages.resize(datagrams);
  send_message_datagrams.resize(datagrams);
  send_message_segmented.resize(datagrams);
  send_addresses.resize(datagrams);
  send_controls.resize(datagrams);

  std::size_t message = 0;
  for (std::size_t first = 0; first < datagrams; ++message) {
    const std::size_t segment = batch[first].data.size();
    const std::size_t end = gso_run(batch.first(datagrams), first, capabilities.gso).end;
    for (std::size_t i = first; i < end; ++i) {
      // iovec is a C struct without const; the kernel only reads the bytes.
      send_iovecs[i] = {const_cast<std::uint8_t*>(batch[i].data.data()), batch[i].data.size()};
    }

    msghdr& header = send_messages[message].msg_hdr;
    header = {};
    send_messages[message].msg_len = 0;
    header.msg_namelen = to_sockaddr(batch[first].to, ipv6, send_addresses[message]);
    header.msg_name = &send_addresses[message];
    header.msg_iov = &send_iovecs[first];
    header.msg_iovlen = end - first;
    const bool segmented = end - first > 1;
    if (segmented) {
      header.msg_control = send_controls[message].bytes.data();
      header.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&header);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto segment_size = static_cast<std::uint16_t>(segment);
      std::memcpy(CMSG_DATA(c), &segment_size, sizeof segment_size);
    }
    send_message_datagrams[message] = end - first;
    send_message_segmented[message] = segmented;
    first = end;
  }
  return message;
}

Result<std::size_t> UdpSocket::send(std::span<const OutgoingDatagram> batch) {
  if (!is_open()) return make_error_code(errc::invalid_state);
  State& s = *s_;
  std::size_t done = 0;
  while (done < batch.size()) {
    const std::size_t messages = s.build_send_messages(batch.subspan(done));
    // A destination this socket's family cannot reach: drop it like an unreachable one.
    if (s.send_messages[0].msg_hdr.msg_namelen == 0) {
      done += s.send_message_datagrams[0];
      continue;
    }
    std::size_t ready = 1;
    while (ready < messages && s.send_messages[ready].msg_hdr.msg_namelen != 0) ++ready;

    const int sent = ::sendmmsg(s.fd(), s.send_messages.data(), static_cast<unsigned>(ready),
                                MSG_DONTWAIT);
    ++s.counters.send_calls;
    if (sent > 0) {
      for (std::size_t m = 0; m < static_cast<std::size_t>(sent); ++m) {
        done += s.send_message_datagrams[m];
        s.counters.sent_datagrams += s.send_message_datagrams[m];
      }
      s.counters.sent_messages += static_cast<std::size_t>(sent);
      // A short count means message `sent` failed; the next round retries it alone and sees why.
      continue;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) break;
    if (is_per_datagram_error(error)) {
      done += s.send_message_datagrams[0];
      continue;
    }
    if ((error == EIO || error == EINVAL) && s.send_message_segmented[0]) {
      // The kernel knows UDP_SEGMENT but this path cannot do it (no checksum offload, or a
      // device that refuses): send unsegmented from now on. The next round rebuilds the run.
      s.capabilities.gso = false;
      continue;
    }
    if (done > 0) break;  // report what went; the next call meets the error again
    return std::error_code(error, std::system_category());
  }
  return done;
}

std::size_t UdpSocket::whole_messages(std::span<const OutgoingDatagram> batch) const {
  std::size_t whole = 0;
  while (whole < batch.size()) {
    const GsoRun run = gso_run(batch, whole, s_ && s_->capabilities.gso);
    if (!run.closed) break;
    whole = run.end;
  }
  return whole;
}

void UdpSocket::close() {
  if (!s_) return;
  boost::system::error_code ignored;
  s_->socket.close(ignored);
  s_->received.clear();
  s_->delivered = 0;
}

boost::asio::ip::udp::socket& UdpSocket::socket() { return s_->socket; }

}  // namespace srudp::io
