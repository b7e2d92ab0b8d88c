#include "rendezvous/lobby.hpp"

namespace srudp::rendezvous {

LobbyJoin Lobby::join(Instant now, std::string_view token, RdvMethod method, const IpBytes& source) {
  LobbyJoin result;
  if (closed_) {
    result.outcome = LobbyJoin::Outcome::closed;
    return result;
  }
  const std::string key(token);
  const auto slots = by_token_.find(key);
  if (slots != by_token_.end()) {
    if (const auto waiting = slots->second.of(opposite(method))) {
      const LobbyTicket peer = *waiting;
      remove(peer);
      result.outcome = LobbyJoin::Outcome::paired;
      result.ticket = next_ticket_++;
      result.dialer = method == RdvMethod::dial ? result.ticket : peer;
      result.acceptor = method == RdvMethod::dial ? peer : result.ticket;
      return result;
    }
  }

  // The joiner waits. Count the caps as if the waiter it replaces had already left.
  const IpBytes key_of_source = source_key(source);
  std::optional<LobbyTicket> replaced;
  if (slots != by_token_.end()) replaced = slots->second.of(method);
  std::size_t total = entries_.size();
  std::size_t from_source = waiting_from(source);
  if (replaced) {
    --total;
    if (entries_.at(*replaced).source_key == key_of_source) --from_source;
  }
  if (total >= limits_.max_waiting || from_source >= limits_.max_waiting_per_source) {
    result.outcome = LobbyJoin::Outcome::full;
    return result;
  }
  if (replaced) remove(*replaced);

  const LobbyTicket ticket = next_ticket_++;
  const Instant deadline = now + limits_.timeout;
  entries_.emplace(ticket, Entry{key, method, key_of_source, deadline});
  by_token_[key].of(method) = ticket;
  deadlines_.emplace(deadline, ticket);
  ++per_source_[key_of_source];
  result.outcome = LobbyJoin::Outcome::waiting;
  result.ticket = ticket;
  result.replaced = replaced;
  return result;
}

bool Lobby::leave(LobbyTicket ticket) {
  if (!entries_.contains(ticket)) return false;
  remove(ticket);
  return true;
}

std::optional<Instant> Lobby::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<LobbyTicket> Lobby::expire(Instant now) {
  std::vector<LobbyTicket> expired;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const LobbyTicket ticket = deadlines_.begin()->second;
    remove(ticket);
    expired.push_back(ticket);
  }
  return expired;
}

std::vector<LobbyTicket> Lobby::close() {
  closed_ = true;
  std::vector<LobbyTicket> all;
  all.reserve(entries_.size());
  for (const auto& [deadline, ticket] : deadlines_) all.push_back(ticket);
  entries_.clear();
  by_token_.clear();
  deadlines_.clear();
  per_source_.clear();
  return all;
}

std::size_t Lobby::waiting_from(const IpBytes& source) const {
  const auto it = per_source_.find(source_key(source));
  return it == per_source_.end() ? 0 : it->second;
}

void Lobby::remove(LobbyTicket ticket) {
  const auto it = entries_.find(ticket);
  if (it == entries_.end()) return;
  const Entry& entry = it->second;
  const auto slots = by_token_.find(entry.token);
  if (slots != by_token_.end()) {
    auto& slot = slots->second.of(entry.method);
    if (slot == ticket) slot.reset();
    if (!slots->second.dialer && !slots->second.acceptor) by_token_.erase(slots);
  }
  deadlines_.erase({entry.deadline, ticket});
  const auto count = per_source_.find(entry.source_key);
  if (count != per_source_.end() && --count->second == 0) per_source_.erase(count);
  entries_.erase(it);
}

}  // namespace srudp::rendezvous
