// Handshake CPU cost: complete srudp handshakes (both sides, in memory, packets encoded and
// decoded, mac1 checked) per second, per mode. One iteration = one whole handshake = both peers'
// work. BM_Responder_NNpsk0 times the responder's side alone (what a server spends per client):
// reading an Initiation, answering it, and deriving the session keys.
#include <benchmark/benchmark.h>

#include "crypto/handshake.hpp"
#include "crypto/handshake_responder.hpp"

namespace srudp::crypto {
namespace {

void run_handshakes(benchmark::State& state, HandshakeConfig initiator_cfg, HandshakeConfig responder_cfg) {
  SystemRandom rng;
  ResponderLimits limits;
  limits.replay_cache_size = 1024;
  HandshakeResponder responder(std::move(responder_cfg), limits, rng);
  Instant now{};
  for (auto _ : state) {
    wire::ConnectionId ci{}, cr{};
    rng.fill(ci);
    rng.fill(cr);
    auto initiator = Handshake::initiate(initiator_cfg, ci, rng);
    const auto initiation = initiator->initiation_datagram(now);
    auto decision = responder.on_initiation(now, SocketAddress::v4(127, 0, 0, 1, 1), initiation, 0, cr);
    auto& accepted = std::get<HandshakeResponder::Accept>(decision).handshake;
    auto msg2 = wire::decode_handshake(accepted.last_flight());
    if (initiator->handle_handshake_packet(*msg2)) state.SkipWithError("message 2 rejected");
    if (!accepted.is_complete()) {
      auto msg3 = wire::decode_handshake(initiator->last_flight());
      if (accepted.handle_handshake_packet(*msg3)) state.SkipWithError("message 3 rejected");
    }
    auto a = initiator->finish();
    auto b = accepted.finish();
    if (!a || !b) state.SkipWithError("handshake incomplete");
    benchmark::DoNotOptimize(a);
    now += std::chrono::milliseconds(1);
  }
  state.counters["handshakes/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

HandshakeConfig with_psk() {
  HandshakeConfig c;
  c.psk.emplace();
  c.psk->bytes()[0] = 1;
  return c;
}

void BM_Handshake_NNpsk0(benchmark::State& state) { run_handshakes(state, with_psk(), with_psk()); }

void BM_Handshake_XXpsk3_pinned(benchmark::State& state) {
  SystemRandom rng;
  auto ka = KeyPair::generate(rng), kb = KeyPair::generate(rng);
  HandshakeConfig a = with_psk(), b = with_psk();
  a.pinned_peer = kb.public_key;
  b.pinned_peer = ka.public_key;
  a.identity = std::move(ka);
  b.identity = std::move(kb);
  run_handshakes(state, std::move(a), std::move(b));
}

void BM_Responder_NNpsk0(benchmark::State& state) {
  SystemRandom rng;
  ResponderLimits limits;
  limits.replay_cache_size = 1024;
  HandshakeResponder responder(with_psk(), limits, rng);
  const HandshakeConfig initiator_cfg = with_psk();
  Instant now{};
  for (auto _ : state) {
    state.PauseTiming();  // the client's part, untimed
    wire::ConnectionId ci{}, cr{};
    rng.fill(ci);
    rng.fill(cr);
    auto initiator = Handshake::initiate(initiator_cfg, ci, rng);
    const auto initiation = initiator->initiation_datagram(now);
    now += std::chrono::milliseconds(1);
    state.ResumeTiming();
    auto decision = responder.on_initiation(now, SocketAddress::v4(127, 0, 0, 1, 1), initiation, 0, cr);
    auto* accepted = std::get_if<HandshakeResponder::Accept>(&decision);
    if (!accepted || !accepted->handshake.is_complete()) {
      state.SkipWithError("not accepted");
      break;
    }
    auto keys = accepted->handshake.finish();
    benchmark::DoNotOptimize(keys);
  }
  state.counters["handshakes/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_X25519(benchmark::State& state) {
  SystemRandom rng;
  auto a = KeyPair::generate(rng), b = KeyPair::generate(rng);
  for (auto _ : state) {
    auto shared = x25519(a.secret, b.public_key);
    benchmark::DoNotOptimize(shared);
  }
}

BENCHMARK(BM_Handshake_NNpsk0);
BENCHMARK(BM_Handshake_XXpsk3_pinned);
BENCHMARK(BM_Responder_NNpsk0);
BENCHMARK(BM_X25519);

}  // namespace
}  // namespace srudp::crypto

