// A cheap, deterministic stand-in for validator signatures, for tests and the
// simulation only: an 8-byte keyed hash (MAC-like) per validator secret. A
// validator that only holds its own FakeSigner cannot produce another's
// signatures, which is all the simulation needs. NOT cryptographically secure.

#ifndef CDL_NODE_CONSENSUS_TESTING_FAKE_CRYPTO_H_
#define CDL_NODE_CONSENSUS_TESTING_FAKE_CRYPTO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/consensus/interfaces.h"

namespace cdl::consensus::testing {

// The secret of validator `index` in a test network created with `seed`.
uint64_t FakeSecret(uint64_t seed, ValidatorIndex index);

// The fake signature of (domain || 0x00 || message) under `secret`.
std::string FakeSignature(uint64_t secret, std::string_view domain,
                          std::string_view message);

class FakeSigner : public Signer {
 public:
  FakeSigner(uint64_t seed, ValidatorIndex index)
      : secret_(FakeSecret(seed, index)) {}
  absl::StatusOr<std::string> Sign(std::string_view domain,
                                   std::string_view message) override {
    return FakeSignature(secret_, domain, message);
  }

 private:
  uint64_t secret_;
};

class FakeVerifier : public Verifier {
 public:
  FakeVerifier(uint64_t seed, uint32_t num_validators);
  bool Verify(ValidatorIndex signer, std::string_view domain,
              std::string_view message,
              std::string_view signature) const override;

 private:
  std::vector<uint64_t> secrets_;
};

}  // namespace cdl::consensus::testing

#endif  // CDL_NODE_CONSENSUS_TESTING_FAKE_CRYPTO_H_
