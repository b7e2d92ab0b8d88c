#include "io/udp_socket.hpp"

#include <dlfcn.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

// Fault injection at the system-call boundary. Loopback never makes a UDP send wait (the loopback
// device releases the sender's buffer space at once, whatever SO_SNDBUF says), and a kernel without
// GSO checksum offload is not at hand, so these tests stand in for the kernel: this definition
// takes precedence over libc's for the whole test program and passes every call through to the
// real sendmmsg unless a test arms it.
namespace {
std::atomic<int> g_sendmmsg_message_budget{-1};  // messages accepted before EAGAIN; -1: no limit
std::atomic<int> g_sendmmsg_segmented_errno{0};  // fail any message carrying UDP_SEGMENT
std::atomic<int> g_sendmmsg_calls{0};

bool carries_udp_segment(const msghdr& header) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&header), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) return true;
  }
  return false;
}
}  // namespace

extern "C" int sendmmsg(int fd, mmsghdr* messages, unsigned int count, int flags) {
  using Real = int (*)(int, mmsghdr*, unsigned int, int);
  static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "sendmmsg"));
  ++g_sendmmsg_calls;
  unsigned allowed = count;
  int failure = EAGAIN;
  const int budget = g_sendmmsg_message_budget.load();
  if (budget >= 0 && static_cast<unsigned>(budget) < allowed) allowed = static_cast<unsigned>(budget);
  if (const int e = g_sendmmsg_segmented_errno.load(); e != 0) {
    for (unsigned i = 0; i < allowed; ++i) {
      if (carries_udp_segment(messages[i].msg_hdr)) {
        allowed = i;
        failure = e;
        break;
      }
    }
  }
  if (allowed == 0 && count > 0) {
    errno = failure;
    return -1;
  }
  const int sent = real(fd, messages, allowed, flags);
  if (sent > 0 && budget >= 0) g_sendmmsg_message_budget -= sent;
  return sent;
}

namespace srudp::io {
namespace {

using namespace std::chrono_literals;

struct Datagram {
  SocketAddress from;
  std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> payload(std::uint32_t seed, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return bytes;
}

class UdpSocketTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;

  UdpSocket open_socket(const SocketAddress& local, const UdpSocketOptions& options = {}) {
    UdpSocket socket(io.get_executor());
    const auto ec = socket.open(local, options);
    EXPECT_FALSE(ec) << local.to_string() << ": " << ec.message();
    return socket;
  }

  // Receives until `count` datagrams came or the deadline passed, waiting for readability in
  // between. `max_per_call` exercises partial hand-out of a receive batch.
  std::vector<Datagram> receive(UdpSocket& socket, std::size_t count,
                                std::size_t max_per_call = 64,
                                std::chrono::milliseconds deadline = 3s) {
    std::vector<Datagram> out;
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (out.size() < count) {
      auto batch = socket.receive(max_per_call);
      EXPECT_TRUE(batch.has_value()) << batch.error().message();
      if (!batch) break;
      EXPECT_LE(batch->size(), max_per_call);
      for (const auto& d : *batch) out.push_back({d.from, {d.data.begin(), d.data.end()}});
      if (!batch->empty()) continue;
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      bool readable = false;
      socket.async_wait_readable([&](const boost::system::error_code&) { readable = true; });
      io.restart();
      io.run_for(until - now);
      if (!readable) {  // deadline: cancel the wait and let its handler run before returning
        socket.socket().cancel();
        io.restart();
        io.run();
        break;
      }
    }
    return out;
  }

  // Nothing more arrives within a short grace period.
  void expect_nothing_more(UdpSocket& socket) {
    const auto extra = receive(socket, 1, 64, 50ms);
    EXPECT_TRUE(extra.empty()) << extra.size() << " unexpected datagram(s)";
  }

  static SocketAddress loopback_v4() { return SocketAddress::v4(127, 0, 0, 1, 0); }
  static SocketAddress loopback_v6() { return *SocketAddress::parse("[::1]:0"); }
  static SocketAddress any_v6() { return *SocketAddress::parse("[::]:0"); }

