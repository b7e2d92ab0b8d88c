#include "crypto/packet_protection.hpp"

#include <sodium.h>

#include <utility>

#include "common/sodium.hpp"

namespace srudp::crypto {

namespace {

constexpr char kKdfContext[] = "srudp-pp";
static_assert(sizeof kKdfContext - 1 == crypto_kdf_CONTEXTBYTES);
static_assert(crypto_kdf_KEYBYTES == kKeySize);
constexpr std::uint64_t kPacketKeySubkeyId = 1;
constexpr std::uint64_t kNextSecretSubkeyId = 2;

Result<SecretKey> kdf(const SecretKey& secret, std::uint64_t subkey_id) {
  SecretKey out;
  if (crypto_kdf_derive_from_key(out.data(), out.size(), subkey_id, kKdfContext,
                                 secret.data()) != 0) {
    return errc::invalid_argument;
  }
  return out;
}

Result<PacketKey> derive_packet_key(const SecretKey& secret, AeadAlgorithm algorithm) {
  auto key_material = kdf(secret, kPacketKeySubkeyId);
  if (!key_material) return key_material.error();
  return PacketKey::create(*key_material, algorithm);
}

constexpr std::uint64_t pow2(unsigned n) { return std::uint64_t{1} << n; }

}  // namespace

PacketProtectionLimits PacketProtectionLimits::defaults_for(AeadAlgorithm algorithm) noexcept {
  // AES-GCM's limits follow RFC 9001 §6.6 (confidentiality 2^23 full-size packets); ChaCha20-
  // Poly1305 has no practical confidentiality limit, 2^30 keeps keys fresh anyway. The
  // integrity limit is ChaCha20-Poly1305's 2^36 (RFC 9001 §6.6), AES-GCM's is larger (2^52).
  PacketProtectionLimits limits;
  limits.max_failed_opens = pow2(36);
  if (algorithm == AeadAlgorithm::aes256_gcm) {
    limits.key_update_after = pow2(22);
    limits.max_packets_per_key = pow2(23);
  } else {
    limits.key_update_after = pow2(28);
    limits.max_packets_per_key = pow2(30);
  }
  return limits;
}

PacketProtection::PacketProtection(AeadAlgorithm algorithm, PacketProtectionLimits limits,
                                   SecretKey send_secret, SecretKey receive_next_secret,
                                   PacketKey send_key, PacketKey receive_key,
                                   PacketKey receive_next_key)
    : algorithm_(algorithm),
      limits_(limits),
      send_secret_(std::move(send_secret)),
      send_key_(std::move(send_key)),
      receive_next_secret_(std::move(receive_next_secret)),
      receive_key_(std::move(receive_key)),
      receive_next_key_(std::move(receive_next_key)) {}

Result<PacketProtection> PacketProtection::create(PacketProtectionConfig config) {
  ensure_sodium_initialized();
  if (!aead_available(config.algorithm)) return errc::invalid_argument;
  const PacketProtectionLimits limits =
      config.limits.value_or(PacketProtectionLimits::defaults_for(config.algorithm));
  if (limits.key_update_after == 0 || limits.key_update_after > limits.max_packets_per_key) {
    return errc::invalid_argument;
  }

  auto send_key = derive_packet_key(config.send_secret, config.algorithm);
  if (!send_key) return send_key.error();
  auto receive_key = derive_packet_key(config.receive_secret, config.algorithm);
  if (!receive_key) return receive_key.error();
  auto receive_next_secret = kdf(config.receive_secret, kNextSecretSubkeyId);
  if (!receive_next_secret) return receive_next_secret.error();
  auto receive_next_key = derive_packet_key(*receive_next_secret, config.algorithm);
  if (!receive_next_key) return receive_next_key.error();

  PacketProtection protection(config.algorithm, limits, std::move(config.send_secret),
                              std::move(*receive_next_secret), std::move(*send_key),
                              std::move(*receive_key), std::move(*receive_next_key));
  protection.sent_with_key_ = config.initial_packets_sealed_with_key;
  protection.stats_.failed_opens = config.initial_failed_opens;
  protection.maybe_update_automatically();
  return protection;
}

std::error_code PacketProtection::advance_generation() {
  // Derive everything first so a failure leaves the state untouched.
  auto send_secret = kdf(send_secret_, kNextSecretSubkeyId);
  if (!send_secret) return send_secret.error();
  auto send_key = derive_packet_key(*send_secret, algorithm_);
  if (!send_key) return send_key.error();
  auto after_next_secret = kdf(receive_next_secret_, kNextSecretSubkeyId);
  if (!after_next_secret) return after_next_secret.error();
  auto after_next_key = derive_packet_key(*after_next_secret, algorithm_);
  if (!after_next_key) return after_next_key.error();

  send_secret_ = std::move(*send_secret);
  send_key_ = std::move(*send_key);
  sent_with_key_ = 0;
  receive_previous_key_ = std::move(receive_key_);
  receive_key_ = std::move(receive_next_key_);
  receive_next_key_ = std::move(*after_next_key);
  receive_next_secret_ = std::move(*after_next_secret);
  ++generation_;
  lowest_pn_in_generation_.reset();
  confirmed_ = false;
  ++stats_.key_updates;
  return {};
}

void PacketProtection::maybe_update_automatically() {
  if (confirmed_ && sent_with_key_ >= limits_.key_update_after) {
    if (!advance_generation()) ++stats_.key_updates_initiated;
  }
}

std::error_code PacketProtection::initiate_key_update() {
  if (!confirmed_) return errc::invalid_state;
  if (auto ec = advance_generation()) return ec;
  ++stats_.key_updates_initiated;
  return {};
}

Result<SealResult> PacketProtection::seal(std::uint64_t packet_number,
                                          std::span<const std::uint8_t> header,
                                          std::span<const std::uint8_t> plaintext,
                                          std::span<std::uint8_t> out) {
  if (packet_number > kMaxPacketNumber) return errc::key_limit_reached;
  if (has_sent_ && packet_number <= last_sent_pn_) return errc::invalid_argument;
  const bool phase = send_key_phase();
  if (header.empty() || ((header[0] & kKeyPhaseHeaderBit) != 0) != phase) {
    return errc::invalid_argument;
  }
  if (sent_with_key_ >= limits_.max_packets_per_key) return errc::key_limit_reached;

  auto sealed = send_key_.seal(packet_number, header, plaintext, out);
  if (!sealed) return sealed.error();

  has_sent_ = true;
  last_sent_pn_ = packet_number;
  ++sent_with_key_;
  ++stats_.packets_sealed_in_phase[phase ? 1 : 0];
  // Update now rather than at the next seal, so send_key_phase() is right for its header.
  maybe_update_automatically();
  return SealResult{*sealed, phase};
}

void PacketProtection::on_authenticated(std::uint64_t packet_number, bool key_phase) {
  ++stats_.packets_opened_in_phase[key_phase ? 1 : 0];
  if (!lowest_pn_in_generation_ || packet_number < *lowest_pn_in_generation_) {
    lowest_pn_in_generation_ = packet_number;
  }
  if (!confirmed_) {
    confirmed_ = true;
    maybe_update_automatically();  // the update may have been waiting for this
  }
}

Result<OpenResult> PacketProtection::open(std::uint64_t packet_number, bool key_phase,
                                          std::span<const std::uint8_t> header,
                                          std::span<const std::uint8_t> ciphertext,
                                          std::span<std::uint8_t> out) {
  if (stats_.failed_opens > limits_.max_failed_opens) return errc::key_limit_reached;
  if (packet_number > kMaxPacketNumber) return errc::value_out_of_range;

  // Outcome of the key choice: which key opened the packet, or the error.
  enum class Used { current, previous, next };
  Used used = Used::current;
  Result<std::size_t> opened = errc::decrypt_failed;

  if (key_phase == send_key_phase()) {
    opened = receive_key_.open(packet_number, header, ciphertext, out);
  } else if (lowest_pn_in_generation_) {
    if (packet_number < *lowest_pn_in_generation_) {
      used = Used::previous;
      if (receive_previous_key_) {
        opened = receive_previous_key_->open(packet_number, header, ciphertext, out);
      }
    } else {
      used = Used::next;
      opened = receive_next_key_.open(packet_number, header, ciphertext, out);
    }
  } else {
    // Nothing received in this generation yet: a late packet (previous key) or the peer
    // already a generation ahead (next key). A failed in-place open wipes the buffer, so the
    // first candidate is only verified when the buffer is shared.
    used = Used::next;
    if (receive_previous_key_) {
      const bool in_place = out.data() == ciphertext.data();
      if (!in_place) {
        opened = receive_previous_key_->open(packet_number, header, ciphertext, out);
        if (opened) used = Used::previous;
      } else if (receive_previous_key_->verify(packet_number, header, ciphertext)) {
        used = Used::previous;
        opened = receive_previous_key_->open(packet_number, header, ciphertext, out);
      }
    }
    if (used == Used::next) opened = receive_next_key_.open(packet_number, header, ciphertext, out);
  }

  if (!opened) {
    if (opened.error() != make_error_code(errc::decrypt_failed)) return opened.error();
    ++stats_.failed_opens;
    if (stats_.failed_opens > limits_.max_failed_opens) return errc::key_limit_reached;
    return errc::decrypt_failed;
  }

  OpenResult result{*opened, key_phase, false};
  switch (used) {
    case Used::previous:
      ++stats_.packets_opened_in_phase[key_phase ? 1 : 0];
      break;
    case Used::next:
      // The peer started an update and proved it: follow with both directions.
      if (auto ec = advance_generation()) return ec;
      result.key_updated = true;
      on_authenticated(packet_number, key_phase);
      break;
    case Used::current:
      on_authenticated(packet_number, key_phase);
      break;
  }
  return result;
}

}  // namespace srudp::crypto
