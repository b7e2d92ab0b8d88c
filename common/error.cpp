#include "srudp/error.hpp"

namespace srudp {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "srudp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::truncated: return "input truncated";
      case errc::non_minimal_varint: return "variable-length integer not minimally encoded";
      case errc::value_out_of_range: return "value out of range";
      case errc::length_past_end: return "length field points past the end of the input";
      case errc::unknown_packet_type: return "unknown packet type";
      case errc::unknown_frame_type: return "unknown frame type";
      case errc::empty_not_allowed: return "zero-length field not allowed here";
      case errc::malformed: return "malformed input";
      case errc::buffer_too_small: return "output buffer too small";
      case errc::decrypt_failed: return "packet authentication failed";
      case errc::replayed: return "replayed or too old packet";
      case errc::bad_mac: return "handshake packet MAC does not verify";
      case errc::cookie_required: return "responder under load: cookie required";
      case errc::unsupported_version: return "unsupported protocol version";
      case errc::handshake_failed: return "handshake failed";
      case errc::handshake_timeout:
        return "handshake timed out: no valid response (peer unreachable or wrong pre-shared key)";
      case errc::peer_key_mismatch: return "peer's identity key does not match the pinned key";
      case errc::peer_key_missing: return "peer presented no identity key but one is required";
      case errc::insecure_key_file:
        return "key file is accessible to other users or owned by someone else (want mode 0600)";
      case errc::key_limit_reached: return "packet protection key usage limit reached";
      case errc::unexpected_packet: return "packet not expected in this state";
      case errc::invalid_state: return "operation not allowed in this state";
      case errc::invalid_argument: return "invalid argument";
      case errc::connection_closed: return "connection closed";
      case errc::connection_timed_out: return "connection timed out";
      case errc::protocol_violation: return "peer violated the protocol";
      case errc::flow_control_error: return "peer exceeded the advertised flow-control limit";
      case errc::final_size_error: return "peer changed a stream's final size or sent past it";
      case errc::io_error: return "I/O error";
      case errc::stream_limit_reached:
        return "stream limit reached: the peer allows no new stream until it raises its limit";
      case errc::stream_reset: return "stream reset by the peer: its unread data was discarded";
      case errc::stream_stopped:
        return "stream stopped: its sending side was reset (by us, or at the peer's request)";
      case errc::unknown_stream: return "no stream with this id was ever opened";
      case errc::rendezvous_refused: return "the rendezvous server refused the request";
      case errc::no_peer_found: return "no peer came with this token before the rendezvous server's lobby timeout";
      case errc::replaced_by_newer_peer: return "replaced by a newer client with the same token and role";
      case errc::server_unavailable: return "the rendezvous server is shutting down or over its limits";
      case errc::no_path: return "no path to the peer: hole punching failed and the policy allows no relay";
      case errc::relay_lost: return "the relay connection through the rendezvous server was lost";
    }
    return "unknown srudp error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace srudp
