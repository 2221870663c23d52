#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <utility>

#include "crypto/openssl_util.h"
#include "crypto/str_cat.h"

namespace cdl::crypto {
namespace {

using internal::BioPtr;
using internal::EvpPkeyPtr;
using internal::OpenSslDeleter;
using internal::TakeOpenSslError;

using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using Asn1Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

constexpr size_t kMaxCommonNameSize = 64;  // RFC 5280 ub-common-name
constexpr size_t kMaxDnsNameSize = 253;

absl::Status OpenSslFailure(std::string_view what) {
  return absl::InternalError(cdl::StrCat(what, ": ", TakeOpenSslError()));
}

absl::Status RefuseSm2(Algorithm algorithm, std::string_view role) {
  if (algorithm == Algorithm::kSm2Sm3) {
    return absl::InvalidArgumentError(cdl::StrCat(
        role,
        " is an SM2 key: OpenSSL 3.0 (and so gRPC's TLS) has no SM2 signature scheme for TLS, so "
        "it cannot authenticate a TLS connection; use an ecdsa-p256-sha256 or ed25519 key"));
  }
  return absl::OkStatus();
}

// The digest X509_sign needs for a key: SHA-256 for ECDSA, none for Ed25519.
const EVP_MD* SigningDigest(Algorithm algorithm) {
  return algorithm == Algorithm::kEcdsaP256Sha256 ? EVP_sha256() : nullptr;
}

// PrivateKey deliberately does not expose its EVP_PKEY; take it through its
// PKCS#8 PEM and wipe the copy.
absl::StatusOr<EvpPkeyPtr> ToEvpPrivateKey(const PrivateKey& key) {
  std::string pem = key.ToPem();
  EvpPkeyPtr pkey;
  if (!pem.empty()) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio) pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    OPENSSL_cleanse(pem.data(), pem.size());
  }
  if (!pkey) return OpenSslFailure("cannot load the private key");
  return pkey;
}

absl::StatusOr<EvpPkeyPtr> ToEvpPublicKey(const PublicKey& key) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.der().data());
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(key.der().size())));
  if (!pkey) return OpenSslFailure("cannot load the public key");
  return pkey;
}

// Every certificate in `pem`, in order. InvalidArgument if there is none.
absl::StatusOr<X509StackPtr> ParseCertificates(std::string_view pem, std::string_view what) {
  if (pem.size() > kMaxCertificatePemSize) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, ": larger than ", kMaxCertificatePemSize, " bytes"));
  }
  X509StackPtr certs(sk_X509_new_null());
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!certs || !bio) return OpenSslFailure("out of memory");
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (sk_X509_push(certs.get(), cert.get()) == 0) return OpenSslFailure("out of memory");
    cert.release();  // owned by the stack now
  }
  ERR_clear_error();  // the read past the last certificate always fails
  if (sk_X509_num(certs.get()) == 0) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, ": no PEM \"CERTIFICATE\" block could be parsed"));
  }
  return certs;
}

absl::StatusOr<X509Ptr> ParseFirstCertificate(std::string_view pem, std::string_view what) {
  absl::StatusOr<X509StackPtr> certs = ParseCertificates(pem, what);
  if (!certs.ok()) return certs.status();
  X509Ptr first(sk_X509_shift(certs->get()));
  return first;
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslFailure("cannot encode the certificate");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::Status CheckValidity(CertTime not_before, CertTime not_after) {
  if (not_after <= not_before) {
    return absl::InvalidArgumentError("certificate validity: not_after must be after not_before");
  }
  return absl::OkStatus();
}

absl::StatusOr<X509NamePtr> CommonNameOnly(std::string_view common_name, std::string_view what) {
  if (common_name.empty() || common_name.size() > kMaxCommonNameSize) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, ": must be 1 to ", kMaxCommonNameSize, " bytes"));
  }
  X509NamePtr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, ": not a valid name: ", TakeOpenSslError()));
  }
  return name;
}

