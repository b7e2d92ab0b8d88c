// srudp error codes, usable as std::error_code (category "srudp").
#pragma once

#include <string>
#include <system_error>

namespace srudp {

enum class errc {
  // Decoding (wire format)
  truncated = 1,            // input ends before the field it must hold
  non_minimal_varint,       // a variable-length integer encoded longer than necessary
  value_out_of_range,       // a field's value is outside what the protocol allows
  length_past_end,          // a length field points past the end of the input
  unknown_packet_type,
  unknown_frame_type,
  empty_not_allowed,        // a zero-length field or frame where the protocol forbids it
  malformed,                // any other structural error
  buffer_too_small,         // the caller's output buffer cannot hold the encoding
  // Cryptography and handshake
  decrypt_failed,           // AEAD authentication failed (forged, corrupted, reflected or wrong key)
  replayed,                 // packet number already seen or too old for the replay window
  bad_mac,                  // MAC1/MAC2 of a handshake packet does not verify
  cookie_required,          // responder under load: resend with a cookie (MAC2)
  unsupported_version,
  handshake_failed,         // the Noise handshake could not be completed
  handshake_timeout,        // no valid handshake response (peer unreachable, or wrong PSK)
  peer_key_mismatch,        // peer's static key differs from the pinned one
  peer_key_missing,         // peer did not present a static key but one is required
  insecure_key_file,        // a key file readable by others (must be 0600) or owned by another user
  key_limit_reached,        // packet-number or key-usage limit: refusing to send
  unexpected_packet,        // valid packet at a point in the protocol where it is not expected
  invalid_state,            // API called in a state where it is not allowed
  invalid_argument,
  // Connection
  connection_closed,
  connection_timed_out,
  protocol_violation,
  flow_control_error,        // peer sent beyond the limit we advertised
  final_size_error,          // peer changed a stream's final size or sent past it
  io_error,
  // Streams
  stream_limit_reached,      // the peer's MAX_STREAMS allows no new stream now: wait for streams_available
  stream_reset,              // the peer reset the stream (RESET_STREAM): its data was discarded
  stream_stopped,            // the sending side is over: reset by us, or at the peer's STOP_SENDING
  unknown_stream,            // no such stream was ever opened (by either side)
  // Rendezvous (rdv)
  rendezvous_refused,        // the rdv server refused the request (400, 404, 426, 500)
  no_peer_found,             // 408: no peer came with this token within the server's lobby timeout
  replaced_by_newer_peer,    // 409: a newer client with the same token and role took our place
  server_unavailable,        // 503: the server is shutting down or over its limits
  no_path,                   // no path to the peer: punching failed and the policy allows no relay
  relay_lost,                // the relay connection to the rdv server closed or failed
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace srudp

template <>
struct std::is_error_code_enum<srudp::errc> : std::true_type {};
