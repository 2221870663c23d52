// Internal to cdl_ledger: the rule for Evidence records (equivocation of a
// genesis validator). Not part of the library's API; rules.h is.
//
// An Evidence record is authored by a genesis validator, signed with its
// genesis key, and carries the author's next sequence (kept under
// ValidatorSequenceKey, unless the id is also a member id: then the member's
// counter, so the mempool's per-author order stays one sequence space). It is
// ACCEPTED when both messages open with the accused validator's genesis key,
// are of one kind (two proposals or two votes) and one round, and sign
// different content; and no Evidence for that (validator, round, kind) is on
// the ledger yet (REJECT_DUPLICATE otherwise: three validators reporting one
// equivocation store it once).
#ifndef CDL_NODE_LEDGER_EVIDENCE_RULES_H_
#define CDL_NODE_LEDGER_EVIDENCE_RULES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/ledger/rules.h"

namespace cdl::ledger::internal {

// ExecuteRecord for an Evidence record (same contract), called by it once the
// record passed its stateless checks; `out` carries the receipt ExecuteRecord
// started (id, author, sequence, height, index).
absl::StatusOr<ExecOutcome> ExecuteEvidence(const cdl::verify::ParsedRecord& record, const ExecContext& context,
                                            StateView& view, ExecOutcome out);

// kIndexColumn key of a validator's last sequence (u64be value).
std::string ValidatorSequenceKey(std::string_view validator_id);

// kIndexColumn key -> record id of the Evidence stored for one equivocation.
std::string EquivocationKey(std::string_view validator_id, ConsensusStatement::Kind kind, uint64_t round);

}  // namespace cdl::ledger::internal

#endif  // CDL_NODE_LEDGER_EVIDENCE_RULES_H_
