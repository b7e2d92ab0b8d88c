// HolePuncher through the simulator's NAT boxes: each peer learns its mapped address from a STUN
// server on the "internet", the two exchange candidates (as the rdv server does), and punch. The
// outcome of every NAT pairing must match ../shared/natlab.md: direct where a direct path exists,
// an "exhausted" report (the client then stays on the relay) where none does, with bounded probes.
#include "rendezvous/hole_puncher.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rendezvous/stun_binding.hpp"
#include "rendezvous/token.hpp"
#include "sim/network.hpp"

namespace srudp::rendezvous {
namespace {

using namespace std::chrono_literals;
using sim::NatConfig;

class StunServerNode final : public sim::Node {
 public:
  void handle_datagram(Instant, const sim::Datagram& d) override {
    std::vector<std::uint8_t> reply(512);
    const auto answer = answer_stun_binding(d.bytes, d.from, reply, {});
    if (answer.kind != StunAnswer::Kind::success) return;
    reply.resize(answer.size);
    out_.push_back(sim::Datagram{d.to, d.from, std::move(reply)});
  }
  std::optional<sim::Datagram> poll_transmit(Instant) override {
    if (out_.empty()) return std::nullopt;
    auto d = std::move(out_.back());
    out_.pop_back();
    return d;
  }
  std::optional<Instant> poll_timeout() override { return std::nullopt; }
  void handle_timeout(Instant) override {}

 private:
  std::vector<sim::Datagram> out_;
};

// A peer: asks the STUN server for its mapped address, then punches once started.
class PeerNode final : public sim::Node {
 public:
  PeerNode(bool controlling, std::uint64_t seed, SocketAddress stun_server)
      : rng_(seed), stun_server_(stun_server), puncher_(config(controlling), rng_) {
    rng_.fill(stun_id_);
  }

  static HolePuncherConfig config(bool controlling) {
    const auto secrets = derive_token_secrets("token");
    HolePuncherConfig c;
    c.controlling = controlling;
    c.our_key = controlling ? secrets->dialer_check_key : secrets->acceptor_check_key;
    c.peer_key = controlling ? secrets->acceptor_check_key : secrets->dialer_check_key;
    return c;
  }

  void handle_datagram(Instant now, const sim::Datagram& d) override {
    if (puncher_.handle_datagram(now, d.from, d.bytes)) return drain_events(now);
    if (auto answer = read_stun_binding_response(d.bytes, stun_id_)) mapped = *answer;
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (!stun_sent_) {
      stun_sent_ = true;
      std::vector<std::uint8_t> request(kStunBindingRequestSize);
      (void)write_stun_binding_request(stun_id_, request);
      return sim::Datagram{{}, stun_server_, std::move(request)};
    }
    std::vector<std::uint8_t> buffer(512);
    auto t = puncher_.poll_transmit(now, buffer);
    drain_events(now);
    if (!t) return std::nullopt;
    buffer.resize(t->size);
    return sim::Datagram{{}, t->to, std::move(buffer)};
  }
  std::optional<Instant> poll_timeout() override { return puncher_.poll_timeout(); }
  void handle_timeout(Instant now) override { drain_events(now); }

  void start(Instant now, std::vector<SocketAddress> candidates) { puncher_.start(now, candidates); }
  bool has(PunchEvent::Kind kind) const {
    for (const auto& e : events) {
      if (e.first.kind == kind) return true;
    }
    return false;
  }
  std::optional<PunchEvent> first(PunchEvent::Kind kind) const {
    for (const auto& e : events) {
      if (e.first.kind == kind) return e.first;
    }
    return std::nullopt;
  }
  Instant when(PunchEvent::Kind kind) const {
    for (const auto& e : events) {
      if (e.first.kind == kind) return e.second;
    }
    return Instant{};
  }

  std::optional<SocketAddress> mapped;
  std::vector<std::pair<PunchEvent, Instant>> events;
  HolePuncher& puncher() { return puncher_; }

