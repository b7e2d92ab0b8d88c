// Drives ReplayWindow and a plain std::set model of the same window rule with operations
// decoded from the fuzz input, and aborts on the first disagreement.
//
// Input: a sequence of operations, each one opcode byte followed by its operand bytes:
//   op % 8 == 0..2  forward by a 1-byte step      (1 byte)
//   op % 8 == 3..4  backward by a 2-byte distance  (2 bytes, reaches past the window edge)
//   op % 8 == 5     backward by exactly W-2..W+1   (0 bytes; high bits of op pick the offset)
//   op % 8 == 6     jump forward by 2^(byte % 62)  (1 byte)
//   op % 8 == 7     absolute packet number         (8 bytes, masked to 62 bits)
// Bit 3 of the opcode asks to mark the number even if it was refused (must be harmless);
// otherwise it is marked only when accepted, as after a successful AEAD check.
#include "crypto/replay_window.hpp"

#include "tests/crypto/replay_window_model.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>

namespace {

using srudp::crypto::ReplayWindow;
constexpr std::uint64_t W = ReplayWindow::kWindowSize;
constexpr std::uint64_t kMaxPn = (std::uint64_t{1} << 62) - 1;

using NaiveWindow = srudp::crypto::test::NaiveReplayWindow;

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint64_t take(std::size_t bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes && pos_ < size_; ++i) value = (value << 8) | data_[pos_++];
    return value;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader input(data, size);
  ReplayWindow window;
  NaiveWindow model;
  while (!input.empty()) {
    const auto op = static_cast<std::uint8_t>(input.take(1));
    const std::uint64_t largest = model.largest();
    std::uint64_t pn = 0;
    switch (op % 8) {
      case 0: case 1: case 2: pn = largest + input.take(1); break;
      case 3: case 4: {
        const std::uint64_t back = input.take(2);
        pn = largest >= back ? largest - back : back;
        break;
      }
      case 5: {
        const std::uint64_t back = W - 2 + ((op >> 4) % 4);
        pn = largest >= back ? largest - back : 0;
        break;
      }
      case 6: pn = largest + (std::uint64_t{1} << (input.take(1) % 62)); break;
      default: pn = input.take(8); break;
    }
    pn &= kMaxPn;
    const bool expected = model.may_accept(pn);
    if (window.may_accept(pn) != expected) std::abort();
    if (expected || (op & 0x08) != 0) {
      window.mark(pn);
      model.mark(pn);
    }
    if (window.may_accept(pn)) std::abort();  // a marked number, or one too old, is refused
    if (!window.empty() && window.largest() != model.largest()) std::abort();
  }
  return 0;
}
