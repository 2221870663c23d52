// Signer and Verifier backed by cdl_crypto keys (ECDSA P-256, Ed25519, SM2):
// what the daemon uses. Signatures are SignDomain(key, domain, message).

#ifndef CDL_NODE_CONSENSUS_KEY_SIGNER_H_
#define CDL_NODE_CONSENSUS_KEY_SIGNER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "node/consensus/interfaces.h"

namespace cdl::consensus {

// Signs with one validator's private key. Thread-compatible.
class KeySigner : public Signer {
 public:
  explicit KeySigner(crypto::PrivateKey key) : key_(std::move(key)) {}
  absl::StatusOr<std::string> Sign(std::string_view domain,
                                   std::string_view message) override;

 private:
  crypto::PrivateKey key_;
};

// Verifies against the genesis validator keys, indexed like the validator
// list. Thread-safe.
class KeyVerifier : public Verifier {
 public:
  explicit KeyVerifier(std::vector<crypto::PublicKey> keys)
      : keys_(std::move(keys)) {}
  bool Verify(ValidatorIndex signer, std::string_view domain,
              std::string_view message,
              std::string_view signature) const override;

 private:
  std::vector<crypto::PublicKey> keys_;
};

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_KEY_SIGNER_H_