 private:
  void drain_events(Instant now) {
    while (auto e = puncher_.poll_event()) events.emplace_back(*e, now);
  }

  SeededRandom rng_;
  SocketAddress stun_server_;
  StunTransactionId stun_id_{};
  bool stun_sent_ = false;
  HolePuncher puncher_;
};

struct NatCase {
  const char* name;
  NatConfig (*make)();
};
const NatCase kNats[] = {
    {"full_cone", NatConfig::full_cone},
    {"restricted_cone", NatConfig::restricted_cone},
    {"port_restricted", NatConfig::port_restricted_cone},
    {"symmetric", NatConfig::symmetric},
    {"udp_blocked", NatConfig::udp_blocking},
};

// ../shared/natlab.md: direct unless UDP is blocked, both are symmetric, or one is symmetric and
// the other port-restricted.
bool direct_expected(const std::string& a, const std::string& b) {
  if (a == "udp_blocked" || b == "udp_blocked") return false;
  if (a == "symmetric" && b == "symmetric") return false;
  if ((a == "symmetric" && b == "port_restricted") || (a == "port_restricted" && b == "symmetric")) return false;
  return true;
}

struct Outcome {
  bool dialer_found = false, acceptor_found = false, exhausted = false;
  Duration time_to_direct{};
  std::uint64_t dialer_probes = 0;
  std::size_t dialer_candidates = 0;
};

// `skew`: the acceptor starts that much later (its 101 came later), so the dialer's first probes
// reach the acceptor's router before the acceptor has sent anything.
Outcome punch(const NatCase& nat_a, const NatCase& nat_b, std::uint64_t seed, std::string& trace,
              Duration skew = Duration{}) {
  sim::Network net(sim::test_seed(seed));
  const SocketAddress stun_address = SocketAddress::v4(203, 0, 113, 10, 3478);
  StunServerNode stun;
  PeerNode dialer(true, seed * 2 + 1, stun_address), acceptor(false, seed * 2 + 2, stun_address);
  auto& router_a = net.add_nat(nat_a.make(), sim::ipv4(198, 51, 100, 1));
  auto& router_b = net.add_nat(nat_b.make(), sim::ipv4(198, 51, 100, 2));
  const SocketAddress a_local = SocketAddress::v4(10, 0, 1, 2, 4000);
  const SocketAddress b_local = SocketAddress::v4(10, 0, 2, 2, 4000);
  net.add_host(dialer, a_local, &router_a);
  net.add_host(acceptor, b_local, &router_b);
  net.add_host(stun, stun_address);
  net.set_link(router_a, router_b, sim::LinkConfig{.delay = 15ms});
  Outcome out;
  // The STUN round trip (UDP-blocked peers never get an answer: they offer their private address only).
  (void)net.run_until([&] { return dialer.mapped && acceptor.mapped; }, 1s);
  const auto candidates = [](const SocketAddress& local, const std::optional<SocketAddress>& mapped) {
    std::vector<SocketAddress> c{local};
    if (mapped) c.push_back(*mapped);
    std::sort(c.begin(), c.end());
    return c;
  };
  const Instant start = net.now();
  dialer.start(start, candidates(b_local, acceptor.mapped));
  if (skew > Duration{}) (void)net.run_for(skew);
  acceptor.start(net.now(), candidates(a_local, dialer.mapped));
  (void)net.run_until([&] { return dialer.has(PunchEvent::Kind::found) || dialer.has(PunchEvent::Kind::exhausted); }, 20s);
  (void)net.run_for(1s);  // the other side settles
  out.dialer_found = dialer.has(PunchEvent::Kind::found);
  out.acceptor_found = acceptor.has(PunchEvent::Kind::found);
  out.exhausted = dialer.has(PunchEvent::Kind::exhausted);
  if (out.dialer_found) out.time_to_direct = dialer.when(PunchEvent::Kind::found) - start;
  out.dialer_probes = dialer.puncher().counters().probes_sent;
  out.dialer_candidates = dialer.puncher().candidate_count();
  trace = net.describe();
  return out;
}

TEST(HolePuncher, NatMatrixEndsDirectExactlyWhereTheLabSaysItCan) {
  std::string table = "\n";
  for (const auto& a : kNats) {
    for (const auto& b : kNats) {
      std::string trace;
      const Outcome o = punch(a, b, 17, trace);
      const bool want = direct_expected(a.name, b.name);
      SCOPED_TRACE(std::string(a.name) + " x " + b.name + " " + trace);
      EXPECT_EQ(o.dialer_found, want);
      EXPECT_EQ(o.exhausted, !want);
      // At most 10 probes to each candidate (from the server, or learned from the peer's checks),
      // plus, once found, the consent checks of the settling second (one per 500 ms).
      EXPECT_LE(o.dialer_probes, 10u * o.dialer_candidates + (o.dialer_found ? 4u : 0u));
      if (want) {
        EXPECT_TRUE(o.acceptor_found);
        EXPECT_LT(o.time_to_direct, 5s);
      }
      table += std::string(a.name) + " x " + b.name + " -> " + (o.dialer_found ? "direct" : "relay") + " in " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(o.time_to_direct).count()) +
               " ms, " + std::to_string(o.dialer_probes) + " probes\n";
    }
  }
  std::printf("%s", table.c_str());
}

// Routers of the port-collision note (bare masquerade), with the acceptor starting 100 ms late:
// the dialer's first punches land on the acceptor's router before the acceptor's own flow exists
// and push that flow to another port. Against a cone the peers learn the new port from an
// authenticated check and go direct; two such routers (or one and a symmetric NAT) filter each
// other's new ports, and punching must end "exhausted" (the client stays on the relay) in
// bounded time, never hang.
TEST(HolePuncher, PortCollisionRoutersEndDirectOrExhaustedNeverHang) {
  const NatCase masquerade{"bare_masquerade", NatConfig::bare_masquerade};
  for (const NatCase& other : {masquerade, kNats[2], kNats[0], kNats[3]}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      std::string trace;
      const Outcome o = punch(masquerade, other, seed, trace, 100ms);
      SCOPED_TRACE(std::string("bare_masquerade x ") + other.name + " " + trace);
      // Bounded either way; and as the kernel lab shows it: direct against a cone, relay against
      // another such router or a symmetric NAT (both filter the moved port).
      EXPECT_TRUE(o.dialer_found || o.exhausted);
      const bool cone = std::string(other.name) == "port_restricted" || std::string(other.name) == "full_cone";
      EXPECT_EQ(o.dialer_found, cone);
      std::printf("bare_masquerade x %s (seed %llu) -> %s in %lld ms, %llu probes\n", other.name,
                  static_cast<unsigned long long>(seed), o.dialer_found ? "direct" : "relay",
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(o.time_to_direct).count()),
                  static_cast<unsigned long long>(o.dialer_probes));
    }
  }
}

