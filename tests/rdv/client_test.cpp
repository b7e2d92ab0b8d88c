// rdv::Client against a real rdv server on loopback: two clients meet by token and get an srudp
// connection over the server's relay; the server's refusals arrive as errors.
#include "rdv/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>

#include "io/loopback.hpp"
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
  rdv::Client dialer(io.get_executor());
  rdv::Client acceptor(io.get_executor());
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
