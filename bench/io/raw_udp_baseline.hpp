// Raw UDP as the throughput limit for the bench programs: a sender thread blasts 1200-byte
// datagrams at a receiver thread as fast as the socket takes them, with no reliability, no
// congestion control and no flow control. The variants peel off one cost at a time: one system
// call per datagram; sendmmsg/recvmmsg batches; UDP GSO/GRO; and GSO/GRO with every datagram
// sealed and opened by the same AEAD srudp uses (crypto::PacketKey, 8-byte packet number as the
// header and nonce). The receiver counts what it got; a sender faster than the receiver loses
// datagrams in the kernel, and the figure is then what the receiver managed (the limit).
//
// The receiver socket is opened where `receiver_address` lives and the sender socket where the
// caller stands; a caller that switches network namespaces in between measures across them.
#pragma once

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/address.hpp"
#include "crypto/aead.hpp"
#include "io/udp_socket.hpp"

namespace raw_udp_baseline {

using Clock = std::chrono::steady_clock;

enum class Variant { one_call_per_datagram, batched, gso_gro, gso_gro_aes256gcm, gso_gro_chacha20 };

inline const char* name(Variant v) {
  switch (v) {
    case Variant::one_call_per_datagram: return "raw UDP, 1 call/datagram";
    case Variant::batched: return "raw UDP, mmsg batches";
    case Variant::gso_gro: return "raw UDP, GSO/GRO";
    case Variant::gso_gro_aes256gcm: return "raw UDP+AES-GCM, GSO/GRO";
    case Variant::gso_gro_chacha20: return "raw UDP+ChaCha, GSO/GRO";
  }
  return "?";
}

struct Result {
  double seconds = 0;            // first send to the last datagram received
  std::uint64_t payload_bytes = 0;  // received application bytes (plaintext for the AEAD variants)
  std::uint64_t sent = 0, received = 0, failed_opens = 0;
  double loss() const { return sent == 0 ? 0 : 1.0 - static_cast<double>(received) / static_cast<double>(sent); }
};

inline constexpr std::size_t kDatagramBytes = 1200;
inline constexpr std::size_t kHeaderBytes = 8;  // the packet number, also the associated data

namespace detail {

inline std::optional<srudp::crypto::AeadAlgorithm> algorithm(Variant v) {
  if (v == Variant::gso_gro_aes256gcm) return srudp::crypto::AeadAlgorithm::aes256_gcm;
  if (v == Variant::gso_gro_chacha20) return srudp::crypto::AeadAlgorithm::chacha20_poly1305;
  return std::nullopt;
}

inline std::size_t payload_per_datagram(Variant v) {
  return algorithm(v) ? kDatagramBytes - kHeaderBytes - srudp::crypto::kAeadTagSize : kDatagramBytes;
}

inline void wait_for(srudp::io::UdpSocket& socket, short events, int timeout_ms) {
  pollfd fd{socket.socket().native_handle(), events, 0};
  ::poll(&fd, 1, timeout_ms);
}

inline std::optional<srudp::crypto::PacketKey> make_key(Variant v) {
  const auto a = algorithm(v);
  if (!a) return std::nullopt;
  std::array<std::uint8_t, srudp::crypto::SecretKey::size()> bytes{};
  bytes.fill(0x42);
  auto key = srudp::crypto::PacketKey::create(srudp::crypto::SecretKey(std::span<const std::uint8_t, 32>(bytes)), *a);
  if (!key) throw std::runtime_error("PacketKey: " + key.error().message());
  return std::move(*key);
}

}  // namespace detail

// Whether this machine can run the variant (AES-GCM needs AES-NI; GSO/GRO need a recent kernel).
inline bool available(Variant v) {
  const auto a = detail::algorithm(v);
  return !a || srudp::crypto::aead_available(*a);
}

// Sends `bytes` of payload from a socket bound to `sender_local` to one bound to `receiver_local`
// (port 0 picks one). open_receiver/open_sender run right before each socket is opened, so the
// caller can enter the network namespace it belongs to.
template <class BeforeReceiver, class BeforeSender>
Result measure(Variant variant, std::uint64_t bytes, const srudp::SocketAddress& receiver_local,
               const srudp::SocketAddress& sender_local, BeforeReceiver&& open_receiver, BeforeSender&& open_sender) {
  using srudp::io::OutgoingDatagram;
  using srudp::io::UdpSocket;
  using srudp::io::UdpSocketOptions;
  const bool offloads = variant == Variant::gso_gro || detail::algorithm(variant).has_value();
  const UdpSocketOptions options{.allow_gso = offloads, .allow_gro = offloads};
  // With GSO, one send call is as many datagrams as one message carries (64 KB: 54 of 1200
  // bytes), as srudp sends whole messages: 64 per call made a message of 54 and one of 10, and
  // ran the AES-GCM variant about 10% slower.
  const std::size_t batch_size = variant == Variant::one_call_per_datagram ? 1
                                 : offloads                               ? srudp::io::kMaxGsoMessageBytes / kDatagramBytes
                                                                          : 64;
  const std::size_t payload = detail::payload_per_datagram(variant);
  const std::uint64_t count = (bytes + payload - 1) / payload;

  boost::asio::io_context io;  // never run: the sockets are driven by poll() below
  UdpSocket receiver(io.get_executor()), sender(io.get_executor());
  open_receiver();
  if (auto ec = receiver.open(receiver_local, options)) throw std::runtime_error("raw UDP receiver: " + ec.message());
  open_sender();
  if (auto ec = sender.open(sender_local, options)) throw std::runtime_error("raw UDP sender: " + ec.message());
  const srudp::SocketAddress to = receiver.local_address();

  Result result;
  std::atomic<bool> sender_done{false};
  Clock::time_point last_arrival{};
  const auto receive_all = [&] {
    const auto key = detail::make_key(variant);
    std::vector<std::uint8_t> plaintext(kDatagramBytes);
    auto quiet_since = Clock::now();
    while (result.received < count) {
      auto got = receiver.receive(batch_size);
      if (!got) throw std::runtime_error("raw UDP receive: " + got.error().message());
      if (got->empty()) {
        // Datagrams the kernel dropped never come: stop 100 ms after the sender is done and quiet.
        if (sender_done && Clock::now() - quiet_since > std::chrono::milliseconds(100)) break;
        detail::wait_for(receiver, POLLIN, 10);
        continue;
      }
      for (const auto& d : *got) {
        if (key) {
          if (d.data.size() < kHeaderBytes) continue;
          std::uint64_t number;
          std::memcpy(&number, d.data.data(), kHeaderBytes);
          if (!key->open(number, d.data.first(kHeaderBytes), d.data.subspan(kHeaderBytes), plaintext)) {
            ++result.failed_opens;
            continue;
          }
        }
        ++result.received;
      }
      quiet_since = last_arrival = Clock::now();
    }
  };

  const auto start = Clock::now();
  const auto send_all = [&] {
    const auto key = detail::make_key(variant);
    std::vector<std::uint8_t> storage(batch_size * kDatagramBytes, 0x5a);
    std::vector<OutgoingDatagram> batch;
    const std::vector<std::uint8_t> message(payload, 0x5a);
    for (std::uint64_t next = 0; next < count;) {
      batch.clear();
      for (std::size_t i = 0; i < batch_size && next < count; ++i, ++next) {
        std::uint8_t* slot = storage.data() + i * kDatagramBytes;
        if (key) {
          std::memcpy(slot, &next, kHeaderBytes);
          const auto sealed = key->seal(next, std::span(slot, kHeaderBytes), message,
                                        std::span(slot + kHeaderBytes, kDatagramBytes - kHeaderBytes));
          if (!sealed) throw std::runtime_error("seal: " + sealed.error().message());
        }
        batch.push_back({to, std::span<const std::uint8_t>(slot, kDatagramBytes)});
      }
      for (std::size_t done = 0; done < batch.size();) {
        auto n = sender.send(std::span(batch).subspan(done));
        if (!n) throw std::runtime_error("raw UDP send: " + n.error().message());
        done += *n;
        if (done < batch.size()) detail::wait_for(sender, POLLOUT, 10);
      }
    }
  };

  // Either side's failure is reported to the caller once both threads are done (the receiver stops
  // 100 ms after the sender, whether it finished or failed).
  std::exception_ptr receive_error, send_error;
  std::thread receiving([&] {
    try {
      receive_all();
    } catch (...) {
      receive_error = std::current_exception();
    }
  });
  try {
    send_all();
  } catch (...) {
    send_error = std::current_exception();
  }
  sender_done = true;
  receiving.join();
  if (send_error) std::rethrow_exception(send_error);
  if (receive_error) std::rethrow_exception(receive_error);
  result.sent = count;
  result.payload_bytes = result.received * payload;
  result.seconds = std::chrono::duration<double>(last_arrival - start).count();
  return result;
}

}  // namespace raw_udp_baseline
