// X.509 certificates for the validators' mutual TLS.
//
// A cluster runs one small private CA: a self-signed certificate made from a
// cdl PrivateKey. Each validator gets a node certificate from that CA whose
// subject public key is the validator's genesis key, so a TLS peer proves it
// holds a genesis validator key simply by completing the handshake; the peer
// transport then binds the connection to the validator whose genesis key
// equals the certificate's SubjectPublicKeyInfo (CertificatePublicKeyDer).
//
// Algorithms: ECDSA P-256 and Ed25519 keys may be CA and node keys (TLS 1.3
// has signature schemes for both, and OpenSSL 3 / gRPC negotiate them). SM2
// keys are refused with InvalidArgument: OpenSSL 3.0 has no SM2 signature
// scheme for TLS (RFC 8998 is not implemented), so an SM2 certificate could
// never complete a handshake. A validator that must use SM2 for ledger
// signatures needs a separate P-256/Ed25519 TLS identity, which the genesis
// file cannot express yet.
//
// Everything is PEM in, PEM out. Errors never contain key material.
// Thread safety: free functions without shared state; safe from any thread.

#ifndef CDL_CRYPTO_X509_H_
#define CDL_CRYPTO_X509_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/keys.h"

namespace cdl::crypto {

using CertTime = std::chrono::system_clock::time_point;

// Largest PEM text (one certificate or a short chain) accepted as input.
inline constexpr size_t kMaxCertificatePemSize = 64 * 1024;

struct CaCertificateOptions {
  std::string common_name;  // e.g. "cdl cluster CA for chain-a"; required
  CertTime not_before;
  CertTime not_after;  // must be after not_before
};

// A self-signed CA certificate for `ca_key` (basicConstraints CA:TRUE,
// pathlen 0, keyUsage keyCertSign + cRLSign, subject key identifier), with a
// random 127-bit serial. Returns the PEM "CERTIFICATE" block.
// InvalidArgument for an SM2 key, an empty or over-long (>64 bytes) name, or
// an empty validity window.
absl::StatusOr<std::string> CreateCaCertificate(const PrivateKey& ca_key,
                                                const CaCertificateOptions& options);

struct NodeCertificateOptions {
  // Subject CN: the validator id (1..64 bytes). Required.
  std::string common_name;
  // subjectAltName always carries IP:127.0.0.1 and DNS:localhost. Each extra
  // name becomes an IP entry if it parses as an IPv4/IPv6 address and a DNS
  // entry otherwise (e.g. the host of the validator's genesis address).
  std::vector<std::string> extra_names;
  CertTime not_before;
  CertTime not_after;  // must be after not_before
};

// Issues a certificate for `node_key` signed by the CA (`ca_cert_pem` with
// its private key `ca_key`): basicConstraints CA:FALSE, keyUsage
// digitalSignature, extendedKeyUsage serverAuth + clientAuth, subject and
// authority key identifiers, the SANs above. Returns PEM.
// InvalidArgument if the CA certificate does not parse, is not a CA, or does
// not belong to `ca_key`; if either key is SM2; or for bad options.
absl::StatusOr<std::string> IssueNodeCertificate(std::string_view ca_cert_pem,
                                                 const PrivateKey& ca_key,
                                                 const PublicKey& node_key,
                                                 const NodeCertificateOptions& options);

// The SubjectPublicKeyInfo DER of the first certificate in `cert_pem`,
// byte-for-byte as it appears in the certificate (for keys issued by
// IssueNodeCertificate this equals PublicKey::der()). InvalidArgument if no
// certificate parses.
absl::StatusOr<std::string> CertificatePublicKeyDer(std::string_view cert_pem);

// The subject common name of the first certificate in `cert_pem`.
absl::StatusOr<std::string> CertificateCommonName(std::string_view cert_pem);

// Verifies the first certificate in `cert_pem` against the trust anchor(s)
// in `ca_pem` (OpenSSL X509_verify_cert, chain signatures and validity
// windows checked at time `at`). InvalidArgument naming the OpenSSL
// verification error (e.g. "certificate has expired") otherwise.
absl::Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_pem,
                               CertTime at = std::chrono::system_clock::now());

}  // namespace cdl::crypto

#endif  // CDL_CRYPTO_X509_H_
