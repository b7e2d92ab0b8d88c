#include "transport/delivery_rate.hpp"

#include <algorithm>

namespace srudp::transport {

DeliverySnapshot DeliveryRateEstimator::on_packet_sent(Instant now, std::uint64_t bytes_in_flight_before) {
  if (bytes_in_flight_before == 0) {
    first_sent_time_ = now;
    delivered_time_ = now;
  }
  return DeliverySnapshot{delivered_, delivered_time_, first_sent_time_, app_limited_until_ != 0};
}

std::optional<RateSample> DeliveryRateEstimator::on_packet_acked(Instant now, const DeliverySnapshot& snapshot,
                                                                 Instant sent_time, std::uint64_t bytes) {
  delivered_ += bytes;
  delivered_time_ = now;
  // The next packet's send interval starts at this one's send time (the draft's C.first_sent_time).
  first_sent_time_ = std::max(first_sent_time_, sent_time);
  if (app_limited_until_ != 0 && delivered_ > app_limited_until_) app_limited_until_ = 0;

  RateSample sample;
  sample.delivered_bytes = delivered_ - snapshot.delivered;
  sample.prior_delivered = snapshot.delivered;
  sample.delivered = delivered_;
  sample.is_app_limited = snapshot.is_app_limited;
  sample.send_elapsed = std::max(sent_time - snapshot.first_sent_time, Duration::zero());
  sample.ack_elapsed = std::max(now - snapshot.delivered_time, Duration::zero());
  sample.interval = std::max(sample.send_elapsed, sample.ack_elapsed);
  if (sample.interval <= Duration::zero()) return std::nullopt;
  return sample;
}

void DeliveryRateEstimator::on_app_limited(std::uint64_t bytes_in_flight) {
  // Never 0, which means "not app-limited".
  app_limited_until_ = std::max<std::uint64_t>(delivered_ + bytes_in_flight, 1);
}

}  // namespace srudp::transport
