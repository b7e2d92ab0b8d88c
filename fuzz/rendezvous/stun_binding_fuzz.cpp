// Feeds arbitrary datagrams to the STUN decoder and the Binding responder, as each source family
// and with RFC 3489 answering on and off. A reply is never larger than the request (RFC 3489:
// at most kRfc3489Allowance more), always decodes, and names the source it was sent to.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rendezvous/stun_binding.hpp"
#include "rendezvous/stun_message.hpp"

namespace {

using namespace srudp;
using namespace srudp::rendezvous;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> d(data, size);
  const auto decoded = decode_stun_message(d);
  if (decoded) {
    for (const auto& a : decoded->attributes) {
      require(a.value.empty() || (a.value.data() >= d.data() && a.value.data() + a.value.size() <= d.data() + d.size()));
    }
  }
  const SocketAddress sources[] = {SocketAddress::v4(198, 51, 100, 9, 39841),
                                   *SocketAddress::parse("[2001:db8::9]:40000")};
  for (const auto& source : sources) {
    for (const bool legacy : {false, true}) {
      std::vector<std::uint8_t> out(1500);
      const auto answer = answer_stun_binding(d, source, out, StunBindingRules{.answer_rfc3489 = legacy});
      using K = StunAnswer::Kind;
      if (answer.kind != K::success && answer.kind != K::error) {
        require(answer.size == 0);
        continue;
      }
      require(decoded.has_value());
      const bool rfc3489 = !decoded->has_magic_cookie();
      require(answer.size <= d.size() + (rfc3489 ? kRfc3489Allowance : 0));
      require(!rfc3489 || legacy);
      const auto reply = decode_stun_message(std::span(out).first(answer.size));
      require(reply.has_value());
      require(reply->id_field == decoded->id_field);
      if (answer.kind == K::error) {
        require(reply->type == stun_type::binding_error);
        continue;
      }
      require(reply->type == stun_type::binding_success);
      if (rfc3489) {
        const auto* m = reply->find(stun_attribute::mapped_address);
        require(m != nullptr && decode_mapped_address(m->value) == source);
      } else {
        const auto* x = reply->find(stun_attribute::xor_mapped_address);
        require(x != nullptr && decode_xor_mapped_address(x->value, reply->id_field) == source);
        const auto read = read_stun_binding_response(std::span(out).first(answer.size), decoded->transaction_id());
        require(read.has_value() && *read == source);
      }
    }
  }
  if (size >= 20) {
    StunTransactionId id{};
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = data[8 + i];
    (void)read_stun_binding_response(d, id);
  }
  return 0;
}
