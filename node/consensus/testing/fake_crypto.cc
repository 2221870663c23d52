#include "node/consensus/testing/fake_crypto.h"

namespace cdl::consensus::testing {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Absorb(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;  // FNV-1a
  return h;
}

}  // namespace

uint64_t FakeSecret(uint64_t seed, ValidatorIndex index) {
  return Mix(Mix(seed) ^ (0x5eed0000ULL + index));
}

std::string FakeSignature(uint64_t secret, std::string_view domain,
                          std::string_view message) {
  uint64_t h = 0xcbf29ce484222325ULL ^ secret;
  h = Absorb(h, domain);
  h = Absorb(h, std::string_view("\0", 1));
  h = Absorb(h, message);
  h = Mix(h ^ secret);
  std::string sig(8, '\0');
  for (int i = 0; i < 8; ++i) sig[i] = static_cast<char>(h >> (8 * i));
  return sig;
}

FakeVerifier::FakeVerifier(uint64_t seed, uint32_t num_validators) {
  for (uint32_t i = 0; i < num_validators; ++i) {
    secrets_.push_back(FakeSecret(seed, i));
  }
}

bool FakeVerifier::Verify(ValidatorIndex signer, std::string_view domain,
                          std::string_view message,
                          std::string_view signature) const {
  if (signer >= secrets_.size()) return false;
  return FakeSignature(secrets_[signer], domain, message) == signature;
}

}  // namespace cdl::consensus::testing
