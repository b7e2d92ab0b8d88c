#include "sim/network.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <span>
#include <stdexcept>

namespace srudp::sim {
namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

std::string seconds(Duration d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%+.6fs", std::chrono::duration<double>(d).count());
  return buf;
}

// FNV-1a, 64-bit: cheap, and every byte moves the hash.
void mix(std::uint64_t& h, std::span<const std::uint8_t> bytes) {
  for (const std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
}
void mix(std::uint64_t& h, std::uint64_t v) {
  std::array<std::uint8_t, 8> bytes{};
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(v >> (8 * i));
  mix(h, bytes);
}
void mix(std::uint64_t& h, const SocketAddress& a) {
  const auto bytes = a.bytes();
  mix(h, bytes);
}

bool unspecified(const SocketAddress& a) { return a == SocketAddress{}; }

}  // namespace

std::uint64_t test_seed(std::uint64_t fallback) {
  const char* text = std::getenv("SRUDP_SIM_SEED");
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (end == text || *end != '\0') {
    std::cerr << "[sim] ignoring malformed SRUDP_SIM_SEED=" << text << "\n";
    return fallback;
  }
  return v;
}

std::string format(const TraceEvent& e) {
  std::string s = seconds(e.at - kEpoch) + " ";
  switch (e.kind) {
    case TraceEvent::Kind::sent:
      s += "sent      ";
      break;
    case TraceEvent::Kind::delivered:
      s += "delivered ";
      break;
    case TraceEvent::Kind::dropped:
      s += "dropped   ";
      break;
  }
  s += e.datagram.from.to_string() + " -> " + e.datagram.to.to_string() + " " +
       std::to_string(e.datagram.bytes.size()) + "B at " + std::string(e.where);
  if (e.kind == TraceEvent::Kind::dropped) s += " (" + std::string(to_string(e.cause)) + ")";
  return s;
}

// ---- topology objects ----

Attachment::Attachment(std::size_t id, std::string name, Site& site, const IpAddress& ip, Rng up,
                       Rng down)
    : id_(id),
      name_(std::move(name)),
      site_(&site),
      ip_(ip),
      uplink_({}, up),
      downlink_({}, down) {}

void Attachment::set_access_link(const LinkConfig& both_directions) {
  set_access_link(both_directions, both_directions);
}

void Attachment::set_access_link(const LinkConfig& up, const LinkConfig& down) {
  uplink_.config() = up;
  downlink_.config() = down;
}

Host::Host(ConstructionKey, std::size_t id, Site& site, Node& node, const SocketAddress& address,
           Rng up, Rng down)
    : Attachment(id, "host " + address.to_string() + " in " + site.name(), site, address.ip, up,
                 down),
      node_(&node),
      addresses_{address} {}

void Host::bind(std::uint16_t port) {
  if (!is_bound(port)) addresses_.push_back(at_port(ip(), port));
}

bool Host::is_bound(std::uint16_t port) const noexcept {
  return std::any_of(addresses_.begin(), addresses_.end(),
                     [&](const SocketAddress& a) { return a.port == port; });
}

Nat::Nat(ConstructionKey, std::size_t id, Site& outside, Site& inside, const NatConfig& config,
         const IpAddress& ip, Rng up, Rng down, Rng table_rng)
    : Attachment(id, "nat " + to_string(ip) + " (" + config.describe() + ")", outside, ip, up,
                 down),
      inside_(&inside),
      table_(config, ip, table_rng) {}

Attachment* Site::find(const IpAddress& ip) const {
  const auto it = members_.find(ip);
  return it == members_.end() ? nullptr : it->second;
}

// ---- construction ----

Network::Network(std::uint64_t seed) : seed_(seed) {
  sites_.push_back(std::make_unique<Site>(ConstructionKey{}, 0, "internet"));
  if (const char* t = std::getenv("SRUDP_SIM_TRACE"); t != nullptr && *t != '\0' && *t != '0') {
    trace_ = [](const TraceEvent& e) { std::cerr << "[sim] " << format(e) << "\n"; };
  }
}

Network::~Network() = default;

std::string Network::describe() const {
  return "sim seed=" + hex(seed_) + " (replay: SRUDP_SIM_SEED=" + hex(seed_) +
         ") t=" + seconds(elapsed()) + " events=" + std::to_string(events_total_) +
         " delivered=" + std::to_string(delivered_) + " dropped=" + std::to_string(drops_.total());
}

Nat& Network::add_nat(const NatConfig& config, const IpAddress& public_ip, Site* outside) {
  Site& parent = outside != nullptr ? *outside : internet();
  if (parent.find(public_ip) != nullptr) {
    throw std::invalid_argument("sim: " + to_string(public_ip) + " already used in " +
                                parent.name());
  }
  const std::size_t id = next_attachment_id_++;
  auto inside = std::make_unique<Site>(ConstructionKey{}, sites_.size(),
                                       "site behind " + to_string(public_ip));
  auto nat = std::make_unique<Nat>(ConstructionKey{}, id, parent, *inside, config, public_ip,
                                   next_rng(), next_rng(), next_rng());
  inside->gateway_ = nat.get();
  parent.members_.emplace(public_ip, nat.get());
  sites_.push_back(std::move(inside));
  nats_.push_back(std::move(nat));
  return *nats_.back();
}

Host& Network::add_host(Node& node, const SocketAddress& address, Nat* behind) {
  return add_host(node, address, behind != nullptr ? behind->inside() : internet());
}

Host& Network::add_host(Node& node, const SocketAddress& address, Site& site) {
  if (site.find(address.ip) != nullptr) {
    throw std::invalid_argument("sim: " + to_string(address.ip) + " already used in " +
                                site.name());
  }
  if (host_by_node_.contains(&node)) {
    throw std::invalid_argument("sim: node already attached; use Host::bind for more ports");
  }
  const std::size_t id = next_attachment_id_++;
  auto host =
      std::make_unique<Host>(ConstructionKey{}, id, site, node, address, next_rng(), next_rng());
  site.members_.emplace(address.ip, host.get());
  host_by_node_.emplace(&node, host.get());
  hosts_.push_back(std::move(host));
  return *hosts_.back();
}

Host* Network::find_host(const Node& node) const {
  const auto it = host_by_node_.find(&node);
  return it == host_by_node_.end() ? nullptr : it->second;
}

void Network::check_member(const Attachment& a, const Site& s) const {
  if (&a.site() != &s && s.gateway() != &a) {
    throw std::invalid_argument("sim: " + a.name() + " is not in " + s.name());
  }
}

void Network::set_link(const Attachment& a, const Attachment& b, const LinkConfig& both) {
  set_link(a, b, both, both);
}

void Network::set_link(const Attachment& a, const Attachment& b, const LinkConfig& a_to_b,
                       const LinkConfig& b_to_a) {
  // Both must be members of one site: the site of either, seen from a NAT's inside too.
  const Site& site = (b.site().gateway() == &a) ? b.site() : a.site();
  check_member(a, site);
  check_member(b, site);
  if (&a == &b) throw std::invalid_argument("sim: a path link needs two attachments");
  const auto put = [&](const Attachment& from, const Attachment& to, const LinkConfig& config) {
    const auto key = std::make_pair(from.id(), to.id());
    const auto it = path_links_.find(key);
    if (it != path_links_.end()) {
      it->second.config() = config;
    } else {
      path_links_.emplace(key, Link(config, next_rng()));
    }
  };
  put(a, b, a_to_b);
  put(b, a, b_to_a);
}

Link* Network::path_link(const Attachment& from, const Attachment& to) {
  const auto it = path_links_.find({from.id(), to.id()});
  return it == path_links_.end() ? nullptr : &it->second;
}

// ---- running ----

bool Network::count_event() {
  if (limit_hit_ || events_in_run_ >= event_limit_) {
    limit_hit_ = true;
    return false;
  }
  ++events_in_run_;
  ++events_total_;
  return true;
}

RunResult Network::run(const std::function<bool()>* done, Instant end, const char* what) {
  events_in_run_ = 0;
  limit_hit_ = false;
  const auto finish = [&](RunResult::Stop stop, bool ok, const std::string& detail) {
    RunResult r;
    r.stop = stop;
    r.ok = ok;
    r.message = std::string(what) + ": " + detail + "; " + describe();
    if (stop == RunResult::Stop::event_limit) std::cerr << "[sim] " << r.message << "\n";
    return r;
  };
  const auto satisfied = [&] { return done != nullptr && (*done)(); };

  for (const auto& host : hosts_) {
    if (limit_hit_) break;
    service(*host);
  }
  while (!limit_hit_) {
    if (satisfied()) return finish(RunResult::Stop::predicate, true, "condition met");
    if (events_.empty() || events_.next_time() > end) {
      now_ = std::max(now_, end);
      if (satisfied()) return finish(RunResult::Stop::predicate, true, "condition met");
      return finish(RunResult::Stop::time_limit, done == nullptr,
                    done == nullptr ? "time reached" : "condition not met before the deadline");
    }
    if (!count_event()) break;
    auto [at, action] = events_.pop();
    now_ = at;
    action();
  }
  return finish(RunResult::Stop::event_limit, false,
                "event limit of " + std::to_string(event_limit_) +
                    " hit (livelock? a node that never stops sending or re-arms its timer at "
                    "'now' forever)");
}

RunResult Network::run_for(Duration duration) {
  return run(nullptr, now_ + std::max(duration, Duration::zero()), "run_for");
}

RunResult Network::run_until(const std::function<bool()>& done, Duration timeout) {
  return run(&done, now_ + std::max(timeout, Duration::zero()), "run_until");
}

void Network::wake(const Node& node) {
  Host* host = find_host(node);
  if (host == nullptr) throw std::invalid_argument("sim: wake() on a node that is not attached");
  events_.push(now_, [this, host] { service(*host); });
}

void Network::schedule(Duration delay, std::function<void()> action) {
  events_.push(now_ + std::max(delay, Duration::zero()), std::move(action));
}

void Network::service(Host& host) {
  Node& node = host.node();
  while (auto datagram = node.poll_transmit(now_)) {
    if (!count_event()) return;
    send_from(host, std::move(*datagram));
  }
  const std::optional<Instant> deadline = node.poll_timeout();
  if (!deadline) {
    host.timer_.reset();
    ++host.timer_generation_;
    return;
  }
  const Instant at = std::max(*deadline, now_);
  if (host.timer_ == at) return;  // already scheduled
  host.timer_ = at;
  const std::uint64_t generation = ++host.timer_generation_;
  Host* h = &host;
  events_.push(at, [this, h, generation] {
    if (h->timer_generation_ != generation) return;  // re-armed or cancelled since
    h->timer_.reset();
    h->node().handle_timeout(now_);
    service(*h);
  });
}

// ---- datagram paths ----

void Network::dropped(const Datagram& datagram, std::string_view where, DropCause cause) {
  ++drops_[cause];
  if (trace_) trace_(TraceEvent{TraceEvent::Kind::dropped, now_, datagram, where, cause});
}

void Network::send_from(Host& host, Datagram datagram) {
  if (unspecified(datagram.from)) datagram.from = host.address();
  ++host.sent_;
  if (trace_) trace_(TraceEvent{TraceEvent::Kind::sent, now_, datagram, host.name(), {}});
  traverse(host.uplink(), host.name(), std::move(datagram),
           Hop{Hop::Kind::enter_site, &host.site(), &host, nullptr});
}

void Network::traverse(Link& link, std::string_view link_name, Datagram datagram, Hop next) {
  Link::Result result = link.transmit(now_, std::move(datagram));
  if (result.dropped) {
    dropped(datagram, link_name, *result.dropped);  // a dropped datagram is left untouched
    return;
  }
  for (Link::Departure& d : result.departures) {
    if (d.at == now_) {
      hop(next, std::move(d.datagram));  // an ideal hop: no event needed
    } else {
      events_.push(d.at, [this, next, datagram = std::move(d.datagram)]() mutable {
        hop(next, std::move(datagram));
      });
    }
  }
}

void Network::hop(Hop next, Datagram datagram) {
  switch (next.kind) {
    case Hop::Kind::enter_site:
      enter_site(*next.site, next.from, std::move(datagram));
      return;
    case Hop::Kind::downlink:
      traverse(next.target->downlink(), next.target->name(), std::move(datagram),
               Hop{Hop::Kind::arrive, nullptr, nullptr, next.target});
      return;
    case Hop::Kind::arrive:
      arrive(*next.target, std::move(datagram));
      return;
    case Hop::Kind::nat_outbound:
      nat_outbound(static_cast<Nat&>(*next.target), std::move(datagram));
      return;
  }
}

void Network::enter_site(Site& site, Attachment* from, Datagram datagram) {
  if (!taps_.empty()) {
    std::vector<TapId> here;  // taps may add or remove taps while they run
    for (const auto& [id, entry] : taps_) {
      if (entry.site == &site) here.push_back(id);
    }
    for (const TapId id : here) {
      const auto it = taps_.find(id);
      if (it == taps_.end()) continue;
      const Tap tap = it->second.tap;  // a copy: the tap may remove itself
      if (tap(now_, datagram) == TapVerdict::drop) {
        dropped(datagram, site.name(), DropCause::tap);
        return;
      }
    }
  }
  Attachment* target = site.find(datagram.to.ip);
  Hop next{Hop::Kind::downlink, nullptr, nullptr, target};
  if (target == nullptr) {
    if (site.gateway() == nullptr || from == site.gateway()) {
      dropped(datagram, site.name(), DropCause::no_route);
      return;
    }
    target = site.gateway();
    next = Hop{Hop::Kind::nat_outbound, nullptr, nullptr, target};
  }
  Link* path = from != nullptr ? path_link(*from, *target) : nullptr;
  if (path != nullptr) {
    traverse(*path, site.name(), std::move(datagram), next);
  } else {
    hop(next, std::move(datagram));
  }
}

void Network::nat_outbound(Nat& nat, Datagram datagram) {
  NatTable& table = nat.table();
  const bool hairpin = datagram.to.ip == nat.ip();
  if (hairpin && !table.config().hairpinning && !table.config().udp_blocked) {
    dropped(datagram, nat.name(), DropCause::nat_no_hairpin);
    return;
  }
  const NatTable::Verdict out = table.outbound(now_, datagram.from, datagram.to);
  if (!out) {
    dropped(datagram, nat.name(), out.cause);
    return;
  }
  datagram.from = *out.address;
  if (!hairpin) {
    traverse(nat.uplink(), nat.name(), std::move(datagram),
             Hop{Hop::Kind::enter_site, &nat.site(), &nat, nullptr});
    return;
  }
  // Hairpinning (RFC 4787 REQ-9): back inside, from the sender's external address.
  const NatTable::Verdict in = table.inbound(now_, datagram.from, datagram.to);
  if (!in) {
    dropped(datagram, nat.name(), in.cause);
    return;
  }
  datagram.to = *in.address;
  enter_site(nat.inside(), &nat, std::move(datagram));
}

void Network::arrive(Attachment& target, Datagram datagram) {
  if (auto* nat = dynamic_cast<Nat*>(&target)) {
    const NatTable::Verdict in = nat->table().inbound(now_, datagram.from, datagram.to);
    if (!in) {
      dropped(datagram, nat->name(), in.cause);
      return;
    }
    datagram.to = *in.address;
    enter_site(nat->inside(), nat, std::move(datagram));
    return;
  }
  auto& host = static_cast<Host&>(target);
  if (!host.is_bound(datagram.to.port)) {
    dropped(datagram, host.name(), DropCause::port_unreachable);
    return;
  }
  // Always through the queue: a node is never re-entered while it is being polled.
  Host* h = &host;
  events_.push(now_, [this, h, datagram = std::move(datagram)] { deliver(*h, datagram); });
}

void Network::deliver(Host& host, const Datagram& datagram) {
  ++host.received_;
  ++delivered_;
  mix(trace_hash_, static_cast<std::uint64_t>((now_ - kEpoch).count()));
  mix(trace_hash_, host.id());
  mix(trace_hash_, datagram.from);
  mix(trace_hash_, datagram.to);
  mix(trace_hash_, datagram.bytes.size());
  mix(trace_hash_, datagram.bytes);
  if (trace_) trace_(TraceEvent{TraceEvent::Kind::delivered, now_, datagram, host.name(), {}});
  host.node().handle_datagram(now_, datagram);
  service(host);
}

// ---- taps ----

TapId Network::add_tap(Site& site, Tap tap) {
  const TapId id = next_tap_++;
  taps_.emplace(id, TapEntry{&site, std::move(tap)});
  return id;
}

void Network::remove_tap(TapId id) { taps_.erase(id); }

void Network::inject(Site& site, Datagram datagram, Duration delay) {
  Site* s = &site;
  events_.push(now_ + std::max(delay, Duration::zero()),
               [this, s, datagram = std::move(datagram)]() mutable {
                 enter_site(*s, nullptr, std::move(datagram));
               });
}

}  // namespace srudp::sim
