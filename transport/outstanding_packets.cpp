#include "transport/outstanding_packets.hpp"

namespace srudp::transport {

const SentPacket* OutstandingPackets::find(std::uint64_t pn) const {
  if (count_ == 0 || pn < first_ || pn - first_ >= slots_.size()) return nullptr;
  const Slot& slot = slots_[static_cast<std::size_t>(pn - first_)];
  return slot.present ? &slot.packet : nullptr;
}

SentPacket& OutstandingPackets::push_back(const SentPacket& packet) {
  const std::uint64_t pn = packet.packet_number;
  if (count_ == 0) first_ = pn;  // an empty ring holds no slots: it starts here
  // Numbers skipped on purpose between the newest and this one: empty slots.
  while (first_ + slots_.size() < pn) slots_.emplace_back();
  ++count_;
  return slots_.emplace_back(packet).packet;
}

std::optional<SentPacket> OutstandingPackets::take(std::uint64_t pn) {
  SentPacket* p = find(pn);
  if (p == nullptr) return std::nullopt;
  std::optional<SentPacket> out(std::move(*p));
  erase(pn);
  return out;
}

bool OutstandingPackets::erase(std::uint64_t pn) {
  if (find(pn) == nullptr) return false;
  slots_[static_cast<std::size_t>(pn - first_)].present = false;
  --count_;
  // The ring starts at the oldest outstanding packet.
  while (!slots_.empty() && !slots_.front().present) {
    slots_.pop_front();
    ++first_;
  }
  release_if_emptied(slots_, kMaxIdleSlots);
  return true;
}

}  // namespace srudp::transport
