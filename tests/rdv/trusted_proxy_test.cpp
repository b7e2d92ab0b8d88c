// Where Rdv-Observed-Addr comes from: the TCP peer, or a trusted proxy's PROXY line or
// X-Forwarded-For / X-Forwarded-Port, never an untrusted client's claims.
#include "rdv/server.hpp"

#include <gtest/gtest.h>

#include "rdv/raw_http_client.hpp"
#include "rdv/rdv_request_builder.hpp"
#include "rdv/test_server.hpp"

namespace srudp::test {
namespace {

const std::string kForwarded = "X-Forwarded-For: 203.0.113.50, 198.51.100.9\r\nX-Forwarded-Port: 39841\r\n";

// The acceptor's view of a dialer that sent `prefix` + its request with `headers`.
struct Views {
  std::string dialer_observed;
  std::string acceptor_peers;
  std::string dialer_local;
};

Views pair_with(TestServer& server, const std::string& prefix, const std::string& headers) {
  RawHttpClient dialer(server.endpoint());
  RawHttpClient acceptor(server.endpoint());
  dialer.send(prefix + rdv_request("DIAL", "/tok", "", headers));
  acceptor.send(rdv_request("ACCEPT", "/tok"));
  const auto dialer_head = dialer.read_head();
  const auto acceptor_head = acceptor.read_head();
  EXPECT_EQ(status_of(dialer_head), 101) << dialer_head;
  return {header_of(dialer_head, "Rdv-Observed-Addr").value_or("(none)"),
          header_of(acceptor_head, "Rdv-Peer-Addrs").value_or("(none)"), dialer.local_address()};
}

rdv::ServerConfig trusting_loopback() {
  auto config = loopback_config();
  config.trusted_proxies = {*rendezvous::IpPrefix::parse("127.0.0.0/8")};
  return config;
}

TEST(RdvTrustedProxy, ForwardedHeadersFromATrustedProxy) {
  TestServer server(trusting_loopback());
  const auto v = pair_with(server, "", kForwarded);
  EXPECT_EQ(v.dialer_observed, "198.51.100.9:39841");
  EXPECT_EQ(v.acceptor_peers, "198.51.100.9:39841");
}

TEST(RdvTrustedProxy, ProxyProtocolFromATrustedProxy) {
  TestServer server(trusting_loopback());
  const auto v = pair_with(server, "PROXY TCP4 203.0.113.5 127.0.0.1 4444 80\r\n", "");
  EXPECT_EQ(v.dialer_observed, "203.0.113.5:4444");
  EXPECT_EQ(v.acceptor_peers, "203.0.113.5:4444");
  // A trusted proxy that says nothing: no observed address rather than the proxy's own.
  const auto silent = pair_with(server, "", "");
  EXPECT_EQ(silent.dialer_observed, "(none)");
  EXPECT_EQ(silent.acceptor_peers, "");
}

TEST(RdvTrustedProxy, UntrustedClaimsAreIgnored) {
  TestServer server;  // trusts nobody
  const auto v = pair_with(server, "", kForwarded);
  EXPECT_EQ(v.dialer_observed, v.dialer_local);
  EXPECT_EQ(v.acceptor_peers, v.dialer_local);
  // A PROXY line from an untrusted peer is just a malformed request.
  RawHttpClient client(server.endpoint());
  client.send("PROXY TCP4 203.0.113.5 127.0.0.1 4444 80\r\n" + rdv_request("DIAL", "/tok"));
  const auto response = client.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 400);
}

TEST(RdvTrustedProxy, MalformedProxyLineFromATrustedProxy) {
  TestServer server(trusting_loopback());
  RawHttpClient client(server.endpoint());
  client.send("PROXY TCP4 nonsense\r\n" + rdv_request("DIAL", "/tok"));
  const auto response = client.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 400);
  EXPECT_TRUE(response->ends_with("malformed PROXY line\n"));
}

}  // namespace
}  // namespace srudp::test
