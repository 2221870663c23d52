// Authority predicates: was a certifier accredited for a standard in a
// jurisdiction at a time, does a recognition agreement carry certificates from
// one jurisdiction into another, is a certificate valid at a time.
//
// Pure functions over parsed payloads and their status entries (StateEntry,
// node/verify/state_entry.h), so the ledger rules (status from its state) and
// an offline passport verifier (status from proofs against a checkpoint) apply
// exactly the same rules. They do not check who signed what or whether the
// records are on the ledger; callers do.
//
// Time: every validity window is half-open, [valid_from_ms, valid_until_ms).
// A record's end of validity is its status entry's valid_until_ms when that is
// set (renewals extend it there), else the record's own. Status is taken as
// given: anything but ENTRY_ACTIVE fails, whenever the change happened.
//
// Errors: FailedPrecondition with a message that names the record, the scope
// and the time, e.g. "accreditation of cert-cn for ISO 14067 expired at
// 2026-01-01T00:00:00Z"; InvalidArgument only for a missing input.
#ifndef CDL_NODE_VERIFY_AUTHORITY_H_
#define CDL_NODE_VERIFY_AUTHORITY_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "records.pb.h"
#include "state.pb.h"

namespace cdl::verify {

// UTC, to the second, with milliseconds only when not whole:
// "2026-03-01T00:00:00Z", "2026-03-01T00:00:00.250Z".
std::string FormatUtc(int64_t ms);

// The end of validity in force: status.valid_until_ms() if set, else
// `record_valid_until_ms`. 0 = no end.
int64_t EffectiveValidUntil(int64_t record_valid_until_ms, const cdl::v1::StateEntry& status);

// Whether `accreditation` (whose current status is `status`) accredits
// `certifier` for `standard` in `jurisdiction` at `time_ms`: it names the
// certifier, lists the standard and the jurisdiction (exact strings), is
// ACTIVE, and time_ms is inside its window.
absl::Status CheckAccreditation(const cdl::v1::Accreditation& accreditation,
                                const cdl::v1::StateEntry& status, std::string_view certifier,
                                std::string_view standard, std::string_view jurisdiction,
                                int64_t time_ms);

// Scope only (no status, no time): whether `accreditation` names `certifier`
// and lists `standard` and `jurisdiction`. Used to pick the accreditations
// that matter for a certificate, by the ledger, the passport exporter and
// the passport verifier alike.
bool AccreditationCovers(const cdl::v1::Accreditation& accreditation, std::string_view certifier,
                         std::string_view standard, std::string_view jurisdiction);

struct AccreditationRef {
  const cdl::v1::Accreditation* accreditation = nullptr;
  const cdl::v1::StateEntry* status = nullptr;
};

// OK if at least one of `accreditations` passes CheckAccreditation. Otherwise
// the reasons of those that cover the certifier, standard and jurisdiction
// (expired, suspended, ...), or "holds no accreditation for ..." when none does.
absl::Status CheckAccredited(std::span<const AccreditationRef> accreditations,
                             std::string_view certifier, std::string_view standard,
                             std::string_view jurisdiction, int64_t time_ms);

// Whether `agreement` (current status `status`) makes certificates issued
// under `issuer_jurisdiction` for `standard` count in `verifier_jurisdiction`
// at `time_ms`. Direction: MUTUAL links both ways; A_RECOGNISES_B means
// jurisdiction_a accepts certificates issued under jurisdiction_b (issuer B,
// verifier A); B_RECOGNISES_A the reverse. The agreement must be ACTIVE (not
// suspended, revoked or terminated) and time_ms inside its window.
absl::Status CheckRecognition(const cdl::v1::RecognitionAgreement& agreement,
                              const cdl::v1::StateEntry& status,
                              std::string_view issuer_jurisdiction,
                              std::string_view verifier_jurisdiction, std::string_view standard,
                              int64_t time_ms);

// Scope only (no direction, status or time): whether `agreement` is between
// two different jurisdictions `j1` and `j2` (either way round) and lists
// `standard`. CheckRecognition then judges direction, status and window.
bool AgreementCovers(const cdl::v1::RecognitionAgreement& agreement, std::string_view j1, std::string_view j2,
                     std::string_view standard);

struct AgreementRef {
  const cdl::v1::RecognitionAgreement* agreement = nullptr;
  const cdl::v1::StateEntry* status = nullptr;
};

// OK when the two jurisdictions are the same (no agreement needed) or at least
// one of `agreements` passes CheckRecognition; otherwise every reason.
absl::Status CheckRecognised(std::span<const AgreementRef> agreements,
                             std::string_view issuer_jurisdiction,
                             std::string_view verifier_jurisdiction, std::string_view standard,
                             int64_t time_ms);

// Whether `certificate` (current status `status`) is valid at `time_ms`:
// ACTIVE, its subject not superseded, and time_ms inside its window.
absl::Status CheckCertificate(const cdl::v1::Certificate& certificate,
                              const cdl::v1::StateEntry& status, int64_t time_ms);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_AUTHORITY_H_
