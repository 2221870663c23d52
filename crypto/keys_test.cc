#include "crypto/keys.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Unhex(std::string_view hex) {
  absl::StatusOr<std::string> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

std::string Message(std::string_view s) { return std::string(s); }

PrivateKey MustGenerate(Algorithm algorithm) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(algorithm);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

TEST(AlgorithmTest, NamesRoundTrip) {
  for (Algorithm a :
       {Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519, Algorithm::kSm2Sm3}) {
    absl::StatusOr<Algorithm> parsed = ParseAlgorithm(AlgorithmName(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(AlgorithmName(Algorithm::kEcdsaP256Sha256), "ecdsa-p256-sha256");
  EXPECT_EQ(AlgorithmName(Algorithm::kEd25519), "ed25519");
  EXPECT_EQ(AlgorithmName(Algorithm::kSm2Sm3), "sm2-sm3");
}

TEST(AlgorithmTest, ParseRejectsUnknownNames) {
  for (const char* bad : {"", "ECDSA-P256-SHA256", "rsa", "sm2", "ed25519 "}) {
    absl::StatusOr<Algorithm> parsed = ParseAlgorithm(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("ed25519"));
  }
}

class KeysTest : public ::testing::TestWithParam<Algorithm> {};

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, KeysTest,
                         ::testing::Values(Algorithm::kEcdsaP256Sha256,
                                           Algorithm::kEd25519,
                                           Algorithm::kSm2Sm3),
                         [](const ::testing::TestParamInfo<Algorithm>& info) {
                           switch (info.param) {
                             case Algorithm::kEcdsaP256Sha256:
                               return std::string("EcdsaP256");
                             case Algorithm::kEd25519:
                               return std::string("Ed25519");
                             case Algorithm::kSm2Sm3:
                               return std::string("Sm2");
                           }
                           return std::string("Unknown");
                         });

TEST_P(KeysTest, SignThenVerify) {
  PrivateKey key = MustGenerate(GetParam());
  EXPECT_EQ(key.algorithm(), GetParam());
  EXPECT_EQ(key.public_key().algorithm(), GetParam());
  for (const std::string& msg :
       {Message(""), Message("hello"), std::string(1000, '\0')}) {
    absl::StatusOr<std::string> sig = key.Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_TRUE(key.public_key().Verify(msg, *sig).ok());
  }
}

TEST_P(KeysTest, SignatureSizes) {
  PrivateKey key = MustGenerate(GetParam());
  absl::StatusOr<std::string> sig = key.Sign("m");
  ASSERT_TRUE(sig.ok());
  if (GetParam() == Algorithm::kEd25519) {
    EXPECT_EQ(sig->size(), 64u);
  } else {
    EXPECT_GE(sig->size(), 8u);
    EXPECT_LE(sig->size(), 72u);
    EXPECT_EQ((*sig)[0], '\x30');  // DER SEQUENCE
  }
}

TEST_P(KeysTest, WrongKeyFails) {
  PrivateKey key = MustGenerate(GetParam());
  PrivateKey other = MustGenerate(GetParam());
  absl::StatusOr<std::string> sig = key.Sign("payload");
  ASSERT_TRUE(sig.ok());
  absl::Status status = other.public_key().Verify("payload", *sig);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "signature does not verify");
}

TEST_P(KeysTest, OtherAlgorithmsKeyFails) {
  PrivateKey key = MustGenerate(GetParam());
  absl::StatusOr<std::string> sig = key.Sign("payload");
  ASSERT_TRUE(sig.ok());
  for (Algorithm a :
       {Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519, Algorithm::kSm2Sm3}) {
    if (a == GetParam()) continue;
    EXPECT_FALSE(MustGenerate(a).public_key().Verify("payload", *sig).ok());
  }
}

TEST_P(KeysTest, TamperedMessageFails) {
  PrivateKey key = MustGenerate(GetParam());
  std::string msg = "the quick brown fox";
  absl::StatusOr<std::string> sig = key.Sign(msg);
  ASSERT_TRUE(sig.ok());
  for (size_t i = 0; i < msg.size(); ++i) {
    std::string bad = msg;
    bad[i] ^= 0x01;
    EXPECT_FALSE(key.public_key().Verify(bad, *sig).ok()) << i;
  }
  EXPECT_FALSE(key.public_key().Verify(msg + '\0', *sig).ok());
  EXPECT_FALSE(key.public_key().Verify(msg.substr(1), *sig).ok());
}

TEST_P(KeysTest, EveryFlippedSignatureBitFails) {
  PrivateKey key = MustGenerate(GetParam());
  absl::StatusOr<std::string> sig = key.Sign("msg");
  ASSERT_TRUE(sig.ok());
  for (size_t i = 0; i < sig->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = *sig;
      bad[i] ^= static_cast<char>(1 << bit);
      EXPECT_FALSE(key.public_key().Verify("msg", bad).ok())
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST_P(KeysTest, TruncatedExtendedAndGarbageSignaturesFail) {
  PrivateKey key = MustGenerate(GetParam());
  const PublicKey& pub = key.public_key();
  absl::StatusOr<std::string> sig = key.Sign("msg");
  ASSERT_TRUE(sig.ok());
  for (size_t len = 0; len < sig->size(); ++len) {
    EXPECT_FALSE(pub.Verify("msg", sig->substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(pub.Verify("msg", *sig + '\0').ok());
  EXPECT_FALSE(pub.Verify("msg", *sig + *sig).ok());

  std::mt19937 rng(42);
  for (size_t len = 0; len <= 200; ++len) {
    std::string junk(len, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    EXPECT_FALSE(pub.Verify("msg", junk).ok()) << len;
  }
  // DER-shaped junk: r = s = 0, negative and oversized integers.
  for (std::string_view der :
       {std::string_view("\x30\x06\x02\x01\x00\x02\x01\x00", 8),
        std::string_view("\x30\x06\x02\x01\xff\x02\x01\xff", 8),
        std::string_view("\x30\x80\x02\x01\x01\x02\x01\x01\x00\x00", 10),
        std::string_view("\x30\x84\xff\xff\xff\xff", 6)}) {
    EXPECT_FALSE(pub.Verify("msg", der).ok());
  }
  EXPECT_FALSE(pub.Verify("msg", std::string(64, '\0')).ok());
  EXPECT_FALSE(pub.Verify("msg", std::string(1 << 20, '\x30')).ok());
}

TEST_P(KeysTest, PrivatePemRoundTrip) {
  PrivateKey key = MustGenerate(GetParam());
  std::string pem = key.ToPem();
  EXPECT_THAT(pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  absl::StatusOr<PrivateKey> back = PrivateKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->algorithm(), GetParam());
  EXPECT_EQ(back->public_key(), key.public_key());
  EXPECT_EQ(back->ToPem(), pem);
  absl::StatusOr<std::string> sig = back->Sign("x");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.public_key().Verify("x", *sig).ok());
}

TEST_P(KeysTest, PublicPemAndDerRoundTripAndKeyIdIsStable) {
  PrivateKey key = MustGenerate(GetParam());
  const PublicKey& pub = key.public_key();
  std::string pem = pub.ToPem();
  EXPECT_THAT(pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  absl::StatusOr<PublicKey> from_pem = PublicKey::FromPem(pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  absl::StatusOr<PublicKey> from_der = PublicKey::FromDer(pub.der());
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  EXPECT_EQ(from_pem->der(), pub.der());
  EXPECT_EQ(from_der->algorithm(), GetParam());

  EXPECT_EQ(pub.KeyId().size(), 32u);
  EXPECT_EQ(pub.KeyId(), Sha256(pub.der()));
  EXPECT_EQ(pub.KeyId(), from_pem->KeyId());
  EXPECT_EQ(pub.KeyId(), from_der->KeyId());
  EXPECT_NE(pub.KeyId(), MustGenerate(GetParam()).public_key().KeyId());

  PublicKey copy = *from_der;  // Copyable; the copy verifies too.
  absl::StatusOr<std::string> sig = key.Sign("y");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(copy.Verify("y", *sig).ok());
}

TEST_P(KeysTest, DomainSeparatedSignatures) {
  PrivateKey key = MustGenerate(GetParam());
  const PublicKey& pub = key.public_key();
  std::string record_id = DomainHash("cdl/record/v1", "body");
  absl::StatusOr<std::string> sig = SignDomain(key, "cdl/sig/v1", record_id);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyDomain(pub, "cdl/sig/v1", record_id, *sig).ok());
  EXPECT_TRUE(
      pub.Verify(std::string("cdl/sig/v1") + '\0' + record_id, *sig).ok());
  EXPECT_FALSE(VerifyDomain(pub, "cdl/commit/v1", record_id, *sig).ok());
  EXPECT_FALSE(pub.Verify(record_id, *sig).ok());
  EXPECT_FALSE(VerifyDomain(pub, "cdl/sig/v", "1" + record_id, *sig).ok());
}

TEST_P(KeysTest, PublicKeyIsUsableFromManyThreadsAtOnce) {
  PrivateKey key = MustGenerate(GetParam());
  absl::StatusOr<std::string> sig = key.Sign("shared");
  ASSERT_TRUE(sig.ok());
  const PublicKey pub = key.public_key();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!pub.Verify("shared", *sig).ok()) ++failures;
        if (pub.Verify("other", *sig).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- parsing hostile or unsupported keys ----

TEST(PublicKeyTest, RejectsMalformedDer) {
  PrivateKey key = MustGenerate(Algorithm::kEcdsaP256Sha256);
  const std::string& der = key.public_key().der();
  EXPECT_FALSE(PublicKey::FromDer("").ok());
  EXPECT_FALSE(PublicKey::FromDer("garbage").ok());
  for (size_t len = 1; len < der.size(); ++len) {
    EXPECT_FALSE(PublicKey::FromDer(der.substr(0, len)).ok()) << len;
  }
  absl::StatusOr<PublicKey> trailing = PublicKey::FromDer(der + '\0');
  EXPECT_EQ(trailing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trailing.status().message(), HasSubstr("trailing"));
  // A point that is not on the curve.
  std::string off_curve = der;
  off_curve.back() ^= 1;
  EXPECT_FALSE(PublicKey::FromDer(off_curve).ok());
}

TEST(PublicKeyTest, RejectsNonCanonicalEncodingsOfAValidKey) {
  const std::string uncompressed = Unhex(
      "3059301306072a8648ce3d020106082a8648ce3d0301070342000442d2b355dedb0e6c07"
      "44753ef4e2e843c190b00da236dc677e6e40c02df9f8bc1e0fd34b70f0dd286333d522fc"
      "b878afd67355916037f38daa13c26913b3f8fb");
  ASSERT_TRUE(PublicKey::FromDer(uncompressed).ok());
  const std::string compressed = Unhex(
      "3039301306072a8648ce3d020106082a8648ce3d0301070322000342d2b355dedb0e6c07"
      "44753ef4e2e843c190b00da236dc677e6e40c02df9f8bc");
  absl::StatusOr<PublicKey> got = PublicKey::FromDer(compressed);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("canonical"));
  // The same key with explicit curve parameters.
  const std::string explicit_params = Unhex(
      "3082014b3082010306072a8648ce3d02013081f7020101302c06072a8648ce3d010102"
      "2100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b"
      "0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc0420"
      "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c4"
      "9d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a4"
      "40f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce"
      "33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6fa"
      "ada7179e84f3b9cac2fc6325510201010342000442d2b355dedb0e6c0744753ef4e2e843"
      "c190b00da236dc677e6e40c02df9f8bc1e0fd34b70f0dd286333d522fcb878afd6735591"
      "6037f38daa13c26913b3f8fb");
  EXPECT_FALSE(PublicKey::FromDer(explicit_params).ok());
}

TEST(PublicKeyTest, RejectsUnsupportedAlgorithms) {
  absl::StatusOr<PublicKey> p384 = PublicKey::FromPem(
      "-----BEGIN PUBLIC KEY-----\n"
      "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEp4NpAFgDDgWS+1BVB5axPquFpr5DPGXx\n"
      "ssT50bC77BmnOajs63uPMCqlogtKBszpmdzmYlO39MLhzfWZFebCnm8ngGAzvkto\n"
      "E952lKQsDNUIyru6mflIVDcS966SMtal\n"
      "-----END PUBLIC KEY-----\n");
  EXPECT_EQ(p384.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p384.status().message(), HasSubstr("secp384r1"));
  absl::StatusOr<PublicKey> x25519 = PublicKey::FromDer(Unhex(
      "302a300506032b656e032100a87a33877d2abf298a12c1025a6e54298bde3b7bac1fa69b"
      "524c11c9a1599f6a"));
  EXPECT_EQ(x25519.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(x25519.status().message(), HasSubstr("X25519"));
}

TEST(PublicKeyTest, FromPemNeedsAPublicKeyBlock) {
  EXPECT_FALSE(PublicKey::FromPem("").ok());
  EXPECT_FALSE(PublicKey::FromPem("not pem").ok());
  PrivateKey key = MustGenerate(Algorithm::kEd25519);
  absl::StatusOr<PublicKey> from_private = PublicKey::FromPem(key.ToPem());
  EXPECT_EQ(from_private.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(from_private.status().message(), HasSubstr("PUBLIC KEY"));
  // The error names the block type but never echoes the key.
  EXPECT_THAT(from_private.status().message(),
              Not(HasSubstr(key.ToPem().substr(28, 20))));
}

TEST(PrivateKeyTest, RejectsGarbageAndEncryptedPem) {
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
  EXPECT_FALSE(PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                   "-----END PRIVATE KEY-----\n")
                   .ok());
  absl::StatusOr<PrivateKey> encrypted = PrivateKey::FromPem(
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n");
  EXPECT_EQ(encrypted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(encrypted.status().message(), HasSubstr("encrypted"));
  PrivateKey key = MustGenerate(Algorithm::kSm2Sm3);
  EXPECT_FALSE(PrivateKey::FromPem(key.public_key().ToPem()).ok());
}

TEST(PrivateKeyTest, FromEvpPkeyTreatsEcKeysOnTheSm2CurveAsSm2) {
  // OpenSSL's "EC" keygen on curve SM2 gives an EC-typed key; signing with
  // it as-is would be ECDSA over SM2's curve, which no SM2 verifier accepts.
  EVP_PKEY* ec_sm2 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "SM2");
  ASSERT_NE(ec_sm2, nullptr);
  ASSERT_TRUE(EVP_PKEY_is_a(ec_sm2, "EC"));
  absl::StatusOr<PrivateKey> key = PrivateKey::FromEvpPkey(ec_sm2);
  EVP_PKEY_free(ec_sm2);  // The PrivateKey holds its own reference.
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->algorithm(), Algorithm::kSm2Sm3);
  absl::StatusOr<std::string> sig = key->Sign("m");
  ASSERT_TRUE(sig.ok());
  // Verified by a public key parsed from DER, i.e. as an SM2 key.
  absl::StatusOr<PublicKey> pub = PublicKey::FromDer(key->public_key().der());
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Verify("m", *sig).ok());
  // And it round-trips through PEM as SM2.
  absl::StatusOr<PrivateKey> back = PrivateKey::FromPem(key->ToPem());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->algorithm(), Algorithm::kSm2Sm3);
}

TEST(PrivateKeyTest, FromEvpPkeyRejectsNullPublicOnlyAndUnsupportedKeys) {
  EXPECT_EQ(PrivateKey::FromEvpPkey(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (Algorithm a :
       {Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519, Algorithm::kSm2Sm3}) {
    const std::string der = MustGenerate(a).public_key().der();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* pub_only = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    ASSERT_NE(pub_only, nullptr);
    absl::StatusOr<PrivateKey> key = PrivateKey::FromEvpPkey(pub_only);
    EVP_PKEY_free(pub_only);
    EXPECT_FALSE(key.ok()) << AlgorithmName(a);
  }
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  absl::StatusOr<PrivateKey> key = PrivateKey::FromEvpPkey(p384);
  EVP_PKEY_free(p384);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrivateKeyTest, MovedFromKeyFailsCleanly) {
  PrivateKey key = MustGenerate(Algorithm::kEd25519);
  PrivateKey moved = std::move(key);
  // NOLINTNEXTLINE(bugprone-use-after-move): checking the moved-from state.
  EXPECT_EQ(key.Sign("m").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(moved.Sign("m").ok());
}

// ---- known answers and interoperability ----

// RFC 8032 section 7.1, TEST 1: pure Ed25519 over the empty message.
TEST(Ed25519Test, Rfc8032TestVector1) {
  const std::string seed =
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const std::string pkcs8 = Unhex("302e020100300506032b657004220420") + seed;
  std::string pem = "-----BEGIN PRIVATE KEY-----\n" + Base64Encode(pkcs8) +
                    "\n-----END PRIVATE KEY-----\n";
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(pem);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->algorithm(), Algorithm::kEd25519);
  EXPECT_EQ(HexEncode(key->public_key().der()),
            "302a300506032b6570032100"
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  absl::StatusOr<std::string> sig = key->Sign("");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(HexEncode(*sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(key->public_key().Verify("", *sig).ok());
}

// Signatures made with the openssl command-line tool, so our parameters
// (hash, SM2 distinguishing id) are checked against an independent caller:
//   openssl pkeyutl -sign -rawin -digest sm3
//       -pkeyopt distid:1234567812345678 -inkey sm2.key -in msg
//   openssl dgst -sha256 -sign p256.key msg
constexpr std::string_view kInteropMessage = "cdl interop test message";

TEST(InteropTest, Sm2SignatureWithStandardIdFromOpenSslCliVerifies) {
  absl::StatusOr<PublicKey> pub = PublicKey::FromPem(
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAExlnt4KVSvvsn0AOun76K/QTc64xI\n"
      "G1ltP7UAMEJs/50aFKW76RMVmvPm+eYj5Dy8Ax/aJCAIjR1IVXtvAUPfug==\n"
      "-----END PUBLIC KEY-----\n");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->algorithm(), Algorithm::kSm2Sm3);
  const std::string with_standard_id = Unhex(
      "3046022100f78f11e51760513e5d18292ae1d68491c38b63055ba82cc4465dfb948e6a23"
      "9a022100a81d09e7e212e57a9c6f0899f2f67f2942b2ce4e53eca22fe888051134b14c1"
      "8");
  EXPECT_TRUE(pub->Verify(kInteropMessage, with_standard_id).ok());
  // The same key and message signed with OpenSSL's own default (empty) id
  // must not verify: the id is part of what is signed.
  const std::string with_empty_id = Unhex(
      "3045022100e35cbaaf7a829254f0d141053a7761e1f1cfa9b99ab70077a28d8f55f94ca9"
      "b202205a55cb6d84cf9df5cdb7818a229894c05ce92e4ee3cf50b3a1d894babdeeb5d6");
  EXPECT_FALSE(pub->Verify(kInteropMessage, with_empty_id).ok());
}

TEST(InteropTest, EcdsaP256SignatureFromOpenSslCliVerifies) {
  absl::StatusOr<PublicKey> pub = PublicKey::FromPem(
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQtKzVd7bDmwHRHU+9OLoQ8GQsA2i\n"
      "Ntxnfm5AwC35+LweD9NLcPDdKGMz1SL8uHiv1nNVkWA3842qE8JpE7P4+w==\n"
      "-----END PUBLIC KEY-----\n");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->algorithm(), Algorithm::kEcdsaP256Sha256);
  const std::string sig = Unhex(
      "3045022100a2644e772b3e79379f306855a16935075c6d3bc831c2ed21d84c3dd4b26479"
      "ce02202a95a40bb040308f235d6dcef75abe049bec99d5d113c25af9112f2337cea9ce");
  EXPECT_TRUE(pub->Verify(kInteropMessage, sig).ok());
  EXPECT_FALSE(pub->Verify("cdl interop test messagE", sig).ok());
}

// ---- key files ----

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/cdl_keys_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const char* name : {"/key.pem", "/pub.pem", "/big.pem", "/bad.pem"}) {
      ::unlink((dir_ + name).c_str());
    }
    ::rmdir(dir_.c_str());
  }
  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string dir_;
};

TEST_F(KeyFileTest, PrivateKeyFileIsCreatedWithMode0600AndReadsBack) {
  const std::string path = dir_ + "/key.pem";
  PrivateKey key = MustGenerate(Algorithm::kSm2Sm3);
  ASSERT_TRUE(WritePrivateKeyFile(path, key).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
  absl::StatusOr<PrivateKey> back = ReadPrivateKeyFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->public_key(), key.public_key());
  EXPECT_EQ(back->algorithm(), Algorithm::kSm2Sm3);
}

TEST_F(KeyFileTest, ExistingKeyFileIsKeptUnlessOverwriteIsAsked) {
  const std::string path = dir_ + "/key.pem";
  PrivateKey first = MustGenerate(Algorithm::kEd25519);
  PrivateKey second = MustGenerate(Algorithm::kEd25519);
  ASSERT_TRUE(WritePrivateKeyFile(path, first).ok());
  absl::Status again = WritePrivateKeyFile(path, second);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr(path));
  absl::StatusOr<PrivateKey> still = ReadPrivateKeyFile(path);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->public_key(), first.public_key());

  ASSERT_TRUE(WritePrivateKeyFile(path, second, /*overwrite=*/true).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
  absl::StatusOr<PrivateKey> replaced = ReadPrivateKeyFile(path);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->public_key(), second.public_key());
}

TEST_F(KeyFileTest, OverwriteOfALooseFileLeavesMode0600) {
  const std::string path = dir_ + "/key.pem";
  {
    std::ofstream out(path);
    out << "old";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  PrivateKey key = MustGenerate(Algorithm::kEcdsaP256Sha256);
  ASSERT_TRUE(WritePrivateKeyFile(path, key, /*overwrite=*/true).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(KeyFileTest, RefusesKeyFileReadableOrWritableByOthers) {
  const std::string path = dir_ + "/key.pem";
  PrivateKey key = MustGenerate(Algorithm::kEcdsaP256Sha256);
  ASSERT_TRUE(WritePrivateKeyFile(path, key).ok());

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  absl::StatusOr<PrivateKey> loose = ReadPrivateKeyFile(path);
  EXPECT_EQ(loose.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loose.status().message(), HasSubstr("readable by others"));
  EXPECT_THAT(loose.status().message(), HasSubstr("0644"));
  EXPECT_THAT(loose.status().message(), HasSubstr("chmod 600 " + path));

  for (mode_t mode : {0640, 0604, 0620, 0602, 0660, 0601}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    EXPECT_EQ(ReadPrivateKeyFile(path).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadPrivateKeyFile(path).ok());
}

TEST_F(KeyFileTest, MissingOversizedAndNonRegularFilesAreRefused) {
  EXPECT_EQ(ReadPrivateKeyFile(dir_ + "/missing.pem").status().code(),
            absl::StatusCode::kNotFound);
  const std::string big = dir_ + "/big.pem";
  {
    std::ofstream out(big);
    out << std::string(kMaxKeyFileSize + 1, 'A');
  }
  ASSERT_EQ(::chmod(big.c_str(), 0600), 0);
  absl::StatusOr<PrivateKey> too_big = ReadPrivateKeyFile(big);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(too_big.status().message(), HasSubstr("65536"));
  EXPECT_FALSE(ReadPrivateKeyFile(dir_).ok());  // A directory.
}

TEST_F(KeyFileTest, ErrorsNeverEchoKeyMaterial) {
  const std::string path = dir_ + "/bad.pem";
  PrivateKey key = MustGenerate(Algorithm::kEd25519);
  std::string pem = key.ToPem();
  // Corrupt the PEM so it no longer parses, then read it.
  std::string corrupted = pem;
  corrupted.replace(corrupted.find("-----END"), 8, "-----BAD");
  {
    std::ofstream out(path);
    out << corrupted;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  absl::StatusOr<PrivateKey> got = ReadPrivateKeyFile(path);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr(path));
  std::string body = pem.substr(pem.find('\n') + 1, 20);
  EXPECT_THAT(got.status().message(), Not(HasSubstr(body)));
}

TEST_F(KeyFileTest, PublicKeyFileRoundTrip) {
  const std::string path = dir_ + "/pub.pem";
  PrivateKey key = MustGenerate(Algorithm::kSm2Sm3);
  ASSERT_TRUE(WritePublicKeyFile(path, key.public_key()).ok());
  EXPECT_EQ(ModeOf(path), 0644u);
  absl::StatusOr<PublicKey> back = ReadPublicKeyFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, key.public_key());
  EXPECT_EQ(WritePublicKeyFile(path, key.public_key()).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(
      WritePublicKeyFile(path, key.public_key(), /*overwrite=*/true).ok());
}

}  // namespace
}  // namespace cdl::crypto
