// Public key parsing and signature verification with arbitrary keys and
// signatures (crypto/keys.h).
//
// Input (fuzz_input.h): U8 algorithm selector, Chunk key (SPKI DER, or PEM),
// Chunk signature, Chunk message A, Rest message B.
//
// The key bytes go through PublicKey::FromDer and FromPem; a key that parses
// checks the signature over A and B under the record signature domain. Then
// one of three fixed real keys (ECDSA P-256, SM2, Ed25519) signs A.
//
// Properties:
//   - an accepted DER is canonical: der() is the input, FromDer(der()) and
//     FromPem(ToPem()) give the same key, KeyId() is SHA-256 of the DER;
//   - a signature that verifies for message A never verifies for B != A
//     (for the fuzzed key and signature, and for the real key's signature);
//   - a real key's signature over A verifies for A, and never under another
//     domain.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using cdl::crypto::PublicKey;

constexpr char kDomain[] = "cdl/sig/v1";
constexpr char kOtherDomain[] = "cdl/commit/v1";

void CheckParsedKey(const PublicKey& key, const std::string& input_der) {
  if (!input_der.empty()) FUZZ_CHECK(key.der() == input_der, "accepted DER is canonical");
  auto again = PublicKey::FromDer(key.der());
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(*again == key && again->algorithm() == key.algorithm(), "FromDer(der()) is the same key");
  auto pem = PublicKey::FromPem(key.ToPem());
  FUZZ_CHECK(pem.ok(), pem.status().ToString());
  FUZZ_CHECK(*pem == key, "FromPem(ToPem()) is the same key");
  FUZZ_CHECK(key.KeyId() == cdl::crypto::Sha256(key.der()), "key id");
}

// A signature that verifies for `a` must not verify for a different `b`.
void CheckNoTransfer(const PublicKey& key, const std::string& sig, const std::string& a, const std::string& b) {
  if (!cdl::crypto::VerifyDomain(key, kDomain, a, sig).ok()) return;
  if (b != a) FUZZ_CHECK(!cdl::crypto::VerifyDomain(key, kDomain, b, sig).ok(), "signature transfers to B");
  FUZZ_CHECK(!cdl::crypto::VerifyDomain(key, kOtherDomain, a, sig).ok(), "signature crosses domains");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const char* name : {"v1", "v2", "v3"}) cdl::fuzz::FixedKey(name);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdl::fuzz::FuzzInput in(data, size);
  const uint8_t selector = in.U8();
  const std::string key_bytes = in.Chunk();
  const std::string sig = in.Chunk();
  const std::string a = in.Chunk();
  const std::string b = in.Rest();

  auto der_key = PublicKey::FromDer(key_bytes);
  if (der_key.ok()) {
    CheckParsedKey(*der_key, key_bytes);
    (void)der_key->Verify(a, sig);
    CheckNoTransfer(*der_key, sig, a, b);
  }
  auto pem_key = PublicKey::FromPem(key_bytes);
  if (pem_key.ok()) CheckParsedKey(*pem_key, "");

  static const char* const kRealKeys[] = {"v1", "v2", "v3"};  // P-256, SM2, Ed25519
  const cdl::crypto::PrivateKey& real = cdl::fuzz::FixedKey(kRealKeys[selector % 3]);
  CheckNoTransfer(real.public_key(), sig, a, b);
  auto real_sig = cdl::crypto::SignDomain(real, kDomain, a);
  FUZZ_CHECK(real_sig.ok(), real_sig.status().ToString());
  FUZZ_CHECK(cdl::crypto::VerifyDomain(real.public_key(), kDomain, a, *real_sig).ok(), "real signature verifies");
  CheckNoTransfer(real.public_key(), *real_sig, a, b);
  return 0;
}
