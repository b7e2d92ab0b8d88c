// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation): how fast the path has
// been delivering this connection's data, measured per acknowledged packet, for model-based
// congestion control (BBR). Each in-flight packet takes a snapshot of the connection's delivery
// counters when it is sent; when it is acknowledged, the bytes delivered since divided by the
// elapsed time is a rate sample. The interval is the longer of the send interval and the ACK
// interval, so ACK compression (ACKs bunched on the way back) cannot inflate the rate beyond the
// rate the packets were sent at, and a burst sent faster than the path drains cannot either.
//
// Samples taken while the sender was application-limited (it had nothing to send, so the rate
// shows what it offered rather than what the path can carry) are marked, from the moment the
// sender runs dry until the packets in flight at that moment are all delivered.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.hpp"
#include "transport/congestion_controller.hpp"

namespace srudp::transport {

// The connection's delivery state when a packet was sent (the draft's P.delivered,
// P.delivered_time, P.first_sent_time and P.is_app_limited).
struct DeliverySnapshot {
  std::uint64_t delivered = 0;  // bytes delivered (acknowledged) before the packet was sent
  Instant delivered_time{};     // when the most recent of those bytes were acknowledged
  Instant first_sent_time{};    // send time of the packet acknowledged last at that moment
  bool is_app_limited = false;  // sent while the sender was application-limited
};

class DeliveryRateEstimator {
 public:
  // A packet that counts towards bytes in flight is sent at `now`; bytes_in_flight_before excludes
  // it. Returns the snapshot to keep with the packet. Sending with nothing in flight restarts both
  // intervals here, so an idle period does not dilute the next samples.
  DeliverySnapshot on_packet_sent(Instant now, std::uint64_t bytes_in_flight_before);

  // A packet of `bytes` sent at `sent_time` with `snapshot` is acknowledged at `now` (call in send
  // order for the packets one ACK acknowledges). Returns the rate sample it yields, or nullopt when
  // its interval is zero. Consumers may also discard samples whose interval is shorter than the
  // minimum RTT (the draft does; such a sample can only come from a spuriously retransmitted or
  // reordered packet and overstates the rate).
  std::optional<RateSample> on_packet_acked(Instant now, const DeliverySnapshot& snapshot, Instant sent_time,
                                            std::uint64_t bytes);

  // The sender has nothing to send (or may not send it: flow control) although its window has
  // room: mark packets sent from now on as app-limited until everything in flight now is delivered.
  void on_app_limited(std::uint64_t bytes_in_flight);

  std::uint64_t delivered() const { return delivered_; }
  bool is_app_limited() const { return app_limited_until_ != 0; }

 private:
  std::uint64_t delivered_ = 0;
  Instant delivered_time_{};
  Instant first_sent_time_{};
  // The value of delivered_ after which the app-limited bubble has left the network; 0: none.
  std::uint64_t app_limited_until_ = 0;
};

}  // namespace srudp::transport
