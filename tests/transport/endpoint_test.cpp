#include "transport/endpoint.hpp"

#include <gtest/gtest.h>

#include "transport/endpoint_node.hpp"
#include "sim/network.hpp"

namespace srudp::transport {
namespace {

const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 1, 4433);
const SocketAddress kClient1 = SocketAddress::v4(198, 51, 100, 1, 5000);
const SocketAddress kClient2 = SocketAddress::v4(198, 51, 100, 2, 5000);

using test::EndpointNode;
using test::psk_config;

EndpointConfig server_config() {
  EndpointConfig c;
  c.accept_incoming = true;
  c.server_connection = psk_config();
  return c;
}

EndpointConfig server_config_with_cookies() {
  EndpointConfig c = server_config();
  c.max_stateless_replies = 10;
  c.responder_limits.cookie_threshold = 0;
  return c;
}

// A server endpoint and two clients on the simulated network, each client connected to it.
struct TwoClients {
  explicit TwoClients(std::uint64_t seed)
      : net(seed), rng(seed), server(kServer, server_config(), rng), c1(kClient1, {}, rng), c2(kClient2, {}, rng) {
    net.add_host(server, kServer);
    net.add_host(c1, kClient1);
    net.add_host(c2, kClient2);
  }
  ::testing::AssertionResult connect() {
    if (!c1.endpoint.connect(psk_config(), kServer, net.now()) || !c2.endpoint.connect(psk_config(), kServer, net.now())) {
      return ::testing::AssertionFailure() << "connect refused";
    }
    if (!net.run_until([&] { return server.established.size() == 2 && c1.established.size() == 1 &&
                                    c2.established.size() == 1; },
                       std::chrono::seconds(5))) {
      return ::testing::AssertionFailure() << net.describe();
    }
    return ::testing::AssertionSuccess();
  }
  sim::Network net;
  SeededRandom rng;
  EndpointNode server, c1, c2;
};

TEST(Endpoint, ServesTwoClientsOnOneSocket) {
  TwoClients t(1);
  ASSERT_TRUE(t.connect());
  sim::Network& net = t.net;
  EndpointNode &server = t.server, &c1 = t.c1, &c2 = t.c2;
  EXPECT_EQ(server.accepted.size(), 2u);
  EXPECT_NE(server.endpoint.connection(server.accepted[0])->local_cid(),
            server.endpoint.connection(server.accepted[1])->local_cid());

  // Each client sends its own bytes on a stream; the server sees each on the right connection.
  for (auto* c : {&c1, &c2}) {
    auto* conn = c->endpoint.connection(1);
    auto stream = conn->open_stream();
    ASSERT_TRUE(stream);
    const std::string text = "hello from " + c->self_.to_string();
    ASSERT_EQ(*conn->stream_write(*stream, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
              text.size());
    ASSERT_FALSE(conn->stream_finish(*stream));
    net.wake(*c);
  }
  std::map<ConnectionHandle, std::vector<std::uint8_t>> got;
  ASSERT_TRUE(net.run_until([&] {
    for (auto h : server.accepted) server.read_all(h, 0, got[h]);
    return got[server.accepted[0]].size() > 10 && got[server.accepted[1]].size() > 10;
  }, std::chrono::seconds(5))) << net.describe();
  for (auto h : server.accepted) {
    const std::string text(got[h].begin(), got[h].end());
    EXPECT_EQ(text, "hello from " + server.endpoint.connection(h)->peer_address().to_string());
  }
}

// What an io driver looks at to let the application catch up: the stream bytes that arrived on
// all connections and wait to be read, brought up to date when events are taken.
TEST(Endpoint, UnreadStreamBytesCountWhatArrivedUntilItIsReadOrItsConnectionIsGone) {
  TwoClients t(2);
  ASSERT_TRUE(t.connect());
  sim::Network& net = t.net;
  EndpointNode &server = t.server, &c1 = t.c1, &c2 = t.c2;
  EXPECT_EQ(server.endpoint.unread_stream_bytes(), 0u);

  // 3 000 bytes from one client, 5 000 from the other (on two streams), none of them read yet.
  const std::vector<std::uint8_t> data(5000, 0x5a);
  const auto send = [&](EndpointNode& c, std::size_t bytes, int streams) {
    Connection* conn = c.endpoint.connection(1);
    for (int i = 0; i < streams; ++i) {
      auto stream = conn->open_stream();
      ASSERT_TRUE(stream);
      ASSERT_EQ(*conn->stream_write(*stream, std::span(data).first(bytes / static_cast<std::size_t>(streams))),
                bytes / static_cast<std::size_t>(streams));
    }
    net.wake(c);
  };
  send(c1, 3000, 1);
  send(c2, 5000, 2);
  ASSERT_TRUE(net.run_until([&] { return server.endpoint.unread_stream_bytes() == 8000; }, std::chrono::seconds(5)))
      << server.endpoint.unread_stream_bytes();
  const ConnectionHandle from_c1 =
      server.endpoint.connection(server.accepted[0])->peer_address() == kClient1 ? server.accepted[0]
                                                                                  : server.accepted[1];
  const ConnectionHandle from_c2 = from_c1 == server.accepted[0] ? server.accepted[1] : server.accepted[0];
  EXPECT_EQ(server.endpoint.connection(from_c1)->unread_stream_bytes(), 3000u);
  EXPECT_EQ(server.endpoint.connection(from_c2)->unread_stream_bytes(), 5000u);

  // Reading 1 000 counts once the endpoint has looked at the connection again (taking events).
  std::array<std::uint8_t, 1000> chunk{};
  ASSERT_EQ(*server.endpoint.connection(from_c1)->stream_read(0, chunk), chunk.size());
  EXPECT_EQ(server.endpoint.connection(from_c1)->unread_stream_bytes(), 2000u);
  server.drain();
  EXPECT_EQ(server.endpoint.unread_stream_bytes(), 7000u);

  // A connection closed with data unread takes its count with it when the endpoint forgets it.
  server.endpoint.connection(from_c2)->close(0, "done");
  ASSERT_TRUE(net.run_until([&] { return server.endpoint.connection(from_c2) == nullptr; }, std::chrono::seconds(5)));
  server.drain();
  EXPECT_EQ(server.endpoint.unread_stream_bytes(), 2000u);
  std::vector<std::uint8_t> rest;
  server.read_all(from_c1, 0, rest);
  EXPECT_EQ(rest.size(), 2000u);
  server.drain();
  EXPECT_EQ(server.endpoint.unread_stream_bytes(), 0u);
}

TEST(Endpoint, DatagramsForNobodyAreDroppedSilently) {
  sim::Network net(2);
  SeededRandom rng(2);
  EndpointNode server(kServer, server_config(), rng);
  sim::Host& host = net.add_host(server, kServer);
  std::vector<std::vector<std::uint8_t>> junk = {
      {0x00, 0x01, 0x00, 0x00},                 // a STUN-looking first byte
      std::vector<std::uint8_t>(40, 0x80),      // a data packet for an unknown connection id
      std::vector<std::uint8_t>(69, 0x43),      // a cookie reply for nobody
      std::vector<std::uint8_t>(1200, 0x41),    // an Initiation that fails mac1
      std::vector<std::uint8_t>(30, 0xff)};
  for (auto& j : junk) net.inject(net.internet(), sim::Datagram{kClient1, kServer, j});
  ASSERT_TRUE(net.run_for(std::chrono::seconds(1)));
  EXPECT_EQ(host.datagrams_sent(), 0u);
  EXPECT_EQ(server.endpoint.connection_count(), 0u);
  EXPECT_GE(server.endpoint.counters().dropped_unknown + server.endpoint.counters().dropped_malformed, 4u);
}

TEST(Endpoint, ConnectionLimitAndCookies) {
  sim::Network net(3);
  SeededRandom rng(3);
  EndpointConfig config = server_config();
  config.max_connections = 1;
  config.responder_limits.always_require_cookie = true;
  EndpointNode server(kServer, std::move(config), rng);
  EndpointNode c1(kClient1, {}, rng), c2(kClient2, {}, rng);
  net.add_host(server, kServer);
  net.add_host(c1, kClient1);
  net.add_host(c2, kClient2);
  ASSERT_TRUE(c1.endpoint.connect(psk_config(), kServer, net.now()));
  ASSERT_TRUE(net.run_until([&] { return c1.established.size() == 1; }, std::chrono::seconds(5)));
  EXPECT_EQ(server.endpoint.counters().cookies_sent, 1u);
  ASSERT_TRUE(c2.endpoint.connect(psk_config(), kServer, net.now()));
  ASSERT_TRUE(net.run_for(std::chrono::seconds(3)));
  EXPECT_TRUE(c2.established.empty());
  EXPECT_EQ(server.endpoint.connection_count(), 1u);
  EXPECT_GT(server.endpoint.counters().dropped_over_capacity, 0u);
}

TEST(Endpoint, SimultaneousOpenBetweenTwoEndpointsGivesOneConnectionEach) {
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    sim::Network net(seed);
    SeededRandom rng(seed);
    EndpointConfig both = server_config();
    EndpointNode a(kClient1, server_config(), rng), b(kClient2, server_config(), rng);
    auto& ha = net.add_host(a, kClient1);
    auto& hb = net.add_host(b, kClient2);
    sim::LinkConfig link;
    link.delay = std::chrono::milliseconds(15);
    net.set_link(ha, hb, link);
    ASSERT_TRUE(a.endpoint.connect(psk_config(), kClient2, net.now()));
    ASSERT_TRUE(b.endpoint.connect(psk_config(), kClient1, net.now()));
    ASSERT_TRUE(net.run_until([&] { return !a.established.empty() && !b.established.empty(); },
                              std::chrono::seconds(5)))
        << net.describe();
    EXPECT_EQ(a.endpoint.connection_count(), 1u) << net.describe();
    EXPECT_EQ(b.endpoint.connection_count(), 1u) << net.describe();
    EXPECT_TRUE(a.accepted.empty());
    EXPECT_TRUE(b.accepted.empty());
  }
}

// The attacker knows the PSK (the worst case) and floods valid Initiations from spoofed sources,
// then replays the genuine client's Initiation from its own address 1000 times: the server keeps
// state only for the real client (cookies answer the flood), and the replays start nothing.
TEST(Endpoint, SpoofedInitiationFloodAndReplaysKeepNoState) {
  sim::Network net(13);
  SeededRandom rng(13);
  EndpointConfig config = server_config();
  config.responder_limits.cookie_threshold = 0;  // under load from the start
  EndpointNode server(kServer, std::move(config), rng);
  EndpointNode client(kClient1, {}, rng);
  net.add_host(server, kServer);
  net.add_host(client, kClient1);
  std::optional<sim::Datagram> initiation;
  net.add_tap(net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kClient1 && d.bytes[0] == 0x41 && !initiation) initiation = d;
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(client.endpoint.connect(psk_config(), kServer, net.now()));
  ASSERT_TRUE(net.run_until([&] { return initiation.has_value(); }, std::chrono::seconds(1)));
  for (std::uint32_t i = 0; i < 5000; ++i) {
    sim::Datagram spoofed = *initiation;
    spoofed.from = SocketAddress::v4(0x0A000000u + i, static_cast<std::uint16_t>(1024 + i % 60000));
    net.inject(net.internet(), std::move(spoofed), std::chrono::microseconds(i * 10));
  }
  ASSERT_TRUE(net.run_for(std::chrono::milliseconds(100)));  // the whole flood arrives
  ASSERT_TRUE(net.run_until([&] { return !client.established.empty() && server.established.size() == 1; },
                            std::chrono::seconds(5)))
      << net.describe();
  EXPECT_EQ(server.endpoint.connection_count(), 1u);  // only the real client got state
  EXPECT_GE(server.endpoint.counters().cookies_sent, 5000u);

  // The Initiation the client sent first (without mac2) again, and the one with the cookie.
  for (int i = 0; i < 1000; ++i) net.inject(net.internet(), *initiation, std::chrono::microseconds(i));
  ASSERT_TRUE(net.run_for(std::chrono::seconds(1)));
  EXPECT_EQ(server.endpoint.connection_count(), 1u);
  EXPECT_EQ(server.accepted.size(), 1u);
  EXPECT_TRUE(server.endpoint.connection(server.accepted[0])->is_established());
}

// A driver that stops draining the endpoint: the peer's datagrams and the cookie replies to a
// flood are dropped and counted beyond their caps instead of piling up.
TEST(Endpoint, QueuesOfADriverThatDoesNotDrainStayBounded) {
  sim::Network net(15);
  SeededRandom rng(15);
  EndpointConfig config = server_config();
  config.max_queued_events = 50;
  config.max_stateless_replies = 10;
  config.responder_limits.cookie_threshold = 0;  // every Initiation without mac2 gets a cookie
  EndpointNode server(kServer, std::move(config), rng);
  EndpointNode client(kClient1, {}, rng);
  net.add_host(server, kServer);
  net.add_host(client, kClient1);
  ASSERT_TRUE(client.endpoint.connect(psk_config(), kServer, net.now()));
  ASSERT_TRUE(net.run_until([&] { return !client.established.empty() && server.established.size() == 1; },
                            std::chrono::seconds(5)));
  // The server application stops polling events; the client sends 500 datagrams.
  server.polling = false;
  for (int i = 0; i < 500; ++i) {
    ASSERT_FALSE(client.endpoint.connection(1)->send_datagram(std::vector<std::uint8_t>(100, 1)));
    net.wake(client);
    ASSERT_TRUE(net.run_for(std::chrono::milliseconds(2)));
  }
  std::size_t queued = 0;
  while (server.endpoint.poll_event()) ++queued;
  EXPECT_LE(queued, 50u);
  EXPECT_GE(server.endpoint.counters().datagram_events_dropped, 450u);

  // Cookie replies that nobody sends: at most 10 wait.
  std::vector<std::uint8_t> initiation;
  {
    SeededRandom other(16);
    auto h = crypto::Handshake::initiate(psk_config().handshake, wire::ConnectionId{3}, other);
    ASSERT_TRUE(h);
    initiation = h->initiation_datagram(net.now());
  }
  Endpoint lone(server_config_with_cookies(), rng);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    lone.handle_datagram(net.now(), SocketAddress::v4(0x0A000000u + i, 1000), initiation);
  }
  EXPECT_EQ(lone.counters().cookies_sent, 10u);
  EXPECT_EQ(lone.counters().cookies_dropped, 990u);
  std::array<std::uint8_t, 1500> out{};
  std::size_t replies = 0;
  while (lone.poll_transmit(net.now(), out)) ++replies;
  EXPECT_EQ(replies, 10u);
  EXPECT_EQ(lone.connection_count(), 0u);
}