  // IPv6 loopback may be disabled in a container.
  bool ipv6_available() {
    UdpSocket probe(io.get_executor());
    return !probe.open(loopback_v6());
  }
};

void expect_same(const std::vector<Datagram>& got, const std::vector<std::vector<std::uint8_t>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].bytes, want[i]) << "datagram " << i << " of " << want.size();
  }
}

TEST_F(UdpSocketTest, RoundTripIpv4) {
  auto a = open_socket(loopback_v4());
  auto b = open_socket(loopback_v4());
  ASSERT_TRUE(a.is_open());
  EXPECT_TRUE(a.local_address().is_v4());
  EXPECT_NE(a.local_address().port, 0);

  const std::vector<std::vector<std::uint8_t>> sent = {payload(1, 100), payload(2, 1), payload(3, 1200)};
  std::vector<OutgoingDatagram> batch;
  for (const auto& p : sent) batch.push_back({b.local_address(), p});
  auto n = a.send(batch);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(*n, sent.size());

  const auto got = receive(b, sent.size());
  expect_same(got, sent);
  for (const auto& d : got) EXPECT_EQ(d.from, a.local_address());

  // And back, to the address the datagram came from.
  const auto reply = payload(4, 77);
  const OutgoingDatagram back{got[0].from, reply};
  ASSERT_EQ(*b.send({&back, 1}), 1u);
  expect_same(receive(a, 1), {reply});
}

TEST_F(UdpSocketTest, RoundTripIpv6) {
  if (!ipv6_available()) GTEST_SKIP() << "no IPv6 loopback here";
  auto a = open_socket(loopback_v6());
  auto b = open_socket(loopback_v6());
  EXPECT_FALSE(a.local_address().is_v4());
  EXPECT_EQ(a.local_address().ip, loopback_v6().ip);

  const std::vector<std::vector<std::uint8_t>> sent = {payload(5, 1400), payload(6, 3)};
  std::vector<OutgoingDatagram> batch;
  for (const auto& p : sent) batch.push_back({b.local_address(), p});
  ASSERT_EQ(*a.send(batch), sent.size());
  const auto got = receive(b, sent.size());
  expect_same(got, sent);
  for (const auto& d : got) EXPECT_EQ(d.from, a.local_address());
}

TEST_F(UdpSocketTest, DualStackSocketSeesIpv4PeersAsV4) {
  if (!ipv6_available()) GTEST_SKIP() << "no IPv6 here";
  auto dual = open_socket(any_v6());
  auto v4 = open_socket(loopback_v4());
  const auto to_dual = SocketAddress::v4(127, 0, 0, 1, dual.local_address().port);

  const auto hello = payload(7, 500);
  const OutgoingDatagram d{to_dual, hello};
  ASSERT_EQ(*v4.send({&d, 1}), 1u);
  const auto got = receive(dual, 1);
  expect_same(got, {hello});
  EXPECT_TRUE(got[0].from.is_v4());
  EXPECT_EQ(got[0].from, v4.local_address());

  // The dual-stack socket answers an IPv4 peer through its v4-mapped address.
  const auto answer = payload(8, 600);
  const OutgoingDatagram back{got[0].from, answer};
  ASSERT_EQ(*dual.send({&back, 1}), 1u);
  const auto answered = receive(v4, 1);
  expect_same(answered, {answer});
  EXPECT_EQ(answered[0].from.port, dual.local_address().port);
  EXPECT_TRUE(answered[0].from.is_v4());
}

