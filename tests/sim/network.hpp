// The deterministic discrete-event network. Virtual time starts at kEpoch and only moves when the
// next event is due; one seed drives every random choice, so a seed replays a run exactly.
//
// Topology: a tree of sites. The root site is the internet. A NAT is attached to a site (its
// public address lives there) and owns a private site behind it, where hosts (and further NATs,
// for carrier-grade NAT) attach. Every attachment reaches its site through an access link pair
// (uplink towards the site, downlink from it); two attachments of one site can also have a path
// link between them. All links are ideal until configured. Route of a datagram from A to B:
//   A.uplink -> [path link A->X] -> X = owner of the destination IP in A's site, else A's NAT
//   -> (NAT translates, then X.uplink into the parent site, and so on) -> B.downlink -> B.
//
//   Network net(sim::test_seed(7));
//   auto& nat_a = net.add_nat(NatConfig::port_restricted_cone(), ipv4(198, 51, 100, 1));
//   auto& a = net.add_host(node_a, SocketAddress::v4(10, 0, 0, 2, 4000), &nat_a);
//   auto& s = net.add_host(server, SocketAddress::v4(203, 0, 113, 1, 3478));
//   net.set_link(nat_a, s, LinkConfig{.delay = 20ms, .loss = 0.01});
//   ASSERT_TRUE(net.run_until([&] { return node_a.done(); }, 10s)) << net.describe();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/address.hpp"
#include "common/time.hpp"
#include "sim/drop_cause.hpp"
#include "sim/epoch.hpp"
#include "sim/event_queue.hpp"
#include "sim/ip.hpp"
#include "sim/link.hpp"
#include "sim/nat.hpp"
#include "sim/node.hpp"
#include "sim/rng.hpp"

namespace srudp::sim {

class Network;
class Nat;
class Site;

// Only the Network creates sites, hosts and NATs (their constructors take this key).
class ConstructionKey {
  friend class Network;
  ConstructionKey() = default;
};

// The seed a test should use: SRUDP_SIM_SEED from the environment when set (decimal or 0x-hex),
// else 'fallback'. This is how a failing run is replayed (see docs/SIMULATOR.md).
std::uint64_t test_seed(std::uint64_t fallback);

// Something with one IP address in a site: a host, or a NAT's public side.
class Attachment {
 public:
  virtual ~Attachment() = default;
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

  std::size_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  Site& site() const noexcept { return *site_; }
  const IpAddress& ip() const noexcept { return ip_; }

  Link& uplink() noexcept { return uplink_; }      // towards the site
  Link& downlink() noexcept { return downlink_; }  // from the site
  void set_access_link(const LinkConfig& both_directions);
  void set_access_link(const LinkConfig& up, const LinkConfig& down);

 protected:
  Attachment(std::size_t id, std::string name, Site& site, const IpAddress& ip, Rng up, Rng down);

 private:
  std::size_t id_;
  std::string name_;
  Site* site_;
  IpAddress ip_;
  Link uplink_;
  Link downlink_;
};

class Host final : public Attachment {
 public:
  Node& node() const noexcept { return *node_; }
  // The first address is the one given to add_host; bind() adds ports on the same IP.
  const std::vector<SocketAddress>& addresses() const noexcept { return addresses_; }
  SocketAddress address() const { return addresses_.front(); }
  void bind(std::uint16_t port);
  bool is_bound(std::uint16_t port) const noexcept;

  std::uint64_t datagrams_sent() const noexcept { return sent_; }
  std::uint64_t datagrams_received() const noexcept { return received_; }

 public:
  Host(ConstructionKey, std::size_t id, Site& site, Node& node, const SocketAddress& address,
       Rng up, Rng down);

  Node* node_;
  std::vector<SocketAddress> addresses_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::optional<Instant> timer_;        // the deadline currently scheduled
  std::uint64_t timer_generation_ = 0;  // bumps on re-arm: stale timer events are ignored
};

class Nat final : public Attachment {
 public:
  Site& inside() const noexcept { return *inside_; }
  NatTable& table() noexcept { return table_; }
  const NatConfig& config() const noexcept { return table_.config(); }
  SocketAddress public_address(std::uint16_t port) const { return at_port(ip(), port); }

 public:
  Nat(ConstructionKey, std::size_t id, Site& outside, Site& inside, const NatConfig& config,
      const IpAddress& ip, Rng up, Rng down, Rng table_rng);

 private:
  Site* inside_;
  NatTable table_;
};

class Site {
 public:
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  std::size_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  Nat* gateway() const noexcept { return gateway_; }  // nullptr for the internet
  Attachment* find(const IpAddress& ip) const;

 public:
  Site(ConstructionKey, std::size_t id, std::string name) : id_(id), name_(std::move(name)) {}

 private:
  friend class Network;
  std::size_t id_;
  std::string name_;
  Nat* gateway_ = nullptr;
  std::map<IpAddress, Attachment*> members_;
};

// How a run ended. Converts to true when the run did what was asked (run_until: the predicate
// held; run_for: the time was reached). message() always names the seed.
struct RunResult {
  enum class Stop : std::uint8_t { predicate, time_limit, event_limit };
  Stop stop = Stop::time_limit;
  bool ok = false;
  std::string message;