// A driver that hands the endpoint a whole batch of datagrams before it takes events (as the
// I/O layer does): the endpoint refreshes a connection once per batch, yet the deadline a datagram
// set (here the delayed ACK) is in poll_timeout at once, and the events wait in poll_event.
TEST(Endpoint, DeadlinesAndEventsOfABatchAreThereBeforeEventsAreTaken) {
  SeededRandom rng(21);
  Endpoint server(server_config(), rng), client({}, rng);
  Instant now{};
  std::array<std::uint8_t, 1500> out{};
  // Moves every waiting datagram both ways, fires due timers and takes every event, until quiet.
  const auto settle = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      now += std::chrono::milliseconds(10);
      for (Endpoint* e : {&server, &client}) {
        if (auto t = e->poll_timeout(); t && *t <= now) e->handle_timeout(now);
      }
      while (auto t = client.poll_transmit(now, out)) server.handle_datagram(now, kClient1, std::span(out).first(t->size));
      while (auto t = server.poll_transmit(now, out)) client.handle_datagram(now, kServer, std::span(out).first(t->size));
      while (server.poll_event()) {
      }
      while (client.poll_event()) {
      }
    }
  };
  const auto handle = client.connect(psk_config(), kServer, now);
  ASSERT_TRUE(handle);
  settle(100);
  ASSERT_TRUE(client.connection(*handle)->is_established());
  // A first write, which also has the path MTU searched (it is probed while data flows).
  Connection* c = client.connection(*handle);
  const auto stream = c->open_stream();
  ASSERT_TRUE(stream);
  const std::array<std::uint8_t, 5> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_EQ(*c->stream_write(*stream, hello), hello.size());
  settle(500);  // every ACK delivered: 5 quiet seconds
  ASSERT_EQ(server.connection_count(), 1u);
  const std::optional<Instant> idle_deadline = server.poll_timeout();
  ASSERT_TRUE(idle_deadline);
  ASSERT_GT(*idle_deadline, now + std::chrono::seconds(1));

  // A small write on a second stream: one ack-eliciting packet, which the server acknowledges
  // within its max_ack_delay (a second packet would have it acknowledge at once).
  c = client.connection(*handle);
  const auto second = c->open_stream();
  ASSERT_TRUE(second);
  ASSERT_EQ(*c->stream_write(*second, hello), hello.size());
  std::size_t packets = 0;
  while (auto t = client.poll_transmit(now, out)) {
    server.handle_datagram(now, kClient1, std::span(out).first(t->size));
    ++packets;
  }
  ASSERT_EQ(packets, 1u);
  // Nothing to send yet (the ACK is delayed); no event taken.
  EXPECT_FALSE(server.poll_transmit(now, out));
  const std::optional<Instant> ack_deadline = server.poll_timeout();
  ASSERT_TRUE(ack_deadline);
  EXPECT_LE(*ack_deadline, now + psk_config().max_ack_delay);

  // The new stream is an event; at the deadline the ACK goes out.
  bool opened = false;
  while (auto e = server.poll_event()) {
    opened = opened || (e->kind == EndpointEvent::Kind::connection &&
                        e->event.kind == ConnectionEvent::Kind::stream_opened && e->event.stream_id == *second);
  }
  EXPECT_TRUE(opened);
  server.handle_timeout(*ack_deadline);
  EXPECT_TRUE(server.poll_transmit(*ack_deadline, out));

  // Again, with a driver that does not ask for the deadline before handling a timeout: the
  // deadline that moved earlier (the idle one was filed last) must still be found due.
  now = *ack_deadline;
  ASSERT_GT(*server.poll_timeout(), now + std::chrono::seconds(1));
  c = client.connection(*handle);
  const auto third = c->open_stream();
  ASSERT_TRUE(third);
  ASSERT_EQ(*c->stream_write(*third, hello), hello.size());
  while (auto t = client.poll_transmit(now, out)) server.handle_datagram(now, kClient1, std::span(out).first(t->size));
  while (server.poll_event()) {
  }
  EXPECT_FALSE(server.poll_transmit(now, out));
  now += psk_config().max_ack_delay;
  server.handle_timeout(now);
  EXPECT_TRUE(server.poll_transmit(now, out));
}

