// Drives ReceiveBuffer and a naive model (one map entry per byte) with operations decoded from the
// fuzz input, and aborts on the first disagreement or if the buffer holds more than its window.
//
// Input: 2 bytes of initial window (1..2048), then operations, each an opcode byte and operands:
//   op % 8 == 0..3  insert near the read offset: 2-byte distance (minus 256, so some land before
//                   it), 1-byte length (0..63) and that many data bytes; bit 3 of op is the FIN
//   op % 8 == 4     insert at an absolute 8-byte offset (overflows 2^62 too), 1-byte length, data
//   op % 8 == 5     read up to a 1-byte count
//   op % 8 == 6     take_window_update
//   op % 8 == 7     bit 3 clear: set_window(2-byte value); set: on_reset(read offset + 2-byte value)
// Data bytes missing at the end of the input read as zero.
#include "stream/receive_buffer.hpp"

#include "tests/stream/receive_buffer_model.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

namespace {

using srudp::stream::ReceiveBuffer;

using srudp::stream::test::NaiveReceiveBuffer;

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint64_t take(std::size_t bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | next();
    return value;
  }
  std::vector<std::uint8_t> bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = next();
    return out;
  }

 private:
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader input(data, size);
  const std::uint64_t window = 1 + input.take(2) % 2048;
  ReceiveBuffer buffer(window);
  NaiveReceiveBuffer model(window);
  while (!input.empty()) {
    const auto op = static_cast<std::uint8_t>(input.take(1));
    const bool flag = (op & 0x08) != 0;
    switch (op % 8) {
      case 0: case 1: case 2: case 3: case 4: {
        std::uint64_t offset = 0;
        if (op % 8 == 4) {
          offset = input.take(8) >> 1;  // up to 2^63: past the varint range too
        } else {
          const std::uint64_t distance = input.take(2);
          offset = model.read_offset() + distance;
          offset = offset >= 256 ? offset - 256 : 0;
        }
        const auto bytes = input.bytes(static_cast<std::size_t>(input.take(1) % 64));
        const bool expected = model.insert(offset, bytes, flag);
        check(!buffer.insert(offset, bytes, flag) == expected);
        break;
      }
      case 5: {
        const auto n = static_cast<std::size_t>(input.take(1));
        std::vector<std::uint8_t> out(n);
        out.resize(buffer.read(out));
        check(out == model.read(n));
        break;
      }
      case 6:
        check(buffer.take_window_update() == model.update());
        break;
      default: {
        const std::uint64_t value = input.take(2);
        if (flag) {
          const std::uint64_t final_size = model.read_offset() + value;
          check(!buffer.on_reset(final_size) == model.reset(final_size));
        } else {
          buffer.set_window(value);
          model.set_window(value);
        }
        break;
      }
    }
    check(buffer.readable() == model.readable());
    check(buffer.read_offset() == model.read_offset());
    check(buffer.max_stream_data() == model.limit());
    check(buffer.highest_received() == model.highest());
    check(buffer.final_size() == model.final_size());
    check(buffer.is_finished() == model.finished());
    check(buffer.window() == model.window());
    // Memory: never more than the window past the read offset, plus one bit per byte.
    check(buffer.allocated_bytes() <= model.window() + model.window() / 8 + 8);
  }
  return 0;
}