// Version, serial, validity, subject, issuer and public key of a new
// certificate.
absl::StatusOr<X509Ptr> NewCertificate(X509_NAME* subject, X509_NAME* issuer, EVP_PKEY* pubkey,
                                       CertTime not_before, CertTime not_after) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslFailure("out of memory");
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslFailure("cannot make a serial number");
  }
  time_t nb = std::chrono::system_clock::to_time_t(not_before);
  time_t na = std::chrono::system_clock::to_time_t(not_after);
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), nb) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), na) == nullptr ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1 || X509_set_pubkey(cert.get(), pubkey) != 1) {
    return OpenSslFailure("cannot fill in the certificate");
  }
  return cert;
}

// Adds an extension given in OpenSSL's config syntax. Only ever called with
// constant values, never with caller-supplied text.
absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(cdl::StrCat("cannot add extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

bool IsDnsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '*';
}

// Appends one subjectAltName entry: IP if `name` parses as an address, else DNS.
absl::Status AddAltName(GENERAL_NAMES* names, std::string_view name) {
  std::string text(name);
  GeneralNamePtr entry(GENERAL_NAME_new());
  if (!entry) return OpenSslFailure("out of memory");
  Asn1OctetStringPtr ip(a2i_IPADDRESS(text.c_str()));
  if (ip) {
    GENERAL_NAME_set0_value(entry.get(), GEN_IPADD, ip.release());
  } else {
    ERR_clear_error();
    if (text.empty() || text.size() > kMaxDnsNameSize) {
      return absl::InvalidArgumentError(cdl::StrCat(
          "certificate name \"", text, "\": must be 1 to ", kMaxDnsNameSize, " characters"));
    }
    for (char c : text) {
      if (!IsDnsNameChar(c)) {
        return absl::InvalidArgumentError(
            cdl::StrCat("certificate name \"", text, "\": neither an IP address nor a DNS name"));
      }
    }
    Asn1Ia5StringPtr dns(ASN1_IA5STRING_new());
    if (!dns || ASN1_STRING_set(dns.get(), text.data(), static_cast<int>(text.size())) != 1) {
      return OpenSslFailure("out of memory");
    }
    GENERAL_NAME_set0_value(entry.get(), GEN_DNS, dns.release());
  }
  if (sk_GENERAL_NAME_push(names, entry.get()) == 0) return OpenSslFailure("out of memory");
  entry.release();
  return absl::OkStatus();
}

absl::Status Sign(X509* cert, EVP_PKEY* key, Algorithm algorithm) {
  if (X509_sign(cert, key, SigningDigest(algorithm)) <= 0) {
    return OpenSslFailure("cannot sign the certificate");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CreateCaCertificate(const PrivateKey& ca_key,
                                                const CaCertificateOptions& options) {
  if (auto s = RefuseSm2(ca_key.algorithm(), "the CA key"); !s.ok()) return s;
  if (auto s = CheckValidity(options.not_before, options.not_after); !s.ok()) return s;
  absl::StatusOr<X509NamePtr> name = CommonNameOnly(options.common_name, "CA common name");
  if (!name.ok()) return name.status();
  absl::StatusOr<EvpPkeyPtr> pkey = ToEvpPrivateKey(ca_key);
  if (!pkey.ok()) return pkey.status();
  absl::StatusOr<X509Ptr> cert =
      NewCertificate(name->get(), name->get(), pkey->get(), options.not_before, options.not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    if (auto s = AddExtension(c, c, nid, value); !s.ok()) return s;
  }
  if (auto s = Sign(c, pkey->get(), ca_key.algorithm()); !s.ok()) return s;
  return ToPem(c);
}

absl::StatusOr<std::string> IssueNodeCertificate(std::string_view ca_cert_pem,
                                                 const PrivateKey& ca_key,
                                                 const PublicKey& node_key,
                                                 const NodeCertificateOptions& options) {
  if (auto s = RefuseSm2(ca_key.algorithm(), "the CA key"); !s.ok()) return s;
  if (auto s = RefuseSm2(node_key.algorithm(), "the node key"); !s.ok()) return s;
  if (auto s = CheckValidity(options.not_before, options.not_after); !s.ok()) return s;
  absl::StatusOr<X509Ptr> ca = ParseFirstCertificate(ca_cert_pem, "CA certificate");
  if (!ca.ok()) return ca.status();
  if (X509_check_ca(ca->get()) == 0) {
    return absl::InvalidArgumentError("CA certificate: is not a CA certificate");
  }
  absl::StatusOr<EvpPkeyPtr> ca_pkey = ToEvpPrivateKey(ca_key);
  if (!ca_pkey.ok()) return ca_pkey.status();
  if (X509_check_private_key(ca->get(), ca_pkey->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CA certificate: does not belong to the given CA key");
  }
  absl::StatusOr<X509NamePtr> subject = CommonNameOnly(options.common_name, "node common name");
  if (!subject.ok()) return subject.status();
  absl::StatusOr<EvpPkeyPtr> node_pkey = ToEvpPublicKey(node_key);
  if (!node_pkey.ok()) return node_pkey.status();

  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslFailure("out of memory");
  for (std::string_view n : {std::string_view("127.0.0.1"), std::string_view("localhost")}) {
    if (auto s = AddAltName(names.get(), n); !s.ok()) return s;
  }
  for (const std::string& n : options.extra_names) {
    if (auto s = AddAltName(names.get(), n); !s.ok()) return s;
  }

  absl::StatusOr<X509Ptr> cert =
      NewCertificate(subject->get(), X509_get_subject_name(ca->get()), node_pkey->get(),
                     options.not_before, options.not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "serverAuth,clientAuth"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    if (auto s = AddExtension(c, ca->get(), nid, value); !s.ok()) return s;
  }
  if (X509_add1_ext_i2d(c, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("cannot add subjectAltName");
  }
  if (auto s = Sign(c, ca_pkey->get(), ca_key.algorithm()); !s.ok()) return s;
  return ToPem(c);
}

absl::StatusOr<std::string> CertificatePublicKeyDer(std::string_view cert_pem) {
  absl::StatusOr<X509Ptr> cert = ParseFirstCertificate(cert_pem, "certificate");
  if (!cert.ok()) return cert.status();
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert->get()), &der);
  if (len <= 0) return OpenSslFailure("cannot encode the certificate's public key");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> CertificateCommonName(std::string_view cert_pem) {
  absl::StatusOr<X509Ptr> cert = ParseFirstCertificate(cert_pem, "certificate");
  if (!cert.ok()) return cert.status();
  X509_NAME* subject = X509_get_subject_name(cert->get());
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return absl::InvalidArgumentError("certificate: subject has no common name");
  ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("certificate: common name is not valid text");
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

absl::Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_pem, CertTime at) {
  absl::StatusOr<X509StackPtr> chain = ParseCertificates(cert_pem, "certificate");
  if (!chain.ok()) return chain.status();
  absl::StatusOr<X509StackPtr> anchors = ParseCertificates(ca_pem, "CA certificate");
  if (!anchors.ok()) return anchors.status();
  X509Ptr leaf(sk_X509_shift(chain->get()));  // the rest are untrusted intermediates
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx) return OpenSslFailure("out of memory");
  for (int i = 0; i < sk_X509_num(anchors->get()); ++i) {
    if (X509_STORE_add_cert(store.get(), sk_X509_value(anchors->get(), i)) != 1) {
      return OpenSslFailure("cannot load the CA certificate");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain->get()) != 1) {
    return OpenSslFailure("cannot set up certificate verification");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                             std::chrono::system_clock::to_time_t(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::InvalidArgumentError(cdl::StrCat("certificate does not verify against the CA: ",
                                                  X509_verify_cert_error_string(error)));
  }
  return absl::OkStatus();
}

}  // namespace cdl::crypto
