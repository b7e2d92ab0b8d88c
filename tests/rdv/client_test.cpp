// rdv::Client against a real rdv server on loopback: two clients meet by token and get an srudp
// connection over the server's relay; the server's refusals arrive as errors.
#include "srudp/rdv_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "io/loopback.hpp"
#include "io/address_conversion.hpp"
#include "io/endpoint_core.hpp"
#include "rdv/test_server.hpp"
#include "rendezvous/token.hpp"

namespace srudp::test {
namespace {

std::string url_of(TestServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.endpoint().port());
}

std::string fresh_token() {
  SystemRandom random;
  return rendezvous::make_token(random);
}

TEST(RdvClient, PeersMeetByTokenAndTalkThroughTheRelay) {
  TestServer server;
  asio::io_context io;
  rdv::ClientOptions relay_only;
  relay_only.policy = rdv::PathPolicy::relay_only;
  rdv::Client dialer(io.get_executor(), relay_only);
  rdv::Client acceptor(io.get_executor(), relay_only);
  const std::string token = fresh_token();
  const auto to_acceptor = pattern(1 << 20, 1);
  const auto to_dialer = pattern(300'000, 2);
  // Named lambdas: a coroutine lambda's captures live in the lambda object, which must outlive it.
  auto accept_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await acceptor.async_accept(url_of(server), token, asio::use_awaitable);
    Stream s = co_await c.async_accept_stream(asio::use_awaitable);
    const auto [n, digest] = co_await read_to_end(s);
    EXPECT_EQ(n, to_acceptor.size());
    EXPECT_EQ(digest, Sha256::of(to_acceptor));
    co_await asio::async_write(s, asio::buffer(to_dialer), asio::use_awaitable);
    s.shutdown_send();
    co_await read_to_end(s);  // keeps the stream until the dialer has everything and finished
  };
  auto dial_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await dialer.async_dial(url_of(server), token, asio::use_awaitable);
    Stream s = co_await c.async_open_stream(asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(to_acceptor), asio::use_awaitable);
    s.shutdown_send();
    const auto [n, digest] = co_await read_to_end(s);
    EXPECT_EQ(n, to_dialer.size());
    EXPECT_EQ(digest, Sha256::of(to_dialer));
  };
  Tasks tasks(io);
  tasks.spawn(accept_side());
  tasks.spawn(dial_side());
  ASSERT_TRUE(tasks.run(20s));
  for (const rdv::Client* client : {&dialer, &acceptor}) {
    EXPECT_TRUE(client->path().relayed);
    EXPECT_EQ(client->path().address, "127.0.0.1:" + std::to_string(server.endpoint().port()));
  }
}

// A server with a STUN port, and clients that use it and offer loopback candidates.
struct PunchingSetup {
  TestServer server{[] {
    auto config = loopback_config();
    config.stun_ports = {0};
    return config;
  }()};
  rdv::ClientOptions options(rdv::PathPolicy policy) {
    rdv::ClientOptions o;
    o.policy = policy;
    o.stun_port = server.server().stun_endpoints().at(0).port();
    o.loopback_candidates = true;
    return o;
  }
};

// wait and direct-only: the handshake goes direct, the relay is released (OTHER).
TEST(RdvClient, DirectPoliciesHandshakeOnTheDirectPath) {
  for (const auto policy : {rdv::PathPolicy::wait, rdv::PathPolicy::direct_only}) {
    PunchingSetup setup;
    asio::io_context io;
    rdv::Client dialer(io.get_executor(), setup.options(policy));
    rdv::Client acceptor(io.get_executor(), setup.options(policy));
    const std::string token = fresh_token();
    Connection dialer_side, acceptor_side;
    boost::system::error_code dial_ec = asio::error::would_block, accept_ec = asio::error::would_block;
    acceptor.async_accept(url_of(setup.server), token, [&](auto ec, Connection c) {
      accept_ec = ec;
      acceptor_side = std::move(c);
    });
    dialer.async_dial(url_of(setup.server), token, [&](auto ec, Connection c) {
      dial_ec = ec;
      dialer_side = std::move(c);
    });
    ASSERT_TRUE(run_until(io, [&] { return dial_ec != asio::error::would_block && accept_ec != asio::error::would_block; }));
    ASSERT_FALSE(dial_ec) << dial_ec.message();
    ASSERT_FALSE(accept_ec) << accept_ec.message();
    EXPECT_FALSE(dialer.path().relayed);
    EXPECT_FALSE(acceptor.path().relayed);
    EXPECT_EQ(io::to_socket_address(dialer_side.remote_endpoint()).port, acceptor.endpoint()->local_endpoint().port());
  }
}

