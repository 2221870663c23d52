// Hash functions and byte encodings used throughout cdl.
//
// All byte strings are std::string / std::string_view holding raw bytes (NUL
// bytes allowed). Hash outputs are raw 32-byte digests; use HexEncode to show
// them. Every function here is pure and thread-safe.

#ifndef CDL_CRYPTO_HASH_H_
#define CDL_CRYPTO_HASH_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdl::crypto {

// Size in bytes of every digest returned by this file.
inline constexpr size_t kHashSize = 32;

// SHA-256 of `data` (FIPS 180-4): 32 raw bytes.
std::string Sha256(std::string_view data);

// SM3 of `data` (GB/T 32905-2016): 32 raw bytes.
std::string Sm3(std::string_view data);

// Domain-separated SHA-256: SHA-256(domain || 0x00 || data).
// Used for every hash that names an object, e.g.
//   record_id = DomainHash("cdl/record/v1", body).
// `domain` must not contain a NUL byte (otherwise two different
// (domain, data) pairs could hash the same bytes); it is a fixed constant of
// the calling code, never user input.
std::string DomainHash(std::string_view domain, std::string_view data);

// Lowercase hexadecimal, two characters per byte.
std::string HexEncode(std::string_view bytes);

// Inverse of HexEncode. Accepts upper- and lowercase digits. Returns
// InvalidArgument for an odd length or a character that is not a hex digit.
absl::StatusOr<std::string> HexDecode(std::string_view hex);

// Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /) with '='
// padding.
std::string Base64Encode(std::string_view bytes);

// Strict inverse of Base64Encode: the input length must be a multiple of 4,
// padding ('=' x0..2) may only appear at the end, unused bits of the last
// character must be zero, and no whitespace or URL-safe characters are
// allowed. Anything else is InvalidArgument, so every byte string has exactly
// one accepted encoding.
absl::StatusOr<std::string> Base64Decode(std::string_view base64);

}  // namespace cdl::crypto

#endif  // CDL_CRYPTO_HASH_H_
