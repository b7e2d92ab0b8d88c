// CPU cost of the connection's send and receive path, on the in-memory pair of bulk_pair.hpp.
// Reports ns per data packet (sender build + seal, receiver open + reassembly + read, and the
// ACK traffic back, all included) and stream MB/s. Beside it, measured in the same run: the AEAD
// floor (sealing and opening one packet of the same size with the same algorithm), the overhead
// above that floor, and heap allocations per data packet.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <vector>

#include "bulk_pair.hpp"
#include "crypto/packet_protection.hpp"

// Every C++ heap allocation in this program is counted (the benchmark reads the counter around its
// loop). Deletion stays the library's: these allocate with malloc, as the default does.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// GCC pairs operator new with free() here and warns; the pairing is exactly what is intended.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

// The AEAD's share of a data packet: one seal and one open of a packet of the given size (the
// receiver opens what the sender sealed), as PacketProtection does them, in nanoseconds.
double aead_floor_ns(srudp::crypto::AeadAlgorithm aead, std::size_t packet_size) {
  using srudp::crypto::PacketProtection;
  using srudp::crypto::PacketProtectionConfig;
  using srudp::crypto::SecretKey;
  auto key = [](std::uint8_t fill) {
    SecretKey k;
    std::fill(k.bytes().begin(), k.bytes().end(), fill);
    return k;
  };
  auto a = PacketProtection::create(PacketProtectionConfig{key(1), key(2), aead, std::nullopt, 0, 0});
  auto b = PacketProtection::create(PacketProtectionConfig{key(2), key(1), aead, std::nullopt, 0, 0});
  if (!a || !b) return 0;
  constexpr std::size_t kHeader = 13;
  constexpr int kRounds = 20000;
  std::vector<std::uint8_t> packet(packet_size, 0xab);
  packet[0] = 0x40;  // a short header in key phase 0
  const std::size_t plain = packet_size - kHeader - srudp::crypto::kAeadTagSize;
  auto header = std::span<const std::uint8_t>(packet).first(kHeader);
  const auto start = std::chrono::steady_clock::now();
  for (int pn = 0; pn < kRounds; ++pn) {
    std::span<std::uint8_t> body = std::span(packet).subspan(kHeader);
    auto sealed = a->seal(static_cast<std::uint64_t>(pn), header, body.first(plain), body);
    auto opened = b->open(static_cast<std::uint64_t>(pn), false, header, body.first(sealed ? sealed->size : 0), body);
    benchmark::DoNotOptimize(opened);
    if (!sealed || !opened) return 0;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / kRounds;
}

// state.range(0): the largest packet path-MTU discovery may reach (1200: every packet is base size).
void BM_BulkStream(benchmark::State& state, srudp::crypto::AeadAlgorithm aead) {
  if (!srudp::crypto::aead_available(aead)) {
    state.SkipWithError("algorithm not available on this CPU");
    return;
  }
  srudp::bench::BulkPair p(aead, static_cast<std::size_t>(state.range(0)));
  std::uint64_t bytes = 0;
  const std::uint64_t packets_before = p.packets;
  const std::uint64_t allocations_before = g_allocations.load();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) bytes += p.step();
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
  const auto allocations = static_cast<double>(g_allocations.load() - allocations_before);
  const auto packets = static_cast<double>(p.packets - packets_before);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["packets"] = packets;
  state.counters["time_per_packet"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["path_mtu"] = static_cast<double>(p.client->stats().path_mtu);
  state.counters["allocs_per_packet"] = packets > 0 ? allocations / packets : 0;
  const double floor_ns = aead_floor_ns(aead, p.client->stats().path_mtu);
  state.counters["aead_floor_ns"] = floor_ns;
  // Wall time per data packet minus the AEAD floor: what the transport itself costs.
  state.counters["overhead_ns"] = packets > 0 ? elapsed.count() / packets - floor_ns : 0;
  if (!p.client->is_established()) state.SkipWithError("connection lost");
}

BENCHMARK_CAPTURE(BM_BulkStream, chacha20_poly1305, srudp::crypto::AeadAlgorithm::chacha20_poly1305)
    ->Arg(1200)
    ->Arg(1452);
BENCHMARK_CAPTURE(BM_BulkStream, aes256_gcm, srudp::crypto::AeadAlgorithm::aes256_gcm)->Arg(1200)->Arg(1452);

}  // namespace
