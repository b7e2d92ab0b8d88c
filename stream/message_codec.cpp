#include "stream/message_codec.hpp"

#include <algorithm>

#include "wire/buffer.hpp"

namespace srudp::stream {
Result<MessagePrefix> encode_message_prefix(std::uint64_t payload_size) noexcept {
  MessagePrefix prefix;
  auto size = wire::varint::encode(payload_size, prefix.bytes);
  if (!size) return size.error();
  prefix.size = *size;
  return prefix;
}

Result<std::size_t> encode_message(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) {
  const std::size_t total = encoded_message_size(payload.size());
  if (total == 0) return errc::value_out_of_range;
  if (out.size() < total) return errc::buffer_too_small;
  wire::Writer writer(out);
  if (auto ec = writer.write_varint(payload.size())) return ec;
  if (auto ec = writer.write_bytes(payload)) return ec;
  return writer.position();
}

std::error_code append_message(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out) {
  auto prefix = encode_message_prefix(payload.size());
  if (!prefix) return prefix.error();
  out.reserve(out.size() + prefix->size + payload.size());
  out.insert(out.end(), prefix->bytes.begin(),
             prefix->bytes.begin() + static_cast<std::ptrdiff_t>(prefix->size));
  out.insert(out.end(), payload.begin(), payload.end());
  return {};
}

Result<std::uint64_t> decode_message_length(std::span<const std::uint8_t> prefix,
                                            std::size_t max_message_size) noexcept {
  auto decoded = wire::varint::decode(prefix);
  if (!decoded) return decoded.error();
  if (decoded->value > max_message_size) return errc::value_out_of_range;
  return decoded->value;
}

MessageDecoder::MessageDecoder(std::size_t max_message_size)
    : max_message_size_(std::min<std::uint64_t>(max_message_size, wire::varint::kMax)) {}

Result<std::size_t> MessageDecoder::feed(std::span<const std::uint8_t> in) {
  if (error_) return error_;
  if (complete_) return std::size_t{0};
  std::size_t used = 0;
  if (!have_length_) {
    while (used < in.size()) {
      prefix_.bytes[prefix_received_++] = in[used++];
      prefix_.size = message_prefix_size(prefix_.bytes[0]);
      if (prefix_received_ == prefix_.size) break;
    }
    if (prefix_received_ == 0 || prefix_received_ < prefix_.size) return used;
    auto length = decode_message_length(prefix_.span(), max_message_size_);
    if (!length) {
      error_ = length.error();
      return error_;
    }
    length_ = *length;
    have_length_ = true;
  }
  const auto rest = in.subspan(used);
  const std::size_t missing = static_cast<std::size_t>(length_) - body_.size();
  if (body_.empty() && rest.size() >= missing) {
    // The whole payload is in this input: hand it out without copying.
    message_ = rest.first(missing);
    complete_ = true;
    return used + missing;
  }
  const std::size_t take = std::min(missing, rest.size());
  body_.insert(body_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(take));
  if (body_.size() == length_) {
    message_ = body_;
    complete_ = true;
  }
  return used + take;
}

void MessageDecoder::next() noexcept {
  if (!complete_) return;
  complete_ = false;
  message_ = {};
  have_length_ = false;
  length_ = 0;
  prefix_received_ = 0;
  prefix_.size = 0;
  body_.clear();
  if (body_.capacity() > kRetainedCapacity) body_ = std::vector<std::uint8_t>();
}

}  // namespace srudp::stream
