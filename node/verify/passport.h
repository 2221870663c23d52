// Green passports: the file encoding and the offline verifier.
//
// A passport (proto/passport.proto, docs/passport.md) proves, against the
// genesis validator set alone, that its subject (a ProductFootprint or a
// Disclosure) holds a certificate that is valid in a jurisdiction at a time:
//
//   1. the checkpoint's commit certificate has a quorum of distinct genesis
//      validators and no bad or foreign signature (VerifyCheckpoint);
//   2. every record parses strictly, belongs to the chain, is included in the
//      checkpoint's ledger tree, and every signature on it verifies under a
//      key registered for its signer (registration from the genesis founders
//      or a registration / key rotation record in the passport; the algorithm
//      is the registered key's, never the file's);
//   3. roles: certificates are signed by certifiers, accreditations by an
//      accreditor or regulator for its own jurisdiction, agreements by both
//      parties, each an accreditor or regulator of its jurisdiction;
//   4. statuses come from state proofs against the checkpoint's state_root
//      under keys the verifier derives itself (node/verify/state_entry.h);
//   5. a certificate counts when it is valid at `at_ms` (CheckCertificate),
//      its certifier is an active member, accredited for the certificate's
//      standard in its jurisdiction at `at_ms` (CheckAccredited), and that
//      jurisdiction is recognised in the verifier's for the standard at
//      `at_ms` (CheckRecognised);
//   6. every record and state proof is used by the checks above (nothing
//      extra), and the checkpoint is not older than `max_age_ms`.
// The passport is VALID when nothing in 1-4 and 6 failed and at least one
// certificate counts; otherwise INVALID with every reason found. Statuses are
// those at the checkpoint ("status as of checkpoint h"): a revocation after
// it shows only in a newer passport.
//
// Everything here is safe on arbitrary input: limits are checked before work,
// and no input makes it crash or hang.
#ifndef CDL_NODE_VERIFY_PASSPORT_H_
#define CDL_NODE_VERIFY_PASSPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/verify/genesis.h"
#include "passport.pb.h"

namespace cdl::verify {

inline constexpr std::string_view kPassportMagic = "cdl-passport/v1\n";
inline constexpr uint32_t kPassportVersion = 1;
inline constexpr size_t kMaxPassportBytes = 2 * 1024 * 1024;
inline constexpr size_t kMaxPassportRecords = 64;
inline constexpr size_t kMaxPassportStatuses = 64;
inline constexpr size_t kMaxProofHashes = 64;

// The file bytes of `passport`: magic + deterministic protobuf encoding.
std::string EncodePassport(const cdl::v1::Passport& passport);

// Parses file bytes strictly: size limit, magic, well-formed protobuf with no
// unknown fields anywhere, canonical encoding (re-encoding gives the same
// bytes, so no trailing or duplicated data), version, counts within limits.
// InvalidArgument naming what is wrong.
absl::StatusOr<cdl::v1::Passport> DecodePassport(std::string_view bytes);

struct PassportCheckOptions {
  std::string jurisdiction;  // verifier's jurisdiction; "" = the passport's own
  int64_t at_ms = 0;         // time the validity windows are checked at
  int64_t now_ms = 0;        // for max_age_ms
  int64_t max_age_ms = 0;    // 0 = any age
};

// One certificate in the passport and how it fared.
struct PassportCertificate {
  std::string record_id;  // 32 raw bytes
  std::string certifier;
  std::string certifier_name;
  std::string certifier_jurisdiction;
  std::string standard;
  std::string assurance;  // "limited" | "reasonable"
  std::string materiality_pct;
  std::string issued_under;  // certificate.jurisdiction
  int64_t valid_from_ms = 0;
  int64_t valid_until_ms = 0;  // effective (after renewals); 0 = none
  std::string status;          // "active", "suspended", "revoked", ...
  bool counts = false;         // valid in the target jurisdiction at at_ms
  std::string recognised_by;   // agreement parties when issued abroad, e.g. "acc-eu & acc-cn"
  std::vector<std::string> problems;
};

// What the passport is about, taken from its verified subject record.
struct PassportSubject {
  std::string record_id;  // 32 raw bytes
  std::string type;       // "product_footprint" | "disclosure"
  std::string author;
  std::string organisation;  // company name (footprint) or organisation id
  // Footprint: product name, product ids, value and unit.
  std::string product;
  std::vector<std::string> product_ids;
  std::string pcf_value;  // pCfExcludingBiogenic, exactly as written
  std::string pcf_unit;   // e.g. "kgCO2e per 1 kilogram"
  std::string pact_id;
  // Disclosure: period and scopes (tCO2e), exactly as written.
  std::string period;
  std::string scope1_tco2e;
  std::string scope2_location_tco2e;
  std::string scope2_market_tco2e;
  std::string scope3_tco2e;
};

struct PassportVerdict {
  bool valid = false;
  std::vector<std::string> reasons;  // why INVALID; empty when VALID
  std::string jurisdiction;          // the one checked
  int64_t at_ms = 0;
  uint64_t checkpoint_height = 0;    // 0 when the checkpoint did not verify
  int64_t checkpoint_time_ms = 0;
  PassportSubject subject;           // set when the subject record verified
  std::vector<PassportCertificate> certificates;
};

// Verifies passport file bytes as described at the top of this file. Never
// fails as a call: every problem is a reason in the verdict.
PassportVerdict VerifyPassport(const TrustedGenesis& genesis, std::string_view file_bytes,
                               const PassportCheckOptions& options);

// Lowercase names used in verdicts and summaries.
std::string EntryStatusName(int status);
std::string AssuranceName(int assurance);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_PASSPORT_H_
