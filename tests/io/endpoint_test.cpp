#include "srudp/endpoint.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "io/loopback.hpp"

namespace srudp::test {
namespace {

TEST(Endpoint, ConnectsAndAcceptsOnIpv4Loopback) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  EXPECT_EQ(pair.client_side.remote_endpoint(), pair.server.local_endpoint());
  EXPECT_EQ(pair.server_side.remote_endpoint(), pair.client.local_endpoint());
  EXPECT_EQ(pair.client_side.id().size(), 16u);
  EXPECT_NE(pair.client_side.id(), pair.server_side.id());
  EXPECT_FALSE(pair.client_side.peer_identity());  // PSK only
  EXPECT_GT(pair.client_side.stats().packets_received, 0u);
  // Two default peers on one machine: AES-256-GCM exactly when this CPU has hardware AES.
  const std::string_view expected_aead =
      crypto::aead_available(crypto::AeadAlgorithm::aes256_gcm) ? "AES-256-GCM" : "ChaCha20-Poly1305";
  EXPECT_EQ(pair.client_side.stats().packet_aead, expected_aead);
  EXPECT_EQ(pair.server_side.stats().packet_aead, expected_aead);
}

TEST(Endpoint, ConnectsOnIpv6Loopback) {
  asio::io_context probe_io;
  boost::system::error_code probe_ec;
  Endpoint probe(probe_io.get_executor(), udp::endpoint(asio::ip::make_address("::1"), 0), {}, probe_ec);
  if (probe_ec) GTEST_SKIP() << "no IPv6 loopback here: " << probe_ec.message();

  LoopbackPair pair("::1");
  ASSERT_TRUE(pair.connected);
  EXPECT_TRUE(pair.client_side.remote_endpoint().address().is_v6());
  EXPECT_EQ(pair.client_side.remote_endpoint(), pair.server.local_endpoint());
}

TEST(Endpoint, DualStackClientReachesIpv4Server) {
  asio::io_context io;
  Endpoint server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = psk_options()});
  boost::system::error_code dual_ec;
  Endpoint client(io.get_executor(), udp::endpoint(udp::v6(), 0), {}, dual_ec);
  if (dual_ec) GTEST_SKIP() << "no IPv6 sockets here: " << dual_ec.message();
  boost::system::error_code ec = asio::error::would_block;
  Connection connection;
  client.async_connect(server.local_endpoint(), psk_options(), [&](auto e, Connection c) {
    ec = e;
    connection = std::move(c);
  });
  Connection accepted;
  server.async_accept([&](auto, Connection c) { accepted = std::move(c); });
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block && accepted.is_open(); }));
  ASSERT_FALSE(ec) << ec.message();
  // Reported as plain IPv4, not ::ffff:127.0.0.1.
  EXPECT_EQ(connection.remote_endpoint(), server.local_endpoint());
}

TEST(Endpoint, WrongPskFailsTheConnectWithHandshakeTimeout) {
  asio::io_context io;
  Endpoint server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = psk_options()});
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ConnectionOptions wrong = psk_options();
  (*wrong.psk)[0] ^= 1;
  wrong.handshake_timeout = 1500ms;
  boost::system::error_code ec = asio::error::would_block;
  client.async_connect(server.local_endpoint(), wrong, [&](auto e, Connection c) {
    ec = e;
    EXPECT_FALSE(c.is_open());
  });
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block; }, 10s));
  EXPECT_EQ(ec, std::error_code(errc::handshake_timeout)) << ec.message();
}

TEST(Endpoint, PinnedIdentityKeysAuthenticateBothSides) {
  const Key client_secret = random_key(), server_secret = random_key();
  ConnectionOptions client_options, server_options;
  client_options.identity_secret = client_secret;
  client_options.pinned_peer = public_key_of(server_secret);
  server_options.identity_secret = server_secret;
  server_options.pinned_peer = public_key_of(client_secret);

  LoopbackPair pair("127.0.0.1", client_options, server_options);
  ASSERT_TRUE(pair.connected);
  ASSERT_TRUE(pair.client_side.peer_identity());
  EXPECT_EQ(*pair.client_side.peer_identity(), public_key_of(server_secret));
  ASSERT_TRUE(pair.server_side.peer_identity());
  EXPECT_EQ(*pair.server_side.peer_identity(), public_key_of(client_secret));
}

TEST(Endpoint, PinnedKeyMismatchFailsTheConnect) {
  asio::io_context io;
  ConnectionOptions server_options;
  server_options.identity_secret = random_key();
  Endpoint server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = server_options});
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ConnectionOptions client_options;
  client_options.identity_secret = random_key();
  client_options.pinned_peer = public_key_of(random_key());  // not the server's
  client_options.handshake_timeout = 3s;
  boost::system::error_code ec = asio::error::would_block;
  client.async_connect(server.local_endpoint(), client_options, [&](auto e, Connection) { ec = e; });
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block; }));
  EXPECT_EQ(ec, std::error_code(errc::peer_key_mismatch)) << ec.message();
}

TEST(Endpoint, OptionsWithoutKeysAreRefused) {
  asio::io_context io;
  boost::system::error_code ec;
  Endpoint server(io.get_executor(), udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = ConnectionOptions{}}, ec);
  EXPECT_EQ(ec, std::error_code(errc::invalid_argument));
  EXPECT_FALSE(server.is_open());

  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ec = asio::error::would_block;
  client.async_connect(udp::endpoint(asio::ip::make_address("127.0.0.1"), 9), ConnectionOptions{},
                       [&](auto e, Connection) { ec = e; });
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block; }));
  EXPECT_EQ(ec, std::error_code(errc::invalid_argument));
}

