// Two checks of the message framing on every input:
//  1. Round trip: the input describes messages; encoded back to back and fed to a MessageDecoder in
//     chunks of input-chosen sizes, they must come out identical, up to the first one above the
//     maximum size, which must fail with value_out_of_range before any of its payload is taken.
//  2. Hostile stream: the raw input is fed as a byte stream. Every message the decoder yields must
//     fit the maximum and re-encode to exactly the bytes it consumed (the framing is canonical),
//     errors are only non_minimal_varint / value_out_of_range, and memory follows the bytes that
//     arrived, never an announced length.
//
// Input: 1 byte maximum-size selector, 1 byte chunk-size seed, then messages, each a 2-byte length
// (mod 4096) and that many bytes (bytes missing at the end of the input read as zero); at most 64.
#include "stream/message_codec.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using srudp::stream::MessageDecoder;
using Bytes = std::vector<std::uint8_t>;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}
  bool empty() const { return pos_ >= data_.size(); }
  std::uint8_t next() { return pos_ < data_.size() ? data_[pos_++] : 0; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

// Deterministic chunk sizes 1..max_chunk (a small LCG seeded from the input).
class ChunkSizes {
 public:
  ChunkSizes(std::uint8_t seed, std::size_t max_chunk)
      : state_(std::uint64_t{seed} * 2654435761u + 1), max_(max_chunk) {}
  std::size_t next() {
    state_ = state_ * 6364136223846793005u + 1442695040888963407u;
    return 1 + static_cast<std::size_t>((state_ >> 33) % max_);
  }

 private:
  std::uint64_t state_;
  std::size_t max_;
};

void round_trip(std::size_t max_size, std::uint8_t seed, Reader& input) {
  std::vector<Bytes> messages;
  Bytes stream;
  while (!input.empty() && messages.size() < 64) {
    const std::size_t size = ((std::size_t{input.next()} << 8) | input.next()) % 4096;
    Bytes message(size);
    for (auto& b : message) b = input.next();
    check(!srudp::stream::append_message(message, stream));
    messages.push_back(std::move(message));
  }
  // Where decoding must stop: the first message above the maximum.
  const auto too_big = std::find_if(messages.begin(), messages.end(),
                                    [&](const Bytes& m) { return m.size() > max_size; });
  const auto expected_count = static_cast<std::size_t>(too_big - messages.begin());

  MessageDecoder decoder(max_size);
  ChunkSizes chunks(seed, 1 + std::size_t{seed} % 64 * 50);
  std::vector<Bytes> got;
  std::span<const std::uint8_t> rest(stream);
  bool failed = false;
  while (!rest.empty() && !failed) {
    auto chunk = rest.first(std::min(rest.size(), chunks.next()));
    rest = rest.subspan(chunk.size());
    while (!chunk.empty()) {
      auto used = decoder.feed(chunk);
      if (!used) {
        check(used.error() == srudp::errc::value_out_of_range);
        failed = true;
        break;
      }
      chunk = chunk.subspan(*used);
      if (decoder.has_message()) {
        got.emplace_back(decoder.message().begin(), decoder.message().end());
        decoder.next();
      }
      check(decoder.buffered_bytes() <= srudp::wire::varint::kMaxSize + max_size);
    }
  }
  check(failed == (too_big != messages.end()));
  check(got.size() == expected_count);
  check(std::equal(got.begin(), got.end(), messages.begin()));
  if (!failed) check(decoder.buffered_bytes() == 0);
}

void hostile_stream(std::size_t max_size, std::uint8_t seed, std::span<const std::uint8_t> stream) {
  MessageDecoder decoder(max_size);
  ChunkSizes chunks(seed, 1 + std::size_t{seed} % 16 * 20);
  std::size_t consumed = 0;        // bytes of `stream` accounted for by complete messages
  std::size_t in_message = 0;      // bytes fed since the last complete message
  std::span<const std::uint8_t> rest = stream;
  while (!rest.empty()) {
    auto chunk = rest.first(std::min(rest.size(), chunks.next()));
    rest = rest.subspan(chunk.size());
    while (!chunk.empty()) {
      auto used = decoder.feed(chunk);
      if (!used) {
        check(used.error() == srudp::errc::value_out_of_range ||
              used.error() == srudp::errc::non_minimal_varint);
        check(decoder.feed(chunk).error() == used.error());  // errors stick
        return;
      }
      chunk = chunk.subspan(*used);
      in_message += *used;
      // Twice what arrived (vector growth), or what an earlier message left below the retention cap.
      check(decoder.allocated_bytes() <=
            std::max(2 * decoder.buffered_bytes() + 64, MessageDecoder::kRetainedCapacity));
      if (decoder.has_message()) {
        const auto message = decoder.message();
        check(message.size() <= max_size);
        Bytes encoded;
        check(!srudp::stream::append_message(message, encoded));
        check(encoded.size() == in_message);
        check(std::equal(encoded.begin(), encoded.end(),
                         stream.begin() + static_cast<std::ptrdiff_t>(consumed)));
        consumed += in_message;
        in_message = 0;
        decoder.next();
      }
    }
  }
  check(decoder.buffered_bytes() == in_message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  Reader reader(input);
  const std::uint8_t selector = reader.next();
  const std::uint8_t seed = reader.next();
  // 0..4080 covers both sides of every size in round_trip(); 255 means "effectively unlimited".
  const std::size_t max_size = selector == 255 ? (std::size_t{1} << 40) : std::size_t{selector} * 16;
  round_trip(max_size, seed, reader);
  hostile_stream(max_size, seed, input.subspan(std::min<std::size_t>(2, size)));
  return 0;
}
