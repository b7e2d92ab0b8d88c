// Instructions per data packet on the connection's send and receive path, counted by valgrind's
// callgrind: unlike time, the count is the same on every run of the same binary, whatever else the
// machine does, so a change to the packet path shows up as a number, not as noise.
// Run it through scripts/callgrind, which starts callgrind with collection off: this program turns
// it on only around the measured packets (after the handshake, path-MTU discovery and warm-up) and
// prints how many data packets and stream bytes those were. Outside valgrind the toggles do nothing.
// --batch N sends N packets per exchange (the receiver then acknowledges once per batch, as behind
// the I/O layer's batched sends and receives); --side counts only the sender's or the receiver's work.
#include <valgrind/callgrind.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

#include "bulk_pair.hpp"

namespace {

struct Options {
  srudp::crypto::AeadAlgorithm aead = srudp::crypto::AeadAlgorithm::aes256_gcm;
  std::size_t max_mtu = 1200;
  std::uint64_t packets = 20000;
  std::size_t batch = 1;
  std::optional<srudp::bench::BulkPair::Side> side;  // count only this side's work; both if empty
};

// The meter: collection is on while the measured packets go and the pair works for the side
// counted. Plain globals, because the pair calls back through a function pointer.
bool g_measuring = false;
bool g_collecting = false;
std::optional<srudp::bench::BulkPair::Side> g_side;
srudp::bench::BulkPair::Side g_current = srudp::bench::BulkPair::Side::sender;

void collect(bool on) {
  if (on == g_collecting) return;
  CALLGRIND_TOGGLE_COLLECT;
  g_collecting = on;
}

void on_side(srudp::bench::BulkPair::Side side) {
  g_current = side;
  collect(g_measuring && (!g_side || *g_side == side));
}

bool parse_number(std::string_view text, auto& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const std::string_view value = argv[i + 1];
    if (name == "--aead" && value == "aes256-gcm") {
      o.aead = srudp::crypto::AeadAlgorithm::aes256_gcm;
    } else if (name == "--aead" && value == "chacha20-poly1305") {
      o.aead = srudp::crypto::AeadAlgorithm::chacha20_poly1305;
    } else if (name == "--max-mtu") {
      if (!parse_number(value, o.max_mtu) || o.max_mtu < 1200 || o.max_mtu > 1452) return false;
    } else if (name == "--batch") {
      if (!parse_number(value, o.batch) || o.batch == 0 || o.batch > 64) return false;
    } else if (name == "--side" && value == "sender") {
      o.side = srudp::bench::BulkPair::Side::sender;
    } else if (name == "--side" && value == "receiver") {
      o.side = srudp::bench::BulkPair::Side::receiver;
    } else if (name == "--packets") {
      if (!parse_number(value, o.packets) || o.packets == 0) return false;
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: %s [--aead aes256-gcm|chacha20-poly1305] [--max-mtu 1200..1452] [--packets N]"
                 " [--batch 1..64] [--side sender|receiver]\n",
                 argv[0]);
    return 2;
  }
  if (!srudp::crypto::aead_available(o.aead)) {
    std::fprintf(stderr, "this CPU cannot run the chosen AEAD\n");
    return 1;
  }
  srudp::bench::BulkPair pair(o.aead, o.max_mtu);
  pair.on_side = on_side;
  g_side = o.side;
  // Warm-up: the window opens, path-MTU discovery settles, buffers reach their working size.
  while (pair.packets < 5000) pair.step(o.batch);

  const std::uint64_t first = pair.packets;
  std::uint64_t bytes = 0;
  g_measuring = true;
  on_side(g_current);
  while (pair.packets - first < o.packets) bytes += pair.step(o.batch);
  g_measuring = false;
  collect(false);

  if (!pair.client->is_established()) {
    std::fprintf(stderr, "connection lost\n");
    return 1;
  }
  std::printf("data_packets %llu\nstream_bytes %llu\npath_mtu %zu\n",
              static_cast<unsigned long long>(pair.packets - first), static_cast<unsigned long long>(bytes),
              pair.client->stats().path_mtu);
  return 0;
}
