// HMAC-BLAKE2b and the HKDF of the Noise Protocol Framework (revision 34, section 4.3).
//
// Noise's HKDF is RFC 5869 with an empty "info" and a fixed number of outputs:
//   temp_key = HMAC(chaining_key, input_key_material)
//   output1  = HMAC(temp_key, 0x01)
//   output2  = HMAC(temp_key, output1 || 0x02)
//   output3  = HMAC(temp_key, output2 || 0x03)
// Every output is HASHLEN (64) bytes; callers truncate to 32 where Noise says so (cipher keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/secret.hpp"

namespace srudp::crypto {

inline constexpr std::size_t kNoiseHashLen = 64;    // BLAKE2b-512 output
inline constexpr std::size_t kNoiseBlockLen = 128;  // BLAKE2b block size, used by HMAC

using HashOutput = Secret<kNoiseHashLen>;

// HMAC (RFC 2104) over unkeyed BLAKE2b-512. Keys longer than 128 bytes are hashed first.
HashOutput hmac_blake2b(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

struct HkdfTwoOutputs {
  HashOutput first;
  HashOutput second;
};
struct HkdfThreeOutputs {
  HashOutput first;
  HashOutput second;
  HashOutput third;
};

// Noise HKDF with num_outputs = 2 and 3. Intermediate values are wiped before returning.
HkdfTwoOutputs noise_hkdf2(std::span<const std::uint8_t, kNoiseHashLen> chaining_key,
                           std::span<const std::uint8_t> input_key_material);
HkdfThreeOutputs noise_hkdf3(std::span<const std::uint8_t, kNoiseHashLen> chaining_key,
                             std::span<const std::uint8_t> input_key_material);

// The first 32 bytes of a 64-byte HKDF output, as a key (Noise truncates cipher keys to 32 bytes).
SecretKey truncate_to_key(const HashOutput& output);

}  // namespace srudp::crypto
