#include "crypto/x509.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::crypto {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

PrivateKey MustGenerate(Algorithm algorithm) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(algorithm);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

CertTime Now() { return std::chrono::system_clock::now(); }

std::string MustCa(const PrivateKey& key, std::string cn = "cdl test CA") {
  absl::StatusOr<std::string> pem = CreateCaCertificate(
      key, {.common_name = cn, .not_before = Now() - 72h, .not_after = Now() + 24h});
  EXPECT_TRUE(pem.ok()) << pem.status();
  return pem.value_or("");
}

NodeCertificateOptions NodeOptions(std::string cn) {
  return {.common_name = std::move(cn),
          .extra_names = {},
          .not_before = Now() - 1h,
          .not_after = Now() + 24h};
}

// The subjectAltName entries of a certificate as "DNS:x" / "IP:y" strings.
std::vector<std::string> AltNames(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), pem.size()), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  std::vector<std::string> out;
  if (!cert) return out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const unsigned char* ip = ASN1_STRING_get0_data(n->d.iPAddress);
      int len = ASN1_STRING_length(n->d.iPAddress);
      std::string text = "IP:";
      for (int b = 0; len == 4 && b < 4; ++b) {
        text += (b ? "." : "") + std::to_string(ip[b]);
      }
      for (int b = 0; len == 16 && b < 16; b += 2) {
        char group[8];
        snprintf(group, sizeof(group), "%s%x", b ? ":" : "", ip[b] << 8 | ip[b + 1]);
        text += group;
      }
      out.push_back(text);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

class X509Test : public ::testing::TestWithParam<Algorithm> {};

TEST_P(X509Test, IssuedCertificateVerifiesAndCarriesTheNodeKey) {
  PrivateKey ca_key = MustGenerate(GetParam());
  PrivateKey node_key = MustGenerate(GetParam());
  std::string ca = MustCa(ca_key);
  ASSERT_TRUE(VerifyCertificate(ca, ca).ok()) << VerifyCertificate(ca, ca);

  NodeCertificateOptions options = NodeOptions("validator-1");
  options.extra_names = {"node1.example.org", "10.0.0.7", "::1"};
  absl::StatusOr<std::string> cert =
      IssueNodeCertificate(ca, ca_key, node_key.public_key(), options);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_TRUE(VerifyCertificate(*cert, ca).ok()) << VerifyCertificate(*cert, ca);

  absl::StatusOr<std::string> spki = CertificatePublicKeyDer(*cert);
  ASSERT_TRUE(spki.ok()) << spki.status();
  EXPECT_EQ(*spki, node_key.public_key().der());
  EXPECT_NE(*spki, ca_key.public_key().der());
  EXPECT_EQ(*CertificateCommonName(*cert), "validator-1");
  EXPECT_THAT(AltNames(*cert),
              ::testing::ElementsAre("IP:127.0.0.1", "DNS:localhost", "DNS:node1.example.org",
                                     "IP:10.0.0.7", "IP:0:0:0:0:0:0:0:1"));
}

TEST_P(X509Test, ExpiredAndNotYetValidCertificatesFail) {
  PrivateKey ca_key = MustGenerate(GetParam());
  PrivateKey node_key = MustGenerate(GetParam());
  std::string ca = MustCa(ca_key);
  NodeCertificateOptions options = NodeOptions("v");
  options.not_before = Now() - 48h;
  options.not_after = Now() - 24h;
  absl::StatusOr<std::string> expired =
      IssueNodeCertificate(ca, ca_key, node_key.public_key(), options);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_THAT(VerifyCertificate(*expired, ca).message(), HasSubstr("expired"));
  // It was valid back then.
  EXPECT_TRUE(VerifyCertificate(*expired, ca, Now() - 36h).ok());

  options.not_before = Now() + 24h;
  options.not_after = Now() + 48h;
  absl::StatusOr<std::string> future =
      IssueNodeCertificate(ca, ca_key, node_key.public_key(), options);
  ASSERT_TRUE(future.ok());
  EXPECT_THAT(VerifyCertificate(*future, ca).message(), HasSubstr("not yet valid"));
}

