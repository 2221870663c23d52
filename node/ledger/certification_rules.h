// Rules for mutual certification: accreditations, certificates, recognition
// agreements, and the status changes of those records and of members and keys
// (suspension, revocation, reinstatement, termination, renewal). Internal to
// cdl_ledger: rules.cc dispatches to these; each has the shape of a payload
// rule there (verdict, or a non-OK status when the store failed).
//
// Authority (who may do what), in short; time is always the block time:
//  - Accreditation: by an accreditor or regulator, for a registered, active
//    certifier, listing only the author's own jurisdiction; must not have
//    ended already.
//  - Certificate: by a certifier, of an accepted disclosure or product
//    footprint that is not superseded; certificate.jurisdiction must be the
//    jurisdiction of the subject's organisation (certifying abroad goes through
//    recognition agreements, not through the certificate); the certifier must
//    be accredited for certificate.standard in certificate.jurisdiction
//    (verify::CheckAccredited).
//  - RecognitionAgreement: exactly two signatures, party_a (= the author) then
//    party_b; each party an accreditor or regulator of its jurisdiction.
//  - Suspension / Revocation / Reinstatement of a
//      certificate:   its certifier, or a regulator of the certificate's
//                     jurisdiction or of the certifier's;
//      accreditation: its issuer, or a regulator of its jurisdiction;
//      agreement:     either party;
//      member or key: a regulator of the member's jurisdiction (not of itself).
//    Suspend: ACTIVE -> SUSPENDED. Revoke: ACTIVE or SUSPENDED -> REVOKED,
//    final. Reinstate: SUSPENDED -> ACTIVE; a suspension a regulator imposed
//    can only be lifted by a regulator.
//  - Termination of an agreement: either party; ACTIVE or SUSPENDED ->
//    TERMINATED, final.
//  - Renewal: of an accreditation by its issuer, of a certificate by its
//    certifier (still accredited, subject not superseded); ACTIVE only; the new
//    valid_until_ms must be later than the current one and than the block time.
//  - A superseding disclosure/footprint does not inherit certificates: the
//    old subject's certificates get subject_superseded_by and stop counting.
#ifndef CDL_NODE_LEDGER_CERTIFICATION_RULES_H_
#define CDL_NODE_LEDGER_CERTIFICATION_RULES_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/ledger/rule_helpers.h"
#include "node/ledger/rules.h"

namespace cdl::ledger::internal {

absl::StatusOr<Verdict> Accredit(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                                 const ExecContext& ctx, StateView& view, AcceptedInfo& info);
absl::StatusOr<Verdict> Certify(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                                const ExecContext& ctx, StateView& view, AcceptedInfo& info);
absl::StatusOr<Verdict> Recognise(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                                  const ExecContext& ctx, StateView& view, AcceptedInfo& info);
// Suspension, Revocation and Reinstatement.
absl::StatusOr<Verdict> ChangeStatus(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                                     const ExecContext& ctx, StateView& view, AcceptedInfo& info);
absl::StatusOr<Verdict> Terminate(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                                  const ExecContext& ctx, StateView& view, AcceptedInfo& info);
absl::StatusOr<Verdict> Renew(const cdl::verify::ParsedRecord& rec, const cdl::v1::MemberState& author,
                              const ExecContext& ctx, StateView& view, AcceptedInfo& info);

// Called when `subject` (a disclosure or footprint) is superseded by `by`.
absl::Status MarkCertificatesOfSupersededSubject(StateView& view, std::string_view subject, std::string_view by);

// A StatusChange made by `rec` at the block time (no reason).
cdl::v1::StatusChange ChangeBy(const cdl::verify::ParsedRecord& rec, const ExecContext& ctx);

}  // namespace cdl::ledger::internal

#endif  // CDL_NODE_LEDGER_CERTIFICATION_RULES_H_