TEST(Endpoint, AcceptOnAClientEndpointIsNotSupported) {
  asio::io_context io;
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  boost::system::error_code ec = asio::error::would_block;
  client.async_accept([&](auto e, Connection) { ec = e; });
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block; }));
  EXPECT_EQ(ec, asio::error::operation_not_supported);
}

TEST(Endpoint, CancelledConnectCompletesWithOperationAborted) {
  asio::io_context io;
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // Nobody listens on this socket's port: the handshake would wait for its timeout.
  asio::ip::udp::socket silent(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::cancellation_signal cancel;
  boost::system::error_code ec = asio::error::would_block;
  client.async_connect(silent.local_endpoint(), psk_options(),
                       asio::bind_cancellation_slot(cancel.slot(), [&](auto e, Connection) { ec = e; }));
  run_until(io, [] { return false; }, 100ms);
  EXPECT_EQ(ec, asio::error::would_block);
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return ec != asio::error::would_block; }, 2s));
  EXPECT_EQ(ec, asio::error::operation_aborted);
}

TEST(Endpoint, CloseFailsPendingOperationsHereAndClosesConnectionsAtThePeer) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  boost::system::error_code accept_ec = asio::error::would_block, peer_ec = asio::error::would_block,
                            stream_ec = asio::error::would_block;
  pair.server.async_accept([&](auto e, Connection) { accept_ec = e; });
  pair.server_side.async_accept_stream([&](auto e, Stream) { stream_ec = e; });
  pair.client_side.async_accept_stream([&](auto e, Stream) { peer_ec = e; });
  run_until(pair.io, [] { return false; }, 50ms);
  pair.server.close();
  EXPECT_FALSE(pair.server.is_open());
  ASSERT_TRUE(run_until(pair.io, [&] { return peer_ec != asio::error::would_block; }, 5s));
  EXPECT_EQ(accept_ec, asio::error::operation_aborted);
  EXPECT_EQ(stream_ec, std::error_code(errc::connection_closed));
  EXPECT_EQ(peer_ec, std::error_code(errc::connection_closed));  // the CLOSE arrived
  EXPECT_FALSE(pair.client_side.is_open());
}

TEST(Endpoint, ManyConnectionsShareOneSocket) {
  asio::io_context io;
  Endpoint server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = psk_options()});
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  constexpr std::size_t kConnections = 20;
  std::vector<Connection> connected, accepted;
  // One after the other: transport::Endpoint routes an Initiation by its source address to a
  // connection still handshaking from there, so simultaneous handshakes from one socket to one
  // server wait for retransmissions (reported; the core's to fix).
  std::function<void()> connect_next = [&] {
    client.async_connect(server.local_endpoint(), psk_options(), [&](auto ec, Connection c) {
      EXPECT_FALSE(ec) << ec.message();
      connected.push_back(std::move(c));
      if (connected.size() < kConnections) connect_next();
    });
  };
  connect_next();
  std::function<void()> accept_next = [&] {
    server.async_accept([&](auto ec, Connection c) {
      EXPECT_FALSE(ec) << ec.message();
      accepted.push_back(std::move(c));
      if (accepted.size() < kConnections) accept_next();
    });
  };
  accept_next();
  ASSERT_TRUE(run_until(io, [&] { return connected.size() == kConnections && accepted.size() == kConnections; }));
  std::set<std::string> ids;
  for (const auto& c : accepted) ids.insert(c.id());
  EXPECT_EQ(ids.size(), kConnections);
  for (const auto& c : connected) EXPECT_TRUE(c.is_open());
}

TEST(Endpoint, SimulatedLossDropsSentDatagramsAndStreamsStillDeliverEverything) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  pair.client.set_simulated_loss(0.2);
  Tasks tasks(pair.io);
  const std::vector<std::uint8_t> data = pattern(500'000, 3);
  const auto send = [&]() -> asio::awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(asio::use_awaitable);
    co_await asio::async_write(stream, asio::buffer(data), asio::use_awaitable);
    stream.shutdown_send();
  };
  const auto receive = [&]() -> asio::awaitable<void> {
    Stream stream = co_await pair.server_side.async_accept_stream(asio::use_awaitable);
    auto [size, hash] = co_await read_to_end(stream);
    if (size != data.size() || hash != Sha256::of(data)) throw std::runtime_error("data damaged");
  };
  tasks.spawn(send());
  tasks.spawn(receive());
  ASSERT_TRUE(tasks.run(30s));
  const ConnectionStats lossy = pair.client_side.stats();
  EXPECT_GT(lossy.packets_lost, lossy.packets_sent / 20);  // about a fifth (some lost ones are ACK-only)
  EXPECT_GT(lossy.bytes_retransmitted, 0u);

  pair.client.set_simulated_loss(0);  // off again: a second transfer loses nothing
  tasks.spawn(send());
  tasks.spawn(receive());
  ASSERT_TRUE(tasks.run(30s));
  const ConnectionStats clean = pair.client_side.stats();
  EXPECT_EQ(clean.bytes_retransmitted, lossy.bytes_retransmitted);
}

}  // namespace
}  // namespace srudp::test