TEST_P(X509Test, CertificateFromAnotherCaFails) {
  PrivateKey ca_key = MustGenerate(GetParam());
  PrivateKey other_key = MustGenerate(GetParam());
  PrivateKey node_key = MustGenerate(GetParam());
  std::string ca = MustCa(ca_key);
  // Same name, different key: only the signature tells them apart.
  std::string other = MustCa(other_key);
  absl::StatusOr<std::string> cert =
      IssueNodeCertificate(other, other_key, node_key.public_key(), NodeOptions("v"));
  ASSERT_TRUE(cert.ok());
  absl::Status s = VerifyCertificate(*cert, ca);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("does not verify"));
  EXPECT_TRUE(VerifyCertificate(*cert, other).ok());
  // Trusting both CAs accepts it.
  EXPECT_TRUE(VerifyCertificate(*cert, ca + other).ok());
}

TEST_P(X509Test, NodeCertificateCannotIssueFurtherCertificates) {
  PrivateKey ca_key = MustGenerate(GetParam());
  PrivateKey node_key = MustGenerate(GetParam());
  std::string ca = MustCa(ca_key);
  absl::StatusOr<std::string> node =
      IssueNodeCertificate(ca, ca_key, node_key.public_key(), NodeOptions("v"));
  ASSERT_TRUE(node.ok());
  // Used as a CA, a node certificate is refused at issuance...
  PrivateKey leaf_key = MustGenerate(GetParam());
  EXPECT_THAT(IssueNodeCertificate(*node, node_key, leaf_key.public_key(), NodeOptions("x"))
                  .status()
                  .message(),
              HasSubstr("not a CA"));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, X509Test,
                         ::testing::Values(Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519),
                         [](const auto& info) {
                           return info.param == Algorithm::kEd25519 ? "Ed25519" : "P256";
                         });

TEST(X509ErrorsTest, Sm2KeysAreRefusedForTls) {
  PrivateKey p256 = MustGenerate(Algorithm::kEcdsaP256Sha256);
  PrivateKey sm2 = MustGenerate(Algorithm::kSm2Sm3);
  std::string ca = MustCa(p256);
  absl::StatusOr<std::string> node =
      IssueNodeCertificate(ca, p256, sm2.public_key(), NodeOptions("v"));
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(node.status().message(), HasSubstr("SM2"));
  absl::StatusOr<std::string> sm2_ca =
      CreateCaCertificate(sm2, {.common_name = "ca", .not_before = Now(), .not_after = Now() + 1h});
  EXPECT_THAT(sm2_ca.status().message(), HasSubstr("SM2"));
}

TEST(X509ErrorsTest, BadInputsAreInvalidArgument) {
  PrivateKey ca_key = MustGenerate(Algorithm::kEcdsaP256Sha256);
  PrivateKey other = MustGenerate(Algorithm::kEcdsaP256Sha256);
  std::string ca = MustCa(ca_key);
  auto code = [](const auto& result) { return result.status().code(); };
  // Wrong CA key for the CA certificate.
  EXPECT_THAT(
      IssueNodeCertificate(ca, other, other.public_key(), NodeOptions("v")).status().message(),
      HasSubstr("does not belong"));
  EXPECT_EQ(code(IssueNodeCertificate("garbage", ca_key, other.public_key(), NodeOptions("v"))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(IssueNodeCertificate(ca, ca_key, other.public_key(), NodeOptions(""))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code(IssueNodeCertificate(ca, ca_key, other.public_key(), NodeOptions(std::string(65, 'x')))),
      absl::StatusCode::kInvalidArgument);
  NodeCertificateOptions bad_name = NodeOptions("v");
  bad_name.extra_names = {"a,b=c"};
  EXPECT_THAT(IssueNodeCertificate(ca, ca_key, other.public_key(), bad_name).status().message(),
              HasSubstr("neither an IP address nor a DNS name"));
  NodeCertificateOptions empty_window = NodeOptions("v");
  empty_window.not_after = empty_window.not_before;
  EXPECT_EQ(code(IssueNodeCertificate(ca, ca_key, other.public_key(), empty_window)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(CertificatePublicKeyDer("")), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(CertificatePublicKeyDer(std::string(kMaxCertificatePemSize + 1, 'A'))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCertificate("nope", ca).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCertificate(ca, "nope").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdl::crypto
