// Connection IDs: 8 opaque bytes chosen by the receiver, so it can find the connection for a
// datagram without looking at the source address (which changes when a NAT rebinds).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace srudp::wire {

inline constexpr std::size_t kConnectionIdSize = 8;
using ConnectionId = std::array<std::uint8_t, kConnectionIdSize>;

}  // namespace srudp::wire
