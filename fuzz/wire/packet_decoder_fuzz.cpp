// Feeds arbitrary datagrams to every packet-header decoder. A successful decode must re-encode to
// the same bytes (the header encodings are canonical; Handshake padding and the Initiation MACs
// are the only bytes the encoder does not reproduce).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "wire/packet.hpp"

namespace {

using namespace srudp::wire;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void check_initiation(std::span<const std::uint8_t> d) {
  auto p = decode_initiation(d);
  if (!p) return;
  require(d.size() >= kMinInitiationSize);
  require(same(p->mac1_covered, initiation_mac1_input(d)));
  require(same(p->mac2_covered, initiation_mac2_input(d)));
  std::vector<std::uint8_t> out(d.size());
  auto n = encode_initiation(p->version, p->sender_cid, p->noise_message, out, d.size());
  require(n.has_value() && *n == d.size());
  require(same(std::span(out).first(d.size() - 2 * kMacSize), p->mac1_covered));
}

void check_handshake(std::span<const std::uint8_t> d) {
  auto p = decode_handshake(d);
  if (!p) return;
  std::vector<std::uint8_t> out(d.size());
  auto n = encode_handshake(*p, out);
  require(n.has_value() && *n <= d.size());
  require(same(std::span(out).first(*n), d.first(*n)));
}

void check_cookie_reply(std::span<const std::uint8_t> d) {
  auto p = decode_cookie_reply(d);
  if (!p) return;
  std::uint8_t out[kCookieReplySize];
  auto n = encode_cookie_reply(*p, out);
  require(n.has_value() && same(out, d));
}

void check_data_header(std::span<const std::uint8_t> d) {
  auto h = decode_data_header(d);
  if (!h) return;
  require(h->header_size + kAeadTagSize <= d.size());
  std::uint8_t out[32];
  auto n = encode_data_header(*h, out);
  require(n.has_value() && *n == h->header_size);
  require(same(std::span(out, *n), d.first(*n)));
  // Whatever the receiver's state, the recovered number keeps the transmitted low bits.
  const unsigned bits = 8u * h->pn_length;
  std::uint64_t largest = 0;
  std::memcpy(&largest, d.data() + 1, sizeof largest);
  largest &= kMaxPacketNumber;
  const std::uint64_t pn = decode_packet_number(largest, h->truncated_pn, bits);
  if (bits < 64) require((pn & ((std::uint64_t{1} << bits) - 1)) == h->truncated_pn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> d(data, size);
  auto type = peek_packet_type(d);
  (void)peek_version(d);
  check_initiation(d);
  check_handshake(d);
  check_cookie_reply(d);
  check_data_header(d);
  if (type) {
    // The type byte alone decides which decoder can accept the datagram.
    require(decode_initiation(d).has_value() <= (*type == PacketType::Initiation));
    require(decode_handshake(d).has_value() <= (*type == PacketType::Handshake));
    require(decode_cookie_reply(d).has_value() <= (*type == PacketType::CookieReply));
    require(decode_data_header(d).has_value() <= (*type == PacketType::Data));
  }
  return 0;
}