// fast: the relay first (direct paths are held back for 300 ms), then the connection moves to
// the direct path mid-transfer; a blackout of the direct path (100 ms later, still mid-transfer)
// sends it back to the relay, and it returns after the blackout. Every byte arrives, in order.
TEST(RdvClient, FastStartMovesToDirectAndFallsBackToTheRelayInABlackout) {
  PunchingSetup setup;
  asio::io_context io;
  rdv::Client dialer(io.get_executor(), setup.options(rdv::PathPolicy::fast));
  rdv::Client acceptor(io.get_executor(), setup.options(rdv::PathPolicy::fast));
  const std::string token = fresh_token();
  const auto data = pattern(64 << 20, 9);
  bool blackout = true;  // at first: no direct path yet
  std::vector<std::pair<bool, std::chrono::milliseconds>> dialer_paths;
  Connection keep_dialer, keep_acceptor;  // open until the script has seen it all
  const auto start = std::chrono::steady_clock::now();
  std::chrono::milliseconds transfer_done{};
  auto accept_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await acceptor.async_accept(url_of(setup.server), token, asio::use_awaitable);
    keep_acceptor = c;
    Stream s = co_await c.async_accept_stream(asio::use_awaitable);
    const auto [n, digest] = co_await read_to_end(s);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(digest, Sha256::of(data));
    s.shutdown_send();
  };
  auto dial_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await dialer.async_dial(url_of(setup.server), token, asio::use_awaitable);
    keep_dialer = c;
    EXPECT_TRUE(dialer.path().relayed);
    Stream s = co_await c.async_open_stream(asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(data), asio::use_awaitable);
    s.shutdown_send();
    co_await read_to_end(s);  // the acceptor's FIN: it has everything
    transfer_done = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  };
  // The script: direct allowed after 300 ms; 100 ms after the move, a 3 s blackout.
  auto script = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io);
    const auto wait = [&](std::chrono::milliseconds ms) {
      timer.expires_after(ms);
      return timer.async_wait(asio::use_awaitable);
    };
    const auto record = [&] {
      const bool relayed = dialer.path().relayed;
      if (dialer_paths.empty() || dialer_paths.back().first != relayed) {
        dialer_paths.emplace_back(relayed, std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - start));
      }
    };
    // The dialer's UDP to anything but the STUN port (the relay is TCP) goes into the black hole
    // whenever `blackout` holds: from before its first probe.
    while (!dialer.endpoint()) co_await wait(1ms);
    const std::uint16_t stun_port = setup.server.server().stun_endpoints().at(0).port();
    dialer.endpoint()->core()->set_send_filter([&, stun_port](const SocketAddress& to) {
      return !blackout || to.port == stun_port;
    });
    while (dialer.connection_count() == 0) co_await wait(10ms);
    for (int i = 0; i < 30; ++i, record()) co_await wait(10ms);
    blackout = false;
    for (int i = 0; i < 300 && dialer_paths.back().first; ++i, record()) co_await wait(10ms);
    for (int i = 0; i < 10; ++i, record()) co_await wait(10ms);
    blackout = true;
    for (int i = 0; i < 300; ++i, record()) co_await wait(10ms);
    blackout = false;
    for (int i = 0; i < 500 && dialer_paths.back().first; ++i, record()) co_await wait(10ms);
    keep_dialer = Connection();
    keep_acceptor = Connection();
  };
  Tasks tasks(io);
  tasks.spawn(script());
  tasks.spawn(accept_side());
  tasks.spawn(dial_side());
  ASSERT_TRUE(tasks.run(60s));
  std::string history;
  for (const auto& [relayed, at] : dialer_paths) history += (relayed ? "relay@" : "direct@") + std::to_string(at.count()) + "ms ";
  SCOPED_TRACE(history);
  std::printf("dialer's path: %s; 64 MiB delivered at %lld ms\n", history.c_str(),
              static_cast<long long>(transfer_done.count()));
  // relay, then direct, then relay (the blackout), then direct again.
  ASSERT_GE(dialer_paths.size(), 4u);
  EXPECT_TRUE(dialer_paths[0].first);
  EXPECT_FALSE(dialer_paths[1].first);
  EXPECT_LT(dialer_paths[1].second, transfer_done) << "the move to direct should happen mid-transfer";
  EXPECT_TRUE(dialer_paths[2].first);
  EXPECT_FALSE(dialer_paths[3].first);
  EXPECT_LT(dialer_paths[2].second, transfer_done) << "the fallback should happen mid-transfer";
}

