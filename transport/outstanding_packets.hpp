// What the sender remembers of one packet it sent, and the packets it sent that are neither
// acknowledged nor declared lost, by number.
//
// Packet numbers only grow, and packets leave mostly oldest first (ACKs, losses), so the record is
// a ring indexed by packet number from the oldest outstanding one: recording, finding and taking
// a packet cost O(1), and nothing is allocated per packet once the ring has grown to the window.
// Numbers never sent (skipped on purpose) and packets already taken are empty slots; the ring
// never starts with one, so its length is the span from the oldest outstanding packet to the
// newest, which loss detection keeps to about a window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

#include "common/deque.hpp"
#include "common/time.hpp"
#include "transport/delivery_rate.hpp"

namespace srudp::transport {

struct SentPacket {
  std::uint64_t packet_number = 0;
  Instant time_sent{};
  std::size_t size = 0;         // bytes on the wire; counted in bytes_in_flight when in_flight
  bool ack_eliciting = false;   // carries a frame other than ACK, PADDING (and CLOSE)
  bool in_flight = false;       // ack-eliciting or padding: counts against the congestion window
  // Largest Acknowledged of the ACK frame this packet carried, if any: once this packet is
  // acknowledged, the receiver side may stop reporting what that ACK covered (ACK of ACKs).
  std::optional<std::uint64_t> ack_frame_largest;
  // Opaque handles the connection attaches, consecutive numbers first_frame .. first_frame +
  // frame_count - 1 (indices into its record of sent frames): what to resend when the packet is
  // lost, what is delivered when it is acknowledged. A range, so a sent packet allocates nothing.
  std::uint64_t first_frame = 0;
  std::uint32_t frame_count = 0;
  // Filled in by SentPackets: the delivery counters when an in-flight packet was sent, and, once
  // it is acknowledged, the rate sample it yields (none for packets not in flight).
  DeliverySnapshot delivery;
  std::optional<RateSample> rate_sample;
};

class OutstandingPackets {
  struct Slot {
    Slot() = default;  // a number never sent
    explicit Slot(const SentPacket& p) : present(true), packet(p) {}
    bool present = false;
    SentPacket packet;
  };

 public:
  // When the ring empties with room for more than twice this many slots, its memory is traded for
  // about this many, so an idle connection does not keep a bulk transfer's window of slots.
  static constexpr std::size_t kMaxIdleSlots = 64;

  // Ascending packet numbers; dereferences to (number, packet).
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;  // * yields a pair by value
    using value_type = std::pair<std::uint64_t, const SentPacket&>;
    using difference_type = std::ptrdiff_t;

    value_type operator*() const { return {owner_->first_ + index_, owner_->slots_[index_].packet}; }
    const_iterator& operator++() {
      ++index_;
      skip_empty();
      return *this;
    }
    bool operator==(const const_iterator& other) const { return index_ == other.index_; }

   private:
    friend class OutstandingPackets;
    const_iterator(const OutstandingPackets* owner, std::size_t index) : owner_(owner), index_(index) {
      skip_empty();
    }
    void skip_empty() {
      while (index_ < owner_->slots_.size() && !owner_->slots_[index_].present) ++index_;
    }
    const OutstandingPackets* owner_;
    std::size_t index_;
  };

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, slots_.size()}; }
  // The oldest and the newest outstanding numbers; only when not empty.
  std::uint64_t first_number() const { return first_; }
  std::uint64_t last_number() const { return first_ + slots_.size() - 1; }
  // Slots the ring has memory for (for tests).
  std::size_t capacity() const { return slots_.capacity(); }

  // nullptr when `pn` is not outstanding.
  const SentPacket* find(std::uint64_t pn) const;
  SentPacket* find(std::uint64_t pn) {
    return const_cast<SentPacket*>(static_cast<const OutstandingPackets&>(*this).find(pn));
  }
  // The packet `pn`, which must be outstanding (for tests).
  const SentPacket& at(std::uint64_t pn) const { return *find(pn); }

  // Records a copy of `packet`, whose number must be above every number recorded so far, and
  // returns the copy.
  SentPacket& push_back(const SentPacket& packet);
  // Removes outstanding packet `pn` and returns it; nullopt if it is not outstanding.
  std::optional<SentPacket> take(std::uint64_t pn);
  // Removes outstanding packet `pn` without copying it out; false if it is not outstanding.
  bool erase(std::uint64_t pn);

 private:
  Deque<Slot> slots_;
  std::uint64_t first_ = 0;  // the number of slots_.front()
  std::size_t count_ = 0;    // present slots
};

}  // namespace srudp::transport
