#include "rendezvous/relay_framing.hpp"

#include <algorithm>

namespace srudp::rendezvous {

SocketAddress relay_path_address() {
  std::array<std::uint8_t, 16> ip{};
  ip[0] = 0x01;  // 100::
  return SocketAddress::v6(ip, 1);
}

bool is_relay_path_address(const SocketAddress& address) {
  const SocketAddress relay = relay_path_address();
  return std::equal(relay.ip.begin(), relay.ip.begin() + 8, address.ip.begin());  // 100::/64
}

std::error_code append_relay_frame(std::span<const std::uint8_t> datagram, std::vector<std::uint8_t>& out) {
  if (datagram.size() > kMaxRelayDatagram) return errc::invalid_argument;
  out.push_back(static_cast<std::uint8_t>(datagram.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(datagram.size() & 0xff));
  out.insert(out.end(), datagram.begin(), datagram.end());
  return {};
}

void RelayFrameReader::feed(std::span<const std::uint8_t> bytes) {
  if (malformed_) return;
  if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() / 2)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

RelayFrameReader::Frame RelayFrameReader::next() {
  using Kind = Frame::Kind;
  for (;;) {
    if (malformed_) return {Kind::malformed, {}};
    if (buffered() < kRelayFrameHeader) return {Kind::need_more, {}};
    const std::size_t length = std::size_t{buffer_[start_]} << 8 | buffer_[start_ + 1];
    if (length > kMaxRelayDatagram) {
      malformed_ = true;
      buffer_.clear();
      start_ = 0;
      continue;
    }
    if (buffered() < kRelayFrameHeader + length) return {Kind::need_more, {}};
    const std::span<const std::uint8_t> datagram(buffer_.data() + start_ + kRelayFrameHeader, length);
    start_ += kRelayFrameHeader + length;
    if (length == 0) continue;  // keepalive
    return {Kind::datagram, datagram};
  }
}

}  // namespace srudp::rendezvous
