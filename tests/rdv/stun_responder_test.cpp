// The STUN responders: XOR-MAPPED-ADDRESS on both ports, no reply larger than the request, the
// per-source rate limit, and Debian's RFC 3489 `stun` client getting a correct answer.
#include "rdv/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "rdv/test_server.hpp"
#include "rendezvous/stun_binding.hpp"

namespace srudp::test {
namespace {

using namespace std::chrono_literals;

class UdpClient {
 public:
  UdpClient() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    timeval tv{0, 300 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpClient() { ::close(fd_); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  SocketAddress local() const {
    sockaddr_in a{};
    socklen_t size = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &size);
    return SocketAddress::v4(ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));
  }
  void send_to(std::uint16_t port, std::span<const std::uint8_t> bytes) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  // A datagram within the receive timeout, or nullopt.
  std::optional<std::vector<std::uint8_t>> receive() {
    std::vector<std::uint8_t> buffer(2048);
    const auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }

 private:
  int fd_ = -1;
};

rdv::ServerConfig stun_config() {
  auto config = loopback_config();
  config.stun_ports = {0, 0};
  return config;
}

std::vector<std::uint8_t> binding_request(const rendezvous::StunTransactionId& id) {
  std::vector<std::uint8_t> request(rendezvous::kStunBindingRequestSize);
  EXPECT_TRUE(rendezvous::write_stun_binding_request(id, request));
  return request;
}

TEST(RdvStun, BindingOnBothPortsReturnsTheSourceAddress) {
  TestServer server(stun_config());
  const auto ports = server.server().stun_endpoints();
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_NE(ports[0].port(), ports[1].port());
  UdpClient client;
  for (const auto& port : ports) {
    const rendezvous::StunTransactionId id = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, static_cast<std::uint8_t>(port.port())};
    const auto request = binding_request(id);
    client.send_to(port.port(), request);
    const auto reply = client.receive();
    ASSERT_TRUE(reply) << "no reply on port " << port.port();
    EXPECT_LE(reply->size(), request.size());
    const auto mapped = rendezvous::read_stun_binding_response(*reply, id);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, client.local());
  }
}

TEST(RdvStun, NoReplyLargerThanTheRequest) {
  TestServer server(stun_config());
  const auto port = server.server().stun_endpoints()[0].port();
  UdpClient client;
  // A bare 20-byte Binding request: any reply would be larger.
  std::vector<std::uint8_t> bare = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  client.send_to(port, bare);
  EXPECT_FALSE(client.receive());
  // Junk is ignored, and the responder keeps answering afterwards.
  const std::vector<std::uint8_t> junk(100, 0xAB);
  client.send_to(port, junk);
  EXPECT_FALSE(client.receive());
  const rendezvous::StunTransactionId id{1};
  client.send_to(port, binding_request(id));
  EXPECT_TRUE(client.receive());
}

TEST(RdvStun, PerSourceRateLimit) {
  auto config = stun_config();
  config.stun_rate_per_source = {.per_second = 1, .burst = 3};
  TestServer server(config);
  const auto port = server.server().stun_endpoints()[0].port();
  UdpClient client;
  const rendezvous::StunTransactionId id{7};
  for (int i = 0; i < 10; ++i) client.send_to(port, binding_request(id));
  int replies = 0;
  while (client.receive()) ++replies;
  EXPECT_EQ(replies, 3);
}

// Debian's stun-client speaks RFC 3489: a 28-byte request that needs a 32-byte MAPPED-ADDRESS
// reply, which the server sends only with answer_rfc3489 (see stun_binding.hpp).
TEST(RdvStun, DebianStunClientGetsTheMappedAddress) {
  const std::string stun = SRUDP_STUN_CLIENT;
  if (stun.empty() || stun.ends_with("NOTFOUND") || !std::filesystem::exists(stun)) {
    GTEST_SKIP() << "Debian's stun client is not installed (scripts/deps installs stun-client)";
  }
  auto config = stun_config();
  config.stun_rules.answer_rfc3489 = true;
  TestServer server(config);
  const auto port = server.server().stun_endpoints()[1].port();
  // A fixed source port so the expected mapping is known; `timeout` bounds a client that hears nothing.
  const unsigned source_port = 20000 + static_cast<unsigned>(::getpid() % 20000);
  const std::string command = "timeout 5 " + stun + " 127.0.0.1:" + std::to_string(port) + " 1 -v -p " +
                              std::to_string(source_port) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 512> chunk{};
  while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr) output += chunk.data();
  ::pclose(pipe);
  EXPECT_NE(output.find("mappedAddr=127.0.0.1:" + std::to_string(source_port)), std::string::npos) << output;
}

}  // namespace
}  // namespace srudp::test