  explicit operator bool() const noexcept { return ok; }
  friend std::ostream& operator<<(std::ostream& os, const RunResult& r) { return os << r.message; }
};

enum class TapVerdict : std::uint8_t { pass, drop };
// Sees every datagram entering a site (after the sender's uplink, before routing in the site),
// in tap order; may modify it in place or drop it.
using Tap = std::function<TapVerdict(Instant now, Datagram& datagram)>;
using TapId = std::uint64_t;

struct TraceEvent {
  enum class Kind : std::uint8_t { sent, delivered, dropped };
  Kind kind;
  Instant at;
  const Datagram& datagram;
  std::string_view where;  // host name, or link / NAT / site for drops
  DropCause cause;         // only for dropped
};
std::string format(const TraceEvent& event);  // one line, e.g. for a trace sink printing to stderr

class Network {
 public:
  static constexpr std::uint64_t kDefaultEventLimit = 10'000'000;

  explicit Network(std::uint64_t seed);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  std::uint64_t seed() const noexcept { return seed_; }
  Instant now() const noexcept { return now_; }
  Duration elapsed() const noexcept { return now_ - kEpoch; }
  // "sim seed=0x... t=+1.234s events=..." for failure messages (SCOPED_TRACE(net.describe())).
  std::string describe() const;
  // An independent random stream for the test's own choices, derived from the seed.
  Rng make_rng(std::uint64_t stream) const { return Rng(seed_, ~stream); }

  // Topology. Misconfiguration (an IP taken twice in a site, linking across sites) throws
  // std::invalid_argument: it is a bug in the test, not a network condition.
  Site& internet() noexcept { return *sites_.front(); }
  Nat& add_nat(const NatConfig& config, const IpAddress& public_ip, Site* outside = nullptr);
  Host& add_host(Node& node, const SocketAddress& address, Nat* behind = nullptr);
  Host& add_host(Node& node, const SocketAddress& address, Site& site);
  Host* find_host(const Node& node) const;
  // A path link between two attachments of one site (a NAT also counts as a member of its own
  // private site: set_link(host_behind_nat, nat, ...) shapes the LAN hop to the gateway).
  void set_link(const Attachment& a, const Attachment& b, const LinkConfig& both_directions);
  void set_link(const Attachment& a, const Attachment& b, const LinkConfig& a_to_b,
                const LinkConfig& b_to_a);
  Link* path_link(const Attachment& from, const Attachment& to);

  // Running. Each run first polls every node (so tests may poke nodes between runs), then
  // processes events in time order. Events exactly at the end time are processed.
  RunResult run_for(Duration duration);
  RunResult run_until(const std::function<bool()>& done, Duration timeout);
  // Events (including datagrams a node emits) one run may process before it fails.
  void set_event_limit(std::uint64_t limit) noexcept { event_limit_ = limit; }
  std::uint64_t events_processed() const noexcept { return events_total_; }
  // Poll a node again at the current time (after a test called into it mid-run).
  void wake(const Node& node);
  // Run test code at now + delay (e.g. change a link, move a host's traffic).
  void schedule(Duration delay, std::function<void()> action);

  // Observation and interference, for man-in-the-middle, replay and spoofing tests.
  TapId add_tap(Site& site, Tap tap);
  void remove_tap(TapId id);
  // A datagram appears in 'site' after 'delay', as if sent there by an attacker: any 'from'.
  void inject(Site& site, Datagram datagram, Duration delay = Duration::zero());
  void set_trace(std::function<void(const TraceEvent&)> sink) { trace_ = std::move(sink); }

  // Every drop anywhere (links, NATs, routing), by cause; datagrams handed to nodes.
  const DropCounts& drops() const noexcept { return drops_; }
  std::uint64_t delivered() const noexcept { return delivered_; }
  // A hash of every delivery (time, host, addresses, bytes): equal hashes, equal runs.
  std::uint64_t trace_hash() const noexcept { return trace_hash_; }

 private:
  // Where a datagram goes after the link it is on.
  struct Hop {
    enum class Kind : std::uint8_t { enter_site, downlink, arrive, nat_outbound };
    Kind kind;
    Site* site = nullptr;          // enter_site
    Attachment* from = nullptr;    // enter_site: the member it came from (nullptr: injected)
    Attachment* target = nullptr;  // downlink, arrive, nat_outbound
  };

  RunResult run(const std::function<bool()>* done, Instant end, const char* what);
  bool count_event();
  void service(Host& host);
  void send_from(Host& host, Datagram datagram);
  void traverse(Link& link, std::string_view link_name, Datagram datagram, Hop next);
  void hop(Hop next, Datagram datagram);
  void enter_site(Site& site, Attachment* from, Datagram datagram);
  void nat_outbound(Nat& nat, Datagram datagram);
  void arrive(Attachment& target, Datagram datagram);
  void deliver(Host& host, const Datagram& datagram);
  void dropped(const Datagram& datagram, std::string_view where, DropCause cause);
  Rng next_rng() { return Rng(seed_, next_stream_++); }
  void check_member(const Attachment& a, const Site& s) const;

  std::uint64_t seed_;
  std::uint64_t next_stream_ = 0;
  Instant now_ = kEpoch;
  EventQueue events_;
  std::vector<std::unique_ptr<Site>> sites_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<Nat>> nats_;
  std::size_t next_attachment_id_ = 0;
  std::map<const Node*, Host*> host_by_node_;
  std::map<std::pair<std::size_t, std::size_t>, Link> path_links_;
  struct TapEntry {
    Site* site;
    Tap tap;
  };
  std::map<TapId, TapEntry> taps_;
  TapId next_tap_ = 1;
  std::function<void(const TraceEvent&)> trace_;

  std::uint64_t event_limit_ = kDefaultEventLimit;
  std::uint64_t events_in_run_ = 0;
  std::uint64_t events_total_ = 0;
  bool limit_hit_ = false;
  DropCounts drops_;
  std::uint64_t delivered_ = 0;
  std::uint64_t trace_hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace srudp::sim
