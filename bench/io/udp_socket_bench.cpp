// Loopback throughput of io::UdpSocket with 1200-byte datagrams: one sender, one receiver, the
// same thread. Each iteration sends a batch and drains the receiver until it has all of it.
// Variants: one system call per datagram (plain Asio send_to/receive_from, the baseline), batched
// sendmmsg/recvmmsg without offloads, with GSO only, and with GSO and GRO. Compare the bytes/s
// columns; `syscalls_per_datagram` shows where the gain comes from. Loopback does no real
// segmentation work, so on a NIC the ratios differ.
#include "io/udp_socket.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace {

using srudp::SocketAddress;
using srudp::io::OutgoingDatagram;
using srudp::io::UdpSocket;
using srudp::io::UdpSocketOptions;

constexpr std::size_t kDatagramBytes = 1200;
constexpr std::size_t kBatch = 64;
// Loopback may drop when the receiver's buffer is full; a drained batch that stays short this
// many empty polls counts the rest as lost rather than spinning forever.
constexpr int kMaxEmptyPolls = 1000;

UdpSocket open_socket(boost::asio::io_context& io, const UdpSocketOptions& options) {
  UdpSocket socket(io.get_executor());
  if (auto ec = socket.open(SocketAddress::v4(127, 0, 0, 1, 0), options)) {
    throw std::runtime_error("open: " + ec.message());
  }
  return socket;
}

void report(benchmark::State& state, std::size_t received, std::size_t lost, double syscalls) {
  state.SetItemsProcessed(static_cast<std::int64_t>(received));
  state.SetBytesProcessed(static_cast<std::int64_t>(received * kDatagramBytes));
  state.counters["lost"] = static_cast<double>(lost);
  state.counters["syscalls_per_datagram"] =
      received == 0 ? 0.0 : syscalls / static_cast<double>(received);
}

void batched(benchmark::State& state, bool gso, bool gro) {
  boost::asio::io_context io;
  auto sender = open_socket(io, {.allow_gso = gso, .allow_gro = gro});
  auto receiver = open_socket(io, {.allow_gso = gso, .allow_gro = gro});
  if (gso && !sender.capabilities().gso) {
    state.SkipWithError("no UDP GSO here");
    return;
  }
  if (gro && !receiver.capabilities().gro) {
    state.SkipWithError("no UDP GRO here");
    return;
  }
  std::vector<std::uint8_t> bytes(kBatch * kDatagramBytes, 0x5a);
  std::vector<OutgoingDatagram> batch;
  for (std::size_t i = 0; i < kBatch; ++i) {
    batch.push_back({receiver.local_address(), {bytes.data() + i * kDatagramBytes, kDatagramBytes}});
  }
  std::size_t received = 0;
  std::size_t lost = 0;
  for (auto _ : state) {
    std::size_t sent = 0;
    while (sent < batch.size()) {
      auto n = sender.send(std::span(batch).subspan(sent));
      if (!n) throw std::runtime_error("send: " + n.error().message());
      sent += *n;
    }
    std::size_t got = 0;
    for (int empty = 0; got < kBatch && empty < kMaxEmptyPolls;) {
      auto r = receiver.receive();
      if (!r) throw std::runtime_error("receive: " + r.error().message());
      got += r->size();
      empty = r->empty() ? empty + 1 : 0;
      for (const auto& d : *r) benchmark::DoNotOptimize(d.data.data());
    }
    received += got;
    lost += kBatch - got;
  }
  report(state, received, lost,
         static_cast<double>(sender.counters().send_calls + receiver.counters().receive_calls));
}

// The baseline: what a plain Asio loop does, one system call per datagram each way.
void one_call_per_datagram(benchmark::State& state) {
  using boost::asio::ip::udp;
  boost::asio::io_context io;
  udp::socket sender(io, udp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  udp::socket receiver(io, udp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  receiver.non_blocking(true);
  const auto to = receiver.local_endpoint();
  std::vector<std::uint8_t> bytes(kDatagramBytes, 0x5a);
  std::vector<std::uint8_t> buffer(65536);
  std::size_t received = 0;
  std::size_t lost = 0;
  double syscalls = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) sender.send_to(boost::asio::buffer(bytes), to);
    std::size_t got = 0;
    for (int empty = 0; got < kBatch && empty < kMaxEmptyPolls;) {
      udp::endpoint from;
      boost::system::error_code ec;
      const auto n = receiver.receive_from(boost::asio::buffer(buffer), from, 0, ec);
      ++syscalls;
      if (ec == boost::asio::error::would_block) {
        ++empty;
        continue;
      }
      if (ec) throw std::runtime_error("receive_from: " + ec.message());
      benchmark::DoNotOptimize(n);
      empty = 0;
      ++got;
    }
    syscalls += kBatch;
    received += got;
    lost += kBatch - got;
  }
  report(state, received, lost, syscalls);
}

void BM_UdpLoopback_OneCallPerDatagram(benchmark::State& state) { one_call_per_datagram(state); }
void BM_UdpLoopback_Batched(benchmark::State& state) { batched(state, false, false); }
void BM_UdpLoopback_BatchedGso(benchmark::State& state) { batched(state, true, false); }
void BM_UdpLoopback_BatchedGsoGro(benchmark::State& state) { batched(state, true, true); }

BENCHMARK(BM_UdpLoopback_OneCallPerDatagram);
BENCHMARK(BM_UdpLoopback_Batched);
BENCHMARK(BM_UdpLoopback_BatchedGso);
BENCHMARK(BM_UdpLoopback_BatchedGsoGro);

}  // namespace
