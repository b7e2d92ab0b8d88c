// Fuzzes the responder side of the srudp handshake and the transport::Connection it creates.
// Input: [mode][datagram length u16 BE][datagram] ... Mode bit 0 set: the first datagram is replaced
// by a genuine Initiation (deterministic keys), so the following fuzzed datagrams reach the accepted
// connection (message 3, data packets, cookie replies, more Initiations). Bits 1-2 choose the pattern;
// bit 3 puts the responder under load (cookies). Randomness is seeded: every run is reproducible.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/handshake_responder.hpp"
#include "transport/connection.hpp"

using namespace srudp;

namespace {

crypto::HandshakeConfig config_for(unsigned pattern, std::uint64_t key_seed) {
  crypto::HandshakeConfig c;
  SeededRandom keys(key_seed);
  if (pattern != 1) {
    c.psk.emplace();
    c.psk->bytes()[0] = 42;
  }
  if (pattern != 0) c.identity = crypto::KeyPair::generate(keys);
  c.payload = {1, 2, 3};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0];
  const unsigned pattern = (mode >> 1) % 3;
  std::span<const std::uint8_t> input(data + 1, size - 1);

  SeededRandom rng(7);
  crypto::ResponderLimits limits;
  limits.always_require_cookie = (mode & 8) != 0;
  crypto::HandshakeResponder responder(config_for(pattern, 1), limits, rng);
  const SocketAddress peer = SocketAddress::v4(192, 0, 2, 1, 4000);
  Instant now{};

  std::vector<std::vector<std::uint8_t>> datagrams;
  while (input.size() >= 2 && datagrams.size() < 64) {
    const std::size_t n = std::min<std::size_t>((std::size_t{input[0]} << 8) | input[1], input.size() - 2);
    datagrams.emplace_back(input.begin() + 2, input.begin() + 2 + static_cast<std::ptrdiff_t>(n));
    input = input.subspan(2 + n);
  }
  std::optional<crypto::Handshake> genuine_initiator;
  if (mode & 1) {
    auto h = crypto::Handshake::initiate(config_for(pattern, 2), wire::ConnectionId{1, 2, 3}, rng);
    if (!h) return 0;
    datagrams.insert(datagrams.begin(), h->initiation_datagram(now));
    genuine_initiator.emplace(std::move(*h));
  }
  if (datagrams.empty()) return 0;

  auto decision = responder.on_initiation(now, peer, datagrams.front(), 0, wire::ConnectionId{9});
  auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision);
  if (accept == nullptr) return 0;
  transport::ConnectionConfig connection_config;
  connection_config.handshake = config_for(pattern, 1);
  auto connection = transport::Connection::accept(std::move(connection_config), std::move(accept->handshake), peer,
                                                  datagrams.front().size(), now, rng);
  if (!connection) return 0;
  std::array<std::uint8_t, 2048> out{};
  for (std::size_t i = 1; i < datagrams.size(); ++i) {
    now += std::chrono::milliseconds(datagrams[i].empty() ? 500 : 3);
    connection->handle_datagram(now, peer, datagrams[i]);
    if (auto t = connection->poll_timeout(); t && *t <= now) connection->handle_timeout(now);
    while (connection->poll_transmit(now, out)) {
    }
    while (connection->poll_event()) {
    }
  }
  return 0;
}