// A client process that restarts on the same ip:port: a fresh Endpoint (new keys, new connection
// ids) behind the same simulated host.
class RestartingClient final : public sim::Node {
 public:
  RestartingClient(SocketAddress self, RandomSource& rng) : self_(self), rng_(rng) { restart(); }
  void restart() {
    node_.reset();
    node_.emplace(self_, EndpointConfig{}, rng_);
  }
  EndpointNode& current() { return *node_; }
  void handle_datagram(Instant now, const sim::Datagram& d) override { node_->handle_datagram(now, d); }
  std::optional<sim::Datagram> poll_transmit(Instant now) override { return node_->poll_transmit(now); }
  std::optional<Instant> poll_timeout() override { return node_->poll_timeout(); }
  void handle_timeout(Instant now) override { node_->handle_timeout(now); }

 private:
  SocketAddress self_;
  RandomSource& rng_;
  std::optional<EndpointNode> node_;
};

// The server's old connection with that address is closing, draining, half-open or still
// established: none of them may swallow the new Initiation, and the server forgets closed
// connections by itself.
TEST(Endpoint, ClientRestartingOnTheSameAddressConnectsAgainAtOnce) {
  enum class OldState { closed_by_client, established, mid_handshake };
  for (const auto old : {OldState::closed_by_client, OldState::established, OldState::mid_handshake}) {
    SCOPED_TRACE(static_cast<int>(old));
    sim::Network net(11);
    SeededRandom rng(11);
    EndpointNode server(kServer, server_config(), rng);
    RestartingClient client(kClient1, rng);
    net.add_host(server, kServer);
    auto& client_host = net.add_host(client, kClient1);
    sim::LinkConfig link;
    link.delay = std::chrono::milliseconds(10);
    client_host.set_access_link(link);
    ASSERT_TRUE(client.current().endpoint.connect(psk_config(), kServer, net.now()));
    if (old == OldState::mid_handshake) {
      // The server has accepted (message 2 sent) but the client dies before it confirms.
      ASSERT_TRUE(net.run_until([&] { return !server.accepted.empty(); }, std::chrono::seconds(2)));
    } else {
      ASSERT_TRUE(net.run_until([&] { return server.established.size() == 1 && !client.current().established.empty(); },
                                std::chrono::seconds(5)));
      if (old == OldState::closed_by_client) {
        client.current().endpoint.connection(1)->close(0, "bye");
        net.wake(client);
        ASSERT_TRUE(net.run_for(std::chrono::milliseconds(100)));  // the CLOSE arrives: server drains
        const auto state = server.endpoint.connection(server.accepted[0])->state();
        EXPECT_TRUE(state == ConnectionState::draining || state == ConnectionState::closed);
      }
    }
    client.restart();
    const Instant restarted = net.now();
    ASSERT_TRUE(client.current().endpoint.connect(psk_config(), kServer, net.now()));
    net.wake(client);
    ASSERT_TRUE(net.run_until([&] { return !client.current().established.empty(); }, std::chrono::seconds(5)))
        << net.describe();
    EXPECT_LT(net.now() - restarted, std::chrono::milliseconds(500));
    EXPECT_EQ(server.accepted.size(), 2u);

    // Closed connections leave the endpoint on their own (no remove_closed() call).
    client.current().endpoint.connection(1)->close(0, "bye");
    net.wake(client);
    ASSERT_TRUE(net.run_until([&] { return server.endpoint.connection_count() == 0 &&
                                           client.current().endpoint.connection_count() == 0; },
                              std::chrono::seconds(70)))
        << server.endpoint.connection_count() << " " << client.current().endpoint.connection_count();
  }
}

}  // namespace
}  // namespace srudp::transport