// IPv6: the server on [::1] (the rendezvous, the STUN answer and the relay over IPv6), and a
// direct path from the candidates it hands out.
TEST(RdvClient, WorksOverIpv6) {
  for (const auto policy : {rdv::PathPolicy::relay_only, rdv::PathPolicy::direct_only}) {
    auto config = loopback_config();
    config.listen = {asio::ip::make_address("::1"), 0};
    config.stun_ports = {0};
    TestServer server(config);
    rdv::ClientOptions options;
    options.policy = policy;
    options.stun_port = server.server().stun_endpoints().at(0).port();
    options.loopback_candidates = true;
    asio::io_context io;
    rdv::Client dialer(io.get_executor(), options), acceptor(io.get_executor(), options);
    const std::string url = "http://[::1]:" + std::to_string(server.endpoint().port());
    const std::string token = fresh_token();
    const auto data = pattern(200'000, 6);
    auto accept_side = [&]() -> asio::awaitable<void> {
      Connection c = co_await acceptor.async_accept(url, token, asio::use_awaitable);
      Stream s = co_await c.async_accept_stream(asio::use_awaitable);
      const auto [n, digest] = co_await read_to_end(s);
      EXPECT_EQ(digest, Sha256::of(data));
      s.shutdown_send();
    };
    auto dial_side = [&]() -> asio::awaitable<void> {
      Connection c = co_await dialer.async_dial(url, token, asio::use_awaitable);
      EXPECT_EQ(dialer.path().relayed, policy == rdv::PathPolicy::relay_only);
      Stream s = co_await c.async_open_stream(asio::use_awaitable);
      co_await asio::async_write(s, asio::buffer(data), asio::use_awaitable);
      s.shutdown_send();
      co_await read_to_end(s);
    };
    Tasks tasks(io);
    tasks.spawn(accept_side());
    tasks.spawn(dial_side());
    ASSERT_TRUE(tasks.run(20s));
    EXPECT_EQ(dialer.path().relayed, policy == rdv::PathPolicy::relay_only);
    if (policy == rdv::PathPolicy::relay_only) {
      EXPECT_EQ(dialer.path().address, "[::1]:" + std::to_string(server.endpoint().port()));
    }
  }
}

// UDP blocked entirely (both ways, from the start): punching finds nothing, the connection stays
// on the relay over TCP and carries everything.
TEST(RdvClient, UdpBlockedEntirelyStaysOnTheRelay) {
  PunchingSetup setup;
  asio::io_context io;
  rdv::Client dialer(io.get_executor(), setup.options(rdv::PathPolicy::fast));
  rdv::Client acceptor(io.get_executor(), setup.options(rdv::PathPolicy::fast));
  const std::string token = fresh_token();
  const auto data = pattern(4 << 20, 4);
  bool dialer_relayed_throughout = true;
  auto block_udp = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io);
    while (!dialer.endpoint() || !acceptor.endpoint()) {
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    for (rdv::Client* c : {&dialer, &acceptor}) c->endpoint()->core()->set_send_filter([](const SocketAddress&) { return false; });
  };
  auto accept_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await acceptor.async_accept(url_of(setup.server), token, asio::use_awaitable);
    Stream s = co_await c.async_accept_stream(asio::use_awaitable);
    const auto [n, digest] = co_await read_to_end(s);
    EXPECT_EQ(digest, Sha256::of(data));
    s.shutdown_send();
  };
  auto dial_side = [&]() -> asio::awaitable<void> {
    Connection c = co_await dialer.async_dial(url_of(setup.server), token, asio::use_awaitable);
    Stream s = co_await c.async_open_stream(asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(data), asio::use_awaitable);
    s.shutdown_send();
    dialer_relayed_throughout = dialer_relayed_throughout && dialer.path().relayed;
    co_await read_to_end(s);
    dialer_relayed_throughout = dialer_relayed_throughout && dialer.path().relayed;
  };
  Tasks tasks(io);
  tasks.spawn(block_udp());
  tasks.spawn(accept_side());
  tasks.spawn(dial_side());
  ASSERT_TRUE(tasks.run(30s));
  EXPECT_TRUE(dialer_relayed_throughout);
}

