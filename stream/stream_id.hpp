// Stream ids, as in QUIC (RFC 9000 section 2.1): bit 0 says who opened the stream (0 client, 1
// server), bit 1 its direction (0 bidirectional, 1 unidirectional); the rest counts the streams
// of that kind, so each endpoint and direction has its own sequence 0, 4, 8 ...
#pragma once

#include <cstdint>

namespace srudp::stream {

enum class StreamDirection { bidirectional, unidirectional };

enum class Role { client, server };

constexpr bool is_client_initiated(std::uint64_t id) noexcept { return (id & 1) == 0; }
constexpr bool is_unidirectional(std::uint64_t id) noexcept { return (id & 2) != 0; }
constexpr StreamDirection direction_of(std::uint64_t id) noexcept {
  return is_unidirectional(id) ? StreamDirection::unidirectional : StreamDirection::bidirectional;
}
// The position of the stream in its initiator's sequence for its direction.
constexpr std::uint64_t stream_index(std::uint64_t id) noexcept { return id >> 2; }

constexpr std::uint64_t make_stream_id(std::uint64_t index, Role initiator, StreamDirection direction) noexcept {
  return (index << 2) | (direction == StreamDirection::unidirectional ? 2u : 0u) |
         (initiator == Role::server ? 1u : 0u);
}

constexpr bool is_local(std::uint64_t id, Role self) noexcept { return is_client_initiated(id) == (self == Role::client); }
// Which halves `self` has: a unidirectional stream only sends at its initiator, only receives at
// the other end.
constexpr bool can_send(std::uint64_t id, Role self) noexcept { return !is_unidirectional(id) || is_local(id, self); }
constexpr bool can_receive(std::uint64_t id, Role self) noexcept {
  return !is_unidirectional(id) || !is_local(id, self);
}

}  // namespace srudp::stream
