#include "node/consensus/key_signer.h"

namespace cdl::consensus {

absl::StatusOr<std::string> KeySigner::Sign(std::string_view domain,
                                            std::string_view message) {
  return crypto::SignDomain(key_, domain, message);
}

bool KeyVerifier::Verify(ValidatorIndex signer, std::string_view domain,
                         std::string_view message,
                         std::string_view signature) const {
  if (signer >= keys_.size()) return false;
  return crypto::VerifyDomain(keys_[signer], domain, message, signature).ok();
}

}  // namespace cdl::consensus