// What the server says, as the error the application sees.
TEST(RdvClient, ServerRefusalsBecomeErrors) {
  auto config = loopback_config();
  config.lobby.timeout = 300ms;
  TestServer server(config);
  asio::io_context io;

  rdv::Client alone(io.get_executor());
  boost::system::error_code alone_ec;
  alone.async_dial(url_of(server), fresh_token(), [&](auto ec, Connection) { alone_ec = ec; });

  // A second dialer with the same token replaces the first (409); the second then times out (408).
  const std::string token = fresh_token();
  rdv::Client first(io.get_executor()), second(io.get_executor());
  boost::system::error_code first_ec, second_ec;
  first.async_dial(url_of(server), token, [&](auto ec, Connection) { first_ec = ec; });
  run_until(io, [] { return false; }, 100ms);
  second.async_dial(url_of(server), token, [&](auto ec, Connection) { second_ec = ec; });

  ASSERT_TRUE(run_until(io, [&] { return alone_ec && first_ec && second_ec; }, 10s));
  EXPECT_EQ(alone_ec, make_error_code(errc::no_peer_found)) << alone_ec.message();
  EXPECT_EQ(first_ec, make_error_code(errc::replaced_by_newer_peer)) << first_ec.message();
  EXPECT_EQ(second_ec, make_error_code(errc::no_peer_found)) << second_ec.message();

  rdv::Client bad(io.get_executor());
  boost::system::error_code bad_ec;
  bad.async_dial("http://127.0.0.1:1/x", "", [&](auto ec, Connection) { bad_ec = ec; });
  ASSERT_TRUE(run_until(io, [&] { return bool(bad_ec); }, 5s));
  EXPECT_EQ(bad_ec, make_error_code(errc::invalid_argument));  // the empty token
}

TEST(RdvClient, CloseEndsAWaitInTheLobby) {
  TestServer server;
  asio::io_context io;
  rdv::Client client(io.get_executor());
  boost::system::error_code result;
  bool done = false;
  client.async_dial(url_of(server), fresh_token(), [&](auto ec, Connection) {
    result = ec;
    done = true;
  });
  run_until(io, [] { return false; }, 200ms);
  EXPECT_FALSE(done);
  client.close();
  ASSERT_TRUE(run_until(io, [&] { return done; }, 2s));
  EXPECT_TRUE(result);
}

}  // namespace
}  // namespace srudp::test