TEST_F(UdpSocketTest, BatchOfMixedSizesAndDestinationsArrivesInOrderPerDestination) {
  const bool v6 = ipv6_available();
  auto sender = open_socket(v6 ? any_v6() : loopback_v4());
  std::vector<UdpSocket> receivers;
  receivers.push_back(open_socket(loopback_v4()));
  receivers.push_back(open_socket(loopback_v4()));
  if (v6) receivers.push_back(open_socket(loopback_v6()));

  // Runs of equal sizes (GSO material, some ending shorter) interleaved with odd sizes, to
  // destinations in turn; one empty datagram too.
  std::mt19937 rng(20240607);
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<std::size_t> destination;
  while (payloads.size() < 200) {
    const std::size_t to = rng() % receivers.size();
    const std::size_t run = 1 + rng() % 12;
    const std::size_t size = 1 + rng() % 1500;
    for (std::size_t i = 0; i < run && payloads.size() < 200; ++i) {
      std::size_t this_size = size;
      if (i + 1 == run && rng() % 2 == 0) this_size = 1 + rng() % size;
      if (payloads.size() == 100) this_size = 0;
      payloads.push_back(payload(static_cast<std::uint32_t>(payloads.size()), this_size));
      destination.push_back(to);
    }
  }
  std::vector<OutgoingDatagram> batch;
  std::vector<std::vector<std::vector<std::uint8_t>>> want(receivers.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    batch.push_back({receivers[destination[i]].local_address(), payloads[i]});
    want[destination[i]].push_back(payloads[i]);
  }
  auto n = sender.send(batch);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(*n, batch.size());
  EXPECT_EQ(sender.counters().sent_datagrams, batch.size());
  if (sender.capabilities().gso) {
    EXPECT_LT(sender.counters().sent_messages, batch.size());
  }

  for (std::size_t r = 0; r < receivers.size(); ++r) {
    SCOPED_TRACE("receiver " + std::to_string(r));
    const auto got = receive(receivers[r], want[r].size());
    expect_same(got, want[r]);
    for (const auto& d : got) EXPECT_EQ(d.from.port, sender.local_address().port);
    expect_nothing_more(receivers[r]);
  }
}

TEST_F(UdpSocketTest, GsoRunArrivesAsSeparateDatagramsWithTheirBoundaries) {
  auto sender = open_socket(loopback_v4());
  if (!sender.capabilities().gso) GTEST_SKIP() << "kernel without UDP GSO";
  auto gro_receiver = open_socket(loopback_v4());
  auto plain_receiver = open_socket(loopback_v4(), {.allow_gso = false, .allow_gro = false});
  EXPECT_FALSE(plain_receiver.capabilities().gro);

  std::vector<std::vector<std::uint8_t>> run;
  for (std::uint32_t i = 0; i < 20; ++i) run.push_back(payload(100 + i, 1000));
  run.push_back(payload(200, 300));  // the last of a run may be shorter

  for (UdpSocket* receiver : {&gro_receiver, &plain_receiver}) {
    std::vector<OutgoingDatagram> batch;
    for (const auto& p : run) batch.push_back({receiver->local_address(), p});
    const auto calls_before = sender.counters().send_calls;
    const auto messages_before = sender.counters().sent_messages;
    ASSERT_EQ(*sender.send(batch), run.size());
    EXPECT_EQ(sender.counters().send_calls - calls_before, 1u);
    EXPECT_EQ(sender.counters().sent_messages - messages_before, 1u) << "one GSO message";

    // Handed out 6 at a time: the rest of a split GRO message comes from later calls.
    expect_same(receive(*receiver, run.size(), 6), run);
    expect_nothing_more(*receiver);
  }
  // The kernel delivers the GSO message whole to a GRO socket, which splits it.
  if (gro_receiver.capabilities().gro) {
    EXPECT_LT(gro_receiver.counters().received_messages, gro_receiver.counters().received_datagrams);
  }
  EXPECT_EQ(plain_receiver.counters().received_messages, run.size());
}

