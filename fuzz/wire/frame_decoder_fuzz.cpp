// Feeds arbitrary decrypted payloads to the frame decoder. Every decoded frame must re-encode to
// a frame that decodes to the same value; when the re-encoding has the size of the input it
// came from, it must be the very same bytes (the only non-canonical form srudp accepts is a
// STREAM frame with the OFF bit and offset 0, which re-encodes shorter).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "wire/frame.hpp"

namespace {

using namespace srudp::wire;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> payload(data, size);
  std::size_t frames = 0;
  const std::error_code parse_result = parse_frames(payload, [&](Frame&&) { ++frames; });
  if (payload.empty()) {
    require(parse_result == srudp::errc::empty_not_allowed);
    return 0;
  }

  Reader reader(payload);
  std::size_t decoded = 0;
  std::vector<std::uint8_t> out;
  while (!reader.empty()) {
    const std::size_t start = reader.position();
    auto frame = decode_frame(reader);
    if (!frame) {
      require(parse_result == frame.error());
      return 0;
    }
    ++decoded;
    require(reader.position() > start);
    const auto consumed = payload.subspan(start, reader.position() - start);
    if (auto* ack = std::get_if<Ack>(&*frame)) require(ack->ranges.size() <= kMaxAckRanges);

    out.assign(encoded_size(*frame), 0xa5);
    Writer writer(out);
    require(!encode_frame(*frame, writer));
    require(writer.position() == out.size());
    Reader again(out);
    auto redecoded = decode_frame(again);
    require(redecoded.has_value() && again.empty() && *redecoded == *frame);
    if (out.size() == consumed.size()) {
      require(std::memcmp(out.data(), consumed.data(), out.size()) == 0);
    }
  }
  require(!parse_result && decoded == frames);
  return 0;
}
