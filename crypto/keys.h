// Signing keys of cdl members and validators.
//
// Three algorithms coexist; records name the algorithm next to the key id, so
// a verifier never guesses:
//   kEcdsaP256Sha256  ECDSA on NIST P-256 over SHA-256(message); DER-encoded
//                     (r, s) signatures as produced by OpenSSL.
//   kEd25519          pure Ed25519 (RFC 8032) over the message; 64 bytes.
//   kSm2Sm3           SM2 (GB/T 32918) with SM3 and the default
//                     distinguishing id "1234567812345678" (GM/T 0009);
//                     DER-encoded (r, s) signatures.
//
// Signatures are over exact bytes. Use SignDomain/VerifyDomain, which prefix
// a domain string, so a signature made for one purpose can never be replayed
// as another (e.g. SignDomain(key, "cdl/sig/v1", record_id)).
//
// Keys are exchanged as SubjectPublicKeyInfo DER/PEM (public) and unencrypted
// PKCS#8 PEM (private). A key's id is SHA-256 of its SPKI DER.
//
// Thread safety: PublicKey and PrivateKey are immutable after creation; their
// const methods may be called from many threads at once.
// Errors never contain key material.

#ifndef CDL_CRYPTO_KEYS_H_
#define CDL_CRYPTO_KEYS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Avoid pulling OpenSSL headers into every user of this file.
typedef struct evp_pkey_st EVP_PKEY;

namespace cdl::crypto {
namespace internal {
struct EvpPkeyFree {
  void operator()(EVP_PKEY* pkey) const;
};
}  // namespace internal

enum class Algorithm { kEcdsaP256Sha256, kEd25519, kSm2Sm3 };

// "ecdsa-p256-sha256", "ed25519" or "sm2-sm3": the names used in records,
// files and flags.
std::string_view AlgorithmName(Algorithm algorithm);

// Inverse of AlgorithmName (exact, case-sensitive match). InvalidArgument
// listing the supported names otherwise.
absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name);

// Largest key file ReadPrivateKeyFile / ReadPublicKeyFile accept, and the
// largest PEM text the FromPem functions accept.
inline constexpr size_t kMaxKeyFileSize = 64 * 1024;

// A public key for one of the supported algorithms. Cheap to copy (shares the
// underlying immutable OpenSSL key).
class PublicKey;
// FromDer keeps the keys it accepted in a bounded process-wide cache (parsing
// through OpenSSL 3's decoders is slow and the same keys recur). Benchmarks
// call this to measure a cold start.
void ClearPublicKeyCache();

class PublicKey {
 public:
  // Parses a DER SubjectPublicKeyInfo. Only the canonical encoding is
  // accepted (named curve, uncompressed point, no trailing bytes), so one key
  // has exactly one DER and one KeyId. EC keys on the SM2 curve are SM2 keys.
  // InvalidArgument for malformed input or an unsupported algorithm/curve.
  static absl::StatusOr<PublicKey> FromDer(std::string_view spki_der);

  // Parses a PEM "PUBLIC KEY" block (SPKI), with the same rules as FromDer.
  static absl::StatusOr<PublicKey> FromPem(std::string_view pem);

  // PEM "-----BEGIN PUBLIC KEY-----" encoding of der().
  std::string ToPem() const;

  // The canonical SubjectPublicKeyInfo DER.
  const std::string& der() const { return der_; }

  // SHA-256 of der(): 32 raw bytes. Stable for the key's lifetime and across
  // encodings (PEM and DER of the same key give the same id).
  std::string KeyId() const;

  Algorithm algorithm() const { return algorithm_; }

  // OK if `signature` is a valid signature of `message` by this key's
  // private key. InvalidArgument("signature does not verify") otherwise,
  // including for malformed signatures of any length.
  absl::Status Verify(std::string_view message,
                      std::string_view signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    return a.der_ == b.der_;
  }

 private:
  static absl::StatusOr<PublicKey> ParseDerUncached(std::string_view spki_der);
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, std::string der,
            Algorithm algorithm);

  std::shared_ptr<EVP_PKEY> pkey_;
  std::string der_;
  Algorithm algorithm_;
};

// A private signing key. Move-only, so secret material is not copied around
// by accident.
class PrivateKey {
 public:
  // Generates a fresh key from OpenSSL's CSPRNG.
  static absl::StatusOr<PrivateKey> Generate(Algorithm algorithm);

  // Parses an unencrypted PKCS#8 PEM "PRIVATE KEY" block. Encrypted keys and
  // unsupported algorithms/curves are InvalidArgument.
  static absl::StatusOr<PrivateKey> FromPem(std::string_view pem);

  // Takes a new reference to an existing OpenSSL private key (the caller
  // keeps its own), for keys made by other OpenSSL code. EC keys on the SM2
  // curve become SM2 keys. InvalidArgument for null, public-only or
  // unsupported keys.
  static absl::StatusOr<PrivateKey> FromEvpPkey(EVP_PKEY* pkey);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  // Unencrypted PKCS#8 PEM. The result is secret: do not log it. Empty only
  // if OpenSSL fails (out of memory) or the key was moved from.
  std::string ToPem() const;

  Algorithm algorithm() const { return public_key_.algorithm(); }
  const PublicKey& public_key() const { return public_key_; }

  // Signs `message` (see the algorithm list above). ECDSA and SM2 signatures
  // are randomized, so two calls give different valid signatures. Errors
  // (Internal) only if OpenSSL fails.
  absl::StatusOr<std::string> Sign(std::string_view message) const;

 private:
  using Pkey = std::unique_ptr<EVP_PKEY, internal::EvpPkeyFree>;

  PrivateKey(Pkey pkey, PublicKey public_key);

  // Classifies `pkey`, checks it has a private part, derives the public key.
  static absl::StatusOr<PrivateKey> Adopt(Pkey pkey);

  Pkey pkey_;
  PublicKey public_key_;
};

// Signs / verifies (domain || 0x00 || message). `domain` is a constant such
// as "cdl/sig/v1" and must not contain NUL.
absl::StatusOr<std::string> SignDomain(const PrivateKey& key,
                                       std::string_view domain,
                                       std::string_view message);
absl::Status VerifyDomain(const PublicKey& key, std::string_view domain,
                          std::string_view message, std::string_view signature);

// Writes `key` as PKCS#8 PEM to a new file with mode 0600. If the file exists
// this fails with AlreadyExists unless `overwrite` is true; then the key is
// written to a temporary 0600 file in the same directory and renamed over
// `path`, so a reader never sees a partial key. Errors name the path and the
// system error, never the key.
absl::Status WritePrivateKeyFile(const std::string& path, const PrivateKey& key,
                                 bool overwrite = false);

// Reads a key written by WritePrivateKeyFile. Refuses (FailedPrecondition) a
// file that group or others may read or write, telling the user to
// `chmod 600` it, and anything that is not a regular file or is larger than
// kMaxKeyFileSize. NotFound if the file does not exist.
absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path);

// Public keys as PEM "PUBLIC KEY" files with ordinary permissions (0644
// before umask). Same existence/overwrite rules as WritePrivateKeyFile.
absl::Status WritePublicKeyFile(const std::string& path, const PublicKey& key,
                                bool overwrite = false);
absl::StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path);

}  // namespace cdl::crypto

#endif  // CDL_CRYPTO_KEYS_H_