// whole_messages: the datagrams at the front of a batch that send() packs into messages no datagram
// appended later could join. The endpoint sends those and keeps the open run at the end to fill.
TEST_F(UdpSocketTest, WholeMessagesAreTheGsoRunsNothingAppendedCouldJoin) {
  auto receiver = open_socket(loopback_v4());
  auto other = open_socket(loopback_v4());
  const SocketAddress to = receiver.local_address();
  const auto full = payload(1, 1451);  // 45 of them fill the 64 KB a GSO message carries
  const auto small = payload(2, 500);  // 64 of them reach the segment limit first
  const auto shorter = payload(3, 300);
  const std::vector<std::uint8_t> empty;
  const auto batch_of = [&](std::initializer_list<std::pair<std::size_t, const std::vector<std::uint8_t>*>> parts,
                            const SocketAddress& where) {
    std::vector<OutgoingDatagram> batch;
    for (const auto& [count, bytes] : parts) {
      for (std::size_t i = 0; i < count; ++i) batch.push_back({where, *bytes});
    }
    return batch;
  };

  // Without GSO each datagram is a message of its own (checked on every kernel).
  auto plain = open_socket(loopback_v4(), {.allow_gso = false});
  EXPECT_EQ(plain.whole_messages(batch_of({{7, &full}}, to)), 7u);

  auto sender = open_socket(loopback_v4());
  if (!sender.capabilities().gso) GTEST_SKIP() << "kernel without UDP GSO";

  EXPECT_EQ(sender.whole_messages({}), 0u);
  EXPECT_EQ(sender.whole_messages(batch_of({{44, &full}}, to)), 0u) << "room for one more";
  EXPECT_EQ(sender.whole_messages(batch_of({{45, &full}}, to)), 45u) << "64 KB reached";
  EXPECT_EQ(sender.whole_messages(batch_of({{46, &full}}, to)), 45u) << "the 46th opens a new run";
  EXPECT_EQ(sender.whole_messages(batch_of({{90, &full}}, to)), 90u);
  EXPECT_EQ(sender.whole_messages(batch_of({{63, &small}}, to)), 0u);
  EXPECT_EQ(sender.whole_messages(batch_of({{64, &small}}, to)), 64u) << "64 segments reached";
  EXPECT_EQ(sender.whole_messages(batch_of({{20, &full}, {1, &shorter}}, to)), 21u) << "a shorter one ends its run";
  EXPECT_EQ(sender.whole_messages(batch_of({{20, &full}, {1, &shorter}, {3, &full}}, to)), 21u);
  EXPECT_EQ(sender.whole_messages(batch_of({{3, &shorter}, {2, &full}}, to)), 3u) << "a bigger one cannot join";
  EXPECT_EQ(sender.whole_messages(batch_of({{1, &empty}, {2, &full}}, to)), 1u) << "an empty datagram is alone";

  auto two_destinations = batch_of({{10, &full}}, to);
  for (const auto& d : batch_of({{5, &full}}, other.local_address())) two_destinations.push_back(d);
  EXPECT_EQ(sender.whole_messages(two_destinations), 10u) << "another destination ends the run";

  // send() agrees: the 45 whole ones are one message, and the open run a second one.
  const auto batch = batch_of({{46, &full}}, to);
  const auto messages_before = sender.counters().sent_messages;
  ASSERT_EQ(*sender.send(std::span(batch).first(sender.whole_messages(batch))), 45u);
  EXPECT_EQ(sender.counters().sent_messages - messages_before, 1u);
  ASSERT_EQ(*sender.send(std::span(batch).subspan(45)), 1u);
  EXPECT_EQ(sender.counters().sent_messages - messages_before, 2u);
  EXPECT_EQ(receive(receiver, batch.size()).size(), batch.size());
  expect_nothing_more(receiver);
}