TEST(HolePuncher, WatchedPathIsReportedLostInABlackoutAndBackAfterIt) {
  sim::Network net(sim::test_seed(5));
  const SocketAddress stun_address = SocketAddress::v4(203, 0, 113, 10, 3478);
  StunServerNode stun;
  PeerNode dialer(true, 11, stun_address), acceptor(false, 12, stun_address);
  auto& router_a = net.add_nat(NatConfig::port_restricted_cone(), sim::ipv4(198, 51, 100, 1));
  auto& router_b = net.add_nat(NatConfig::port_restricted_cone(), sim::ipv4(198, 51, 100, 2));
  net.add_host(dialer, SocketAddress::v4(10, 0, 1, 2, 4000), &router_a);
  net.add_host(acceptor, SocketAddress::v4(10, 0, 2, 2, 4000), &router_b);
  net.add_host(stun, stun_address);
  net.set_link(router_a, router_b, sim::LinkConfig{.delay = 10ms});
  ASSERT_TRUE(net.run_until([&] { return dialer.mapped && acceptor.mapped; }, 1s));
  dialer.start(net.now(), {*acceptor.mapped});
  acceptor.start(net.now(), {*dialer.mapped});
  ASSERT_TRUE(net.run_until([&] { return dialer.has(PunchEvent::Kind::found); }, 5s)) << net.describe();
  EXPECT_EQ(dialer.first(PunchEvent::Kind::found)->address, *acceptor.mapped);
  EXPECT_EQ(dialer.puncher().working(), *acceptor.mapped);
  ASSERT_TRUE(net.run_for(5s));  // consent holds on a good path
  EXPECT_FALSE(dialer.has(PunchEvent::Kind::lost));

  const Instant blackout = net.now();
  net.set_link(router_a, router_b, sim::LinkConfig{.delay = 10ms, .loss = 1.0});
  ASSERT_TRUE(net.run_until([&] { return dialer.has(PunchEvent::Kind::lost); }, 3s)) << net.describe();
  EXPECT_LE(dialer.when(PunchEvent::Kind::lost) - blackout, 2s);
  EXPECT_FALSE(dialer.puncher().working());
  ASSERT_TRUE(net.run_for(1s));
  const Instant back = net.now();
  net.set_link(router_a, router_b, sim::LinkConfig{.delay = 10ms});
  ASSERT_TRUE(net.run_until([&] { return dialer.has(PunchEvent::Kind::restored); }, 3s)) << net.describe();
  EXPECT_LE(dialer.when(PunchEvent::Kind::restored) - back, 1s);
  EXPECT_EQ(dialer.puncher().working(), *acceptor.mapped);
}

