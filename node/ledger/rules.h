// The deterministic record rules: given ledger state and block context, decide
// whether a record is ACCEPTED (and apply it) or REJECTED (with a reason code
// and a message naming the field). Every node applies the same rules to the
// same blocks and reaches the same state.
#ifndef CDL_NODE_LEDGER_RULES_H_
#define CDL_NODE_LEDGER_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger.pb.h"
#include "node/ledger/state_view.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"
#include "state.pb.h"

namespace cdl::ledger {

// How far a record's claimed created_ms may lie after the block time (signers'
// clocks drift; a record "from the future" is refused, which also bounds how
// far ahead anyone can date a record). Records may be older without limit:
// a co-signed agreement can take days to collect its signatures.
inline constexpr int64_t kMaxCreatedAheadMs = 10 * 60 * 1000;

// A signed consensus message of an Evidence record, opened and verified.
struct ConsensusStatement {
  enum class Kind { kProposal, kVote };
  Kind kind = Kind::kProposal;
  uint32_t signer = 0;  // genesis validator index whose key verified the signature
  uint64_t round = 0;
  // The exact bytes the signature covers (domain and message). Two statements
  // of one signer and round conflict iff these differ: a re-signed
  // retransmit of the same content is not equivocation.
  std::string signed_content;
};

// Opens Evidence.message_a / message_b (serialized
// cdl.consensus.v1.EvidenceMessage) and verifies the signature with the
// genesis key of the validator that the message names. The ledger cannot
// include node/consensus (layering: ledger -> verify, storage), so node/net
// implements this with the consensus signing messages and hands it to the
// ledger (Ledger::SetEvidenceVerifier). Pure and thread-safe.
class EvidenceVerifier {
 public:
  virtual ~EvidenceVerifier() = default;
  // InvalidArgument when the bytes do not parse or name no genesis
  // validator; Unauthenticated when the signature does not verify. The
  // message names the field inside the consensus message.
  virtual absl::StatusOr<ConsensusStatement> Open(std::string_view message) const = 0;
};

struct ExecContext {
  std::string chain_id;
  int64_t block_time_ms = 0;  // the only clock rules ever read
  uint64_t height = 0;
  uint32_t index = 0;         // position in the block
  // Genesis validators (authors and subjects of Evidence records) and the
  // check of their consensus signatures. Without them Evidence is REJECTED;
  // every node of a multi-validator chain must set both (Node does).
  const cdl::verify::TrustedGenesis* genesis = nullptr;
  const EvidenceVerifier* evidence_verifier = nullptr;
};

// What the ledger needs to index an accepted record.
struct AcceptedInfo {
  cdl::v1::RecordState state;
  std::string subject_member;  // member the record is about (registration, disclosure)
  std::string park;            // park of the author or subject, if any
  std::string period;          // reporting period, if any
};

struct ExecOutcome {
  cdl::v1::Receipt receipt;
  std::optional<AcceptedInfo> accepted;  // set iff receipt.status() == ACCEPTED
};

// Executes one record whose signatures the caller has already verified against
// the keys they name (admission does that). Re-checks against state that each
// signer and key is registered and active at block time, the author's sequence,
// the role and the payload rules. A rejected record leaves no state behind
// except its consumed sequence. A non-OK status means the store failed:
// the block must be abandoned, never partially applied.
absl::StatusOr<ExecOutcome> ExecuteRecord(const cdl::verify::ParsedRecord& record,
                                          const ExecContext& context, StateView& view);

// The last sequence used by `author`: a member's MemberState.last_sequence;
// for a genesis validator that is not also a member id, the counter that its
// Evidence records advance. 0 when it has none.
absl::StatusOr<uint64_t> LastSequence(const StateView& view, std::string_view author);

// Reads a member's state; NotFound if it is not registered.
absl::StatusOr<cdl::v1::MemberState> LoadMember(const StateView& view, std::string_view member_id);

// Genesis founders enter the state as active members at height 0.
void ApplyFounder(const cdl::v1::MemberRegistration& founder, int64_t genesis_time_ms,
                  StateView& view);

// The active key `key_id` of `member` at `time_ms`, or why there is none
// (REJECT_UNKNOWN_MEMBER / REJECT_MEMBER_INACTIVE / REJECT_UNKNOWN_KEY / REJECT_KEY_REVOKED).
struct KeyCheck {
  cdl::v1::RejectCode code = cdl::v1::REJECT_NONE;
  std::string message;
  std::optional<cdl::v1::PublicKeyInfo> key;
};
absl::StatusOr<KeyCheck> CheckSignerKey(const StateView& view, std::string_view member,
                                        std::string_view key_id, int64_t time_ms);
// The same, for a caller that has already loaded the state of member
// `known_id` (`known`, usually the record's author): a signature by that
// member is checked on it, without a second read and parse.
absl::StatusOr<KeyCheck> CheckSignerKey(const StateView& view, std::string_view member,
                                        std::string_view key_id, int64_t time_ms, std::string_view known_id,
                                        const cdl::v1::MemberState& known);

}  // namespace cdl::ledger

#endif  // CDL_NODE_LEDGER_RULES_H_