// The receive headers are set up again only where the kernel wrote to them. A single datagram
// leaves its header with no room for control data (it came without a GRO cmsg): the GSO run that
// lands in the same slot on the next call must still be split at its boundaries.
TEST_F(UdpSocketTest, ReceiveHeadersAreFreshForEveryCall) {
  auto sender = open_socket(loopback_v4());
  auto other = open_socket(loopback_v4());
  auto receiver = open_socket(loopback_v4());
  if (!sender.capabilities().gso || !receiver.capabilities().gro) GTEST_SKIP() << "kernel without UDP GSO/GRO";
  const SocketAddress to = receiver.local_address();
  for (int round = 0; round < 3; ++round) {
    const auto single = payload(static_cast<std::uint32_t>(round), 77);
    ASSERT_EQ(*other.send(std::vector<OutgoingDatagram>{{to, single}}), 1u);
    const auto got_single = receive(receiver, 1, 64);
    ASSERT_EQ(got_single.size(), 1u);
    EXPECT_EQ(got_single[0].bytes, single);
    EXPECT_EQ(got_single[0].from, other.local_address());

    std::vector<std::vector<std::uint8_t>> run;
    for (std::uint32_t i = 0; i < 8; ++i) run.push_back(payload(10 * static_cast<std::uint32_t>(round) + i, 1200));
    std::vector<OutgoingDatagram> batch;
    for (const auto& p : run) batch.push_back({to, p});
    ASSERT_EQ(*sender.send(batch), run.size());
    const auto got_run = receive(receiver, run.size(), 64);
    expect_same(got_run, run);
    for (const auto& d : got_run) EXPECT_EQ(d.from, sender.local_address());
  }
  expect_nothing_more(receiver);
}

TEST_F(UdpSocketTest, GsoRunsStopAtTheKernelLimits) {
  auto sender = open_socket(loopback_v4());
  if (!sender.capabilities().gso) GTEST_SKIP() << "kernel without UDP GSO";
  auto receiver = open_socket(loopback_v4());
  // 100 tiny datagrams: at most 64 segments per message. 60 of 1400 bytes: at most 64 KiB.
  std::vector<std::vector<std::uint8_t>> small, large;
  for (std::uint32_t i = 0; i < 100; ++i) small.push_back(payload(i, 10));
  for (std::uint32_t i = 0; i < 60; ++i) large.push_back(payload(1000 + i, 1400));
  for (const auto* run : {&small, &large}) {
    std::vector<OutgoingDatagram> batch;
    for (const auto& p : *run) batch.push_back({receiver.local_address(), p});
    const auto before = sender.counters().sent_messages;
    ASSERT_EQ(*sender.send(batch), run->size());
    EXPECT_EQ(sender.counters().sent_messages - before, 2u);
    expect_same(receive(receiver, run->size()), *run);
  }
}

TEST_F(UdpSocketTest, WithoutGsoEveryDatagramIsItsOwnMessage) {
  auto sender = open_socket(loopback_v4(), {.allow_gso = false});
  auto receiver = open_socket(loopback_v4());
  EXPECT_FALSE(sender.capabilities().gso);
  std::vector<std::vector<std::uint8_t>> run;
  for (std::uint32_t i = 0; i < 30; ++i) run.push_back(payload(i, 1200));
  std::vector<OutgoingDatagram> batch;
  for (const auto& p : run) batch.push_back({receiver.local_address(), p});
  ASSERT_EQ(*sender.send(batch), run.size());
  EXPECT_EQ(sender.counters().sent_messages, run.size());
  EXPECT_EQ(sender.counters().send_calls, 1u);
  expect_same(receive(receiver, run.size()), run);
}

TEST_F(UdpSocketTest, LargeDatagramWorksAndOversizeOneIsDroppedAlone) {
  auto sender = open_socket(loopback_v4());
  auto receiver = open_socket(loopback_v4());
  const auto before = payload(1, 2000);  // bigger than a typical path MTU, fine on loopback
  const auto oversize = payload(2, 70000);  // bigger than any UDP datagram
  const auto after = payload(3, 2000);
  const std::vector<OutgoingDatagram> batch = {
      {receiver.local_address(), before}, {receiver.local_address(), oversize},
      {receiver.local_address(), after}};
  auto n = sender.send(batch);
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(*n, 3u) << "the oversize datagram counts as sent (dropped)";
  EXPECT_EQ(sender.counters().sent_datagrams, 2u);
  expect_same(receive(receiver, 2), {before, after});
  expect_nothing_more(receiver);

  // The largest IPv4 UDP payload still goes through whole.
  const auto largest = payload(4, 65507);
  const OutgoingDatagram d{receiver.local_address(), largest};
  ASSERT_EQ(*sender.send({&d, 1}), 1u);
  expect_same(receive(receiver, 1), {largest});
}