TEST(HolePuncher, ChecksUnderAnotherKeyChangeNothing) {
  SeededRandom rng(3);
  auto config = PeerNode::config(true);
  HolePuncher puncher(config, rng);
  const Instant t0{};
  const SocketAddress peer = SocketAddress::v4(198, 51, 100, 2, 4000);
  const SocketAddress attacker = SocketAddress::v4(192, 0, 2, 66, 666);
  puncher.start(t0, std::vector<SocketAddress>{peer});
  std::vector<std::uint8_t> buffer(512);
  auto probe = puncher.poll_transmit(t0, buffer);
  ASSERT_TRUE(probe);
  // The attacker answers the probe (she saw it) and sends her own checks, under her own key.
  const auto request = read_path_check(std::span(buffer).first(probe->size), config.our_key);
  ASSERT_TRUE(request);
  auto mallory = derive_token_secrets("mallory's guess");
  std::vector<std::uint8_t> forged(512);
  forged.resize(*write_path_check_response(request->id_field, attacker, mallory->acceptor_check_key, forged));
  EXPECT_TRUE(puncher.handle_datagram(t0, attacker, forged));
  std::vector<std::uint8_t> forged_request(512);
  forged_request.resize(*write_path_check_request(StunTransactionId{}, mallory->acceptor_check_key, forged_request));
  EXPECT_TRUE(puncher.handle_datagram(t0, attacker, forged_request));
  // A genuine response replayed from the attacker's address for an id we never used: nothing.
  StunIdField unused = request->id_field;
  unused[15] ^= 1;
  std::vector<std::uint8_t> stale(512);
  stale.resize(*write_path_check_response(unused, attacker, config.peer_key, stale));
  EXPECT_TRUE(puncher.handle_datagram(t0, attacker, stale));
  // Our own probe reflected back: it does not verify under the peer's key.
  EXPECT_TRUE(puncher.handle_datagram(t0, attacker, std::span(buffer).first(probe->size)));

  EXPECT_FALSE(puncher.poll_event());
  EXPECT_EQ(puncher.candidate_count(), 1u);  // the attacker's address was not learned
  EXPECT_EQ(puncher.counters().unauthenticated, 3u);
  EXPECT_EQ(puncher.counters().answers_sent, 0u);
  EXPECT_FALSE(puncher.working());
}

}  // namespace
}  // namespace srudp::rendezvous
