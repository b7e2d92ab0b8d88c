// Feeds an arbitrary byte stream to the relay frame reader, cut into TCP-like pieces whose sizes
// the input chooses, and checks it against a naive model that reads the whole stream at once: the
// same datagrams in the same order (keepalives skipped), malformed exactly when the model meets a
// frame over kMaxRelayDatagram, and never more buffered than was fed and not yet handed out.
// Every datagram handed out is also framed again and read back unchanged.
//
// Input: [cut seed byte] then the stream. Piece sizes come from the seed byte and the stream.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rendezvous/relay_framing.hpp"

namespace {

using namespace srudp::rendezvous;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

struct Model {
  std::vector<std::vector<std::uint8_t>> datagrams;
  bool malformed = false;
  std::size_t consumed = 0;  // bytes of whole frames read
};

Model read_whole(std::span<const std::uint8_t> stream) {
  Model m;
  std::size_t at = 0;
  while (stream.size() - at >= kRelayFrameHeader) {
    const std::size_t length = std::size_t{stream[at]} << 8 | stream[at + 1];
    if (length > kMaxRelayDatagram) {
      m.malformed = true;
      break;
    }
    if (stream.size() - at - kRelayFrameHeader < length) break;
    if (length > 0) m.datagrams.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(at + kRelayFrameHeader),
                                             stream.begin() + static_cast<std::ptrdiff_t>(at + kRelayFrameHeader + length));
    at += kRelayFrameHeader + length;
  }
  m.consumed = at;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::span<const std::uint8_t> stream(data + 1, size - 1);
  const Model model = read_whole(stream);

  RelayFrameReader reader;
  std::vector<std::vector<std::uint8_t>> got;
  bool malformed = false;
  std::size_t fed = 0, handed_out = 0;
  std::uint32_t cut = seed | 1u;
  while (fed < stream.size() && !malformed) {
    cut = cut * 1103515245u + 12345u;  // the piece sizes: 1 .. 3000 bytes, chosen by the seed
    const std::size_t piece = std::min<std::size_t>(stream.size() - fed, 1 + (cut >> 16) % 3000);
    reader.feed(stream.subspan(fed, piece));
    fed += piece;
    for (;;) {
      const auto frame = reader.next();
      if (frame.kind == RelayFrameReader::Frame::Kind::need_more) break;
      if (frame.kind == RelayFrameReader::Frame::Kind::malformed) {
        malformed = true;
        require(reader.next().kind == RelayFrameReader::Frame::Kind::malformed);  // it stays so
        break;
      }
      require(!frame.datagram.empty() && frame.datagram.size() <= kMaxRelayDatagram);
      got.emplace_back(frame.datagram.begin(), frame.datagram.end());
      handed_out += kRelayFrameHeader + frame.datagram.size();
    }
    require(malformed || reader.buffered() <= fed - handed_out);
  }
  require(malformed == model.malformed);
  require(got == model.datagrams);

  // Framing what came out and reading it back gives the same datagrams.
  std::vector<std::uint8_t> again;
  for (const auto& d : got) require(!append_relay_frame(d, again));
  require(!append_relay_frame({}, again));  // a keepalive, skipped by the reader
  RelayFrameReader echo;
  echo.feed(again);
  for (const auto& d : got) {
    const auto frame = echo.next();
    require(frame.kind == RelayFrameReader::Frame::Kind::datagram);
    require(std::vector<std::uint8_t>(frame.datagram.begin(), frame.datagram.end()) == d);
  }
  require(echo.next().kind == RelayFrameReader::Frame::Kind::need_more);
  require(echo.buffered() == 0);
  return 0;
}
