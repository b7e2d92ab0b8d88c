#include "sim/packet_capture.hpp"

#include <stdexcept>
#include <utility>

namespace srudp::sim {

PacketCapture::PacketCapture(Network& network, Site& site,
                             std::function<bool(const Datagram&)> filter)
    : network_(network), site_(site) {
  tap_ = network_.add_tap(site_, [this, filter = std::move(filter)](Instant now, Datagram& d) {
    if (!filter || filter(d)) packets_.push_back(Packet{now, d});
    return TapVerdict::pass;
  });
}

PacketCapture::~PacketCapture() { network_.remove_tap(tap_); }

void PacketCapture::replay(std::size_t index, Duration delay) {
  if (index >= packets_.size()) throw std::out_of_range("PacketCapture::replay: no such packet");
  network_.inject(site_, packets_[index].datagram, delay);
}

}  // namespace srudp::sim