TEST_F(UdpSocketTest, Ipv6DestinationFromIpv4SocketIsDroppedAlone) {
  auto sender = open_socket(loopback_v4());
  auto receiver = open_socket(loopback_v4());
  const auto a = payload(1, 50);
  const auto b = payload(2, 60);
  const std::vector<OutgoingDatagram> batch = {{receiver.local_address(), a},
                                               {*SocketAddress::parse("[::1]:9"), a},
                                               {receiver.local_address(), b}};
  ASSERT_EQ(*sender.send(batch), 3u);
  expect_same(receive(receiver, 2), {a, b});
}

TEST_F(UdpSocketTest, FullSendBufferReturnsTheCountSentAndTheRestGoesLater) {
  auto sender = open_socket(loopback_v4(), {.allow_gso = false});
  auto receiver = open_socket(loopback_v4());
  std::vector<std::vector<std::uint8_t>> run;
  for (std::uint32_t i = 0; i < 10; ++i) run.push_back(payload(i, 100 + i));
  std::vector<OutgoingDatagram> batch;
  for (const auto& p : run) batch.push_back({receiver.local_address(), p});

  g_sendmmsg_message_budget = 4;  // the "kernel" takes 4, then its buffer is full
  auto first = sender.send(batch);
  g_sendmmsg_message_budget = -1;
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(*first, 4u);

  // Nothing fits at all: zero, not an error.
  g_sendmmsg_message_budget = 0;
  auto none = sender.send(std::span(batch).subspan(*first));
  g_sendmmsg_message_budget = -1;
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, 0u);

  auto rest = sender.send(std::span(batch).subspan(*first));
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, batch.size() - 4);
  expect_same(receive(receiver, run.size()), run);
  expect_nothing_more(receiver);
}

TEST_F(UdpSocketTest, GsoFailureFallsBackToSingleDatagramsForGood) {
  auto sender = open_socket(loopback_v4());
  if (!sender.capabilities().gso) GTEST_SKIP() << "kernel without UDP GSO";
  auto receiver = open_socket(loopback_v4());
  std::vector<std::vector<std::uint8_t>> run;
  for (std::uint32_t i = 0; i < 8; ++i) run.push_back(payload(i, 1200));
  std::vector<OutgoingDatagram> batch;
  for (const auto& p : run) batch.push_back({receiver.local_address(), p});

  g_sendmmsg_segmented_errno = EIO;  // as from a device without checksum offload
  auto n = sender.send(batch);
  g_sendmmsg_segmented_errno = 0;
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(*n, run.size());
  EXPECT_FALSE(sender.capabilities().gso);
  EXPECT_EQ(sender.counters().sent_messages, run.size());
  expect_same(receive(receiver, run.size()), run);

  // Later sends stay unsegmented.
  ASSERT_EQ(*sender.send(batch), run.size());
  EXPECT_EQ(sender.counters().sent_messages, 2 * run.size());
  expect_same(receive(receiver, run.size()), run);
}

TEST_F(UdpSocketTest, ReceiveOnEmptySocketReturnsNothingAndClosedSocketFails) {
  auto socket = open_socket(loopback_v4());
  auto empty = socket.receive();
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());

  UdpSocket moved = std::move(socket);
  EXPECT_TRUE(moved.is_open());
  moved.close();
  EXPECT_FALSE(moved.is_open());
  EXPECT_FALSE(moved.receive().has_value());
  const auto bytes = payload(1, 10);
  const OutgoingDatagram d{SocketAddress::v4(127, 0, 0, 1, 9), bytes};
  EXPECT_FALSE(moved.send({&d, 1}).has_value());
}

TEST_F(UdpSocketTest, OpenFailsOnAPortInUse) {
  auto first = open_socket(loopback_v4());
  UdpSocket second(io.get_executor());
  EXPECT_TRUE(second.open(first.local_address()));
  EXPECT_FALSE(second.is_open());
}

}  // namespace
}  // namespace srudp::io
