// rdv/1 conformance over raw HTTP: pairing and the 101, every error status, the lobby rules and
// the request limits.
#include "rdv/server.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "rdv/rdv_request_builder.hpp"
#include "rdv/raw_http_client.hpp"
#include "rdv/test_server.hpp"

namespace srudp::test {
namespace {

using namespace std::chrono_literals;

// One request on a new connection; the response head (empty if none came).
std::string ask(TestServer& server, const std::string& request) {
  RawHttpClient client(server.endpoint());
  client.send(request);
  return client.read_head();
}

TEST(RdvServer, PairsDialAndAcceptWithCandidates) {
  TestServer server;
  RawHttpClient dialer(server.endpoint());
  RawHttpClient acceptor(server.endpoint());
  ASSERT_TRUE(dialer.send(rdv_request("DIAL", "/tok", "192.168.1.16:39841, [2001:db8::5]:39841")));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(acceptor.send(rdv_request("ACCEPT", "/tok", "10.0.0.2:5")));

  const auto dialer_head = dialer.read_head();
  const auto acceptor_head = acceptor.read_head();
  ASSERT_EQ(status_of(dialer_head), 101) << dialer_head;
  ASSERT_EQ(status_of(acceptor_head), 101) << acceptor_head;
  for (const auto& head : {dialer_head, acceptor_head}) {
    EXPECT_EQ(header_of(head, "Connection"), "upgrade");
    EXPECT_EQ(header_of(head, "Upgrade"), "rdv/1");
  }
  // Each learns the other's self-reported addresses plus the observed one, sorted (IPv4 first).
  EXPECT_EQ(header_of(dialer_head, "Rdv-Peer-Addrs"), "10.0.0.2:5, " + acceptor.local_address());
  EXPECT_EQ(header_of(acceptor_head, "Rdv-Peer-Addrs"),
            dialer.local_address() + ", 192.168.1.16:39841, [2001:db8::5]:39841");
  EXPECT_EQ(header_of(dialer_head, "Rdv-Observed-Addr"), dialer.local_address());
  EXPECT_EQ(header_of(acceptor_head, "Rdv-Observed-Addr"), acceptor.local_address());
}

TEST(RdvServer, AcceptFirstAndTokenFromOldHeader) {
  TestServer server;
  RawHttpClient acceptor(server.endpoint());
  RawHttpClient dialer(server.endpoint());
  acceptor.send(rdv_request("ACCEPT", "/", "", "Rdv-Token: legacy\r\n"));
  std::this_thread::sleep_for(50ms);
  dialer.send(rdv_request("DIAL", "/legacy"));
  EXPECT_EQ(status_of(acceptor.read_head()), 101);
  EXPECT_EQ(status_of(dialer.read_head()), 101);
}

TEST(RdvServer, WrongUpgradeOrVersionAnswers426) {
  TestServer server;
  const std::string no_upgrade = "DIAL /tok HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string wrong_protocol = "DIAL /tok HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
  const std::string http10 = "DIAL /tok HTTP/1.0\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: rdv/1\r\n\r\n";
  for (const auto& request : {no_upgrade, wrong_protocol, http10}) {
    const auto head = ask(server, request);
    EXPECT_EQ(status_of(head), 426) << request;
    EXPECT_EQ(header_of(head, "Upgrade"), "rdv/1");
    EXPECT_EQ(header_of(head, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(header_of(head, "X-Content-Type-Options"), "nosniff");
  }
}

TEST(RdvServer, BadRequestsAnswer400WithAReason) {
  TestServer server;
  std::string ten;
  for (int i = 1; i <= 10; ++i) ten += (i > 1 ? ", " : "") + std::string("10.0.0.9:") + std::to_string(i);
  const struct {
    std::string request;
    std::string reason;
  } cases[] = {
      {rdv_request("PUT", "/tok"), "bad method: expected DIAL or ACCEPT"},
      {rdv_request("DIAL", "/"), "bad token"},
      {rdv_request("DIAL", "/a%zz"), "bad token encoding"},
      {rdv_request("DIAL", "/tok", "192.168.1.16"), "bad address in Rdv-Self-Addrs"},
      {rdv_request("DIAL", "/tok", ten), "too many addresses in Rdv-Self-Addrs"},
      {rdv_request("DIAL", "/tok", "", "Content-Length: 3\r\n"), "unexpected request body"},
      {"NOT AN HTTP REQUEST\r\n\r\n", "malformed request"},
      {"DIAL /tok HTTP/1.1\r\nBad Header\r\n\r\n", "malformed request"},
  };
  for (const auto& c : cases) {
    RawHttpClient client(server.endpoint());
    client.send(c.request);
    const auto response = client.read_to_end();
    ASSERT_TRUE(response) << c.request;
    EXPECT_EQ(status_of(*response), 400) << c.request;
    EXPECT_TRUE(response->ends_with("\r\n\r\n" + c.reason + "\n")) << c.request << " -> " << *response;
  }
}

TEST(RdvServer, DataSentWhileInLobbyAnswers400) {
  TestServer server;
  // In the same segment as the request head.
  RawHttpClient eager(server.endpoint());
  eager.send(rdv_request("DIAL", "/tok") + "CONTINUE\n");
  auto response = eager.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 400);
  EXPECT_TRUE(response->ends_with("data sent while in lobby\n"));
  // Later, while waiting.
  RawHttpClient impatient(server.endpoint());
  impatient.send(rdv_request("DIAL", "/tok2"));
  std::this_thread::sleep_for(100ms);
  impatient.send("hello?");
  response = impatient.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 400);
  EXPECT_TRUE(response->ends_with("data sent while in lobby\n"));
  // Neither is left in the lobby.
  RawHttpClient metrics(server.endpoint());
  metrics.send("GET /metrics HTTP/1.1\r\n\r\n");
  const auto text = metrics.read_to_end();
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("\nrdv_lobby_waiting 0\n"), std::string::npos);
}

TEST(RdvServer, ThirdJoinerReplacesTheOlderSameMethod) {
  TestServer server;
  RawHttpClient first(server.endpoint());
  RawHttpClient second(server.endpoint());
  RawHttpClient acceptor(server.endpoint());
  first.send(rdv_request("DIAL", "/tok"));
  std::this_thread::sleep_for(50ms);
  second.send(rdv_request("DIAL", "/tok"));
  const auto replaced = first.read_to_end();
  ASSERT_TRUE(replaced);
  EXPECT_EQ(status_of(*replaced), 409);
  EXPECT_TRUE(replaced->ends_with("replaced by another conn\n"));
  acceptor.send(rdv_request("ACCEPT", "/tok"));
  EXPECT_EQ(status_of(second.read_head()), 101);
  EXPECT_EQ(status_of(acceptor.read_head()), 101);
}

TEST(RdvServer, LobbyTimeoutAnswers408) {
  auto config = loopback_config();
  config.lobby.timeout = 300ms;
  TestServer server(config);
  RawHttpClient lonely(server.endpoint());
  lonely.send(rdv_request("ACCEPT", "/nobody"));
  const auto start = std::chrono::steady_clock::now();
  const auto response = lonely.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 408);
  EXPECT_TRUE(response->ends_with("no matching peer found\n"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);  // not before the timeout
}

TEST(RdvServer, LobbyCapsAnswer503) {
  auto config = loopback_config();
  config.lobby.max_waiting_per_source = 2;
  TestServer server(config);
  RawHttpClient a(server.endpoint());
  RawHttpClient b(server.endpoint());
  a.send(rdv_request("DIAL", "/1"));
  b.send(rdv_request("DIAL", "/2"));
  std::this_thread::sleep_for(100ms);
  const auto head = ask(server, rdv_request("DIAL", "/3"));
  EXPECT_EQ(status_of(head), 503);
  // Pairing needs no room in the lobby.
  EXPECT_EQ(status_of(ask(server, rdv_request("ACCEPT", "/1"))), 101);

  auto total = loopback_config();
  total.lobby.max_waiting = 1;
  TestServer small(total);
  RawHttpClient c(small.endpoint());
  c.send(rdv_request("DIAL", "/1"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status_of(ask(small, rdv_request("ACCEPT", "/2"))), 503);
}

TEST(RdvServer, ConnectionCapClosesAtOnce) {
  auto config = loopback_config();
  config.max_connections_per_source = 2;
  TestServer server(config);
  RawHttpClient a(server.endpoint());
  RawHttpClient b(server.endpoint());
  a.send("DIAL /slow");  // incomplete heads keep both connections open
  b.send("DIAL /slow");
  std::this_thread::sleep_for(100ms);
  RawHttpClient c(server.endpoint());
  const auto response = c.read_to_end();
  ASSERT_TRUE(response);  // closed without waiting for a request
  EXPECT_EQ(*response, "");
}

TEST(RdvServer, AtTheConnectionCapANewcomerEvictsTheSlowestHead) {
  auto config = loopback_config();
  config.max_connections = 3;
  config.evict_heads_older_than = 1s;
  TestServer server(config);
  RawHttpClient oldest(server.endpoint());
  oldest.send("DIAL /slow");  // an incomplete head keeps the connection reading
  std::this_thread::sleep_for(1200ms);
  RawHttpClient b(server.endpoint());
  RawHttpClient c(server.endpoint());
  b.send("DIAL /slow");
  c.send("DIAL /slow");
  std::this_thread::sleep_for(50ms);
  // Full, and the oldest head has taken over a second: it goes, and the newcomer is served.
  EXPECT_EQ(status_of(ask(server, rdv_request("PUT", "/tok"))), 400);
  oldest.set_timeout(2s);
  EXPECT_EQ(oldest.read_to_end(), std::optional<std::string>(""));  // closed without an answer
  std::this_thread::sleep_for(100ms);  // the PUT's connection has ended and freed its slot
  RawHttpClient filler(server.endpoint());
  filler.send("DIAL /slow");
  std::this_thread::sleep_for(50ms);
  // Full again, and every head is younger than a second: nobody to evict, the newcomer is refused.
  RawHttpClient refused(server.endpoint());
  EXPECT_EQ(refused.read_to_end(), std::optional<std::string>(""));
  b.set_timeout(200ms);
  EXPECT_EQ(b.read_to_end(), std::nullopt);  // still open: its read timed out
}

TEST(RdvServer, MountedOnASubPath) {
  auto config = loopback_config();
  config.mount = "/rdv";
  TestServer server(config);
  RawHttpClient dialer(server.endpoint());
  RawHttpClient acceptor(server.endpoint());
  dialer.send(rdv_request("DIAL", "/rdv/tok"));
  acceptor.send(rdv_request("ACCEPT", "/rdv/tok"));
  EXPECT_EQ(status_of(dialer.read_head()), 101);
  EXPECT_EQ(status_of(acceptor.read_head()), 101);
  EXPECT_EQ(status_of(ask(server, rdv_request("DIAL", "/tok"))), 404);
  EXPECT_EQ(status_of(ask(server, rdv_request("DIAL", "/rdvtok"))), 404);
}

TEST(RdvServer, OversizedHeaderAnswers400) {
  auto config = loopback_config();
  config.max_header_bytes = 2048;
  TestServer server(config);
  RawHttpClient client(server.endpoint());
  client.send(rdv_request("DIAL", "/tok", "", "X-Padding: " + std::string(4096, 'a') + "\r\n"));
  const auto response = client.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 400);
  EXPECT_TRUE(response->ends_with("request header too large\n"));
  // Just under the limit is fine.
  RawHttpClient fits(server.endpoint());
  RawHttpClient peer(server.endpoint());
  fits.send(rdv_request("DIAL", "/ok", "", "X-Padding: " + std::string(1500, 'a') + "\r\n"));
  peer.send(rdv_request("ACCEPT", "/ok"));
  EXPECT_EQ(status_of(fits.read_head()), 101);
}

TEST(RdvServer, SlowHeaderAnswers408) {
  auto config = loopback_config();
  config.header_timeout = 300ms;
  TestServer server(config);
  RawHttpClient slowloris(server.endpoint());
  slowloris.send("DIAL /tok HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(100ms);
  slowloris.send("X-A: 1\r\n");  // trickling bytes does not extend the deadline
  const auto response = slowloris.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 408);
  // A silent connection is closed the same way.
  RawHttpClient silent(server.endpoint());
  const auto nothing = silent.read_to_end();
  ASSERT_TRUE(nothing);
  EXPECT_EQ(status_of(*nothing), 408);
}

TEST(RdvServer, ShutdownAnswers503AndRefusesNewcomers) {
  TestServer server;
  RawHttpClient waiting(server.endpoint());
  RawHttpClient reading(server.endpoint());
  waiting.send(rdv_request("DIAL", "/tok"));
  reading.send("ACCEPT /other HTTP/1.1\r\n");  // still sending its head
  std::this_thread::sleep_for(100ms);
  server.server().stop();
  for (auto* client : {&waiting, &reading}) {
    const auto response = client->read_to_end();
    ASSERT_TRUE(response);
    EXPECT_EQ(status_of(*response), 503);
    EXPECT_TRUE(response->ends_with("server shutting down\n"));
  }
  EXPECT_TRUE(server.finished_within(5s));
  RawHttpClient late(server.endpoint());
  EXPECT_FALSE(late.connected());
}

TEST(RdvServer, IPv6Loopback) {
  auto config = loopback_config();
  config.listen = {boost::asio::ip::make_address("::1"), 0};
  std::unique_ptr<TestServer> server;
  try {
    server = std::make_unique<TestServer>(config);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  RawHttpClient dialer(server->endpoint());
  RawHttpClient acceptor(server->endpoint());
  dialer.send(rdv_request("DIAL", "/v6", "[2001:db8::1]:9"));
  acceptor.send(rdv_request("ACCEPT", "/v6"));
  const auto head = acceptor.read_head();
  ASSERT_EQ(status_of(head), 101);
  EXPECT_EQ(header_of(head, "Rdv-Observed-Addr"), acceptor.local_address());
  EXPECT_EQ(header_of(head, "Rdv-Peer-Addrs"), dialer.local_address() + ", [2001:db8::1]:9");
}

}  // namespace
}  // namespace srudp::test
