// Assembles a green passport (node/verify/passport.h, docs/passport.md) from
// a ledger: the subject, its certificates, everything the offline verifier
// needs to check them in one jurisdiction, all proven against one checkpoint.
//
// The ledger is reached through PassportSource so the same assembly runs
// against a node over gRPC (`cdl passport export`) and against an in-process
// ledger in tests. Which records go in mirrors exactly what VerifyPassport
// uses, so an honest export never carries a record the verifier calls extra.
#ifndef CDL_CLI_PASSPORT_EXPORT_H_
#define CDL_CLI_PASSPORT_EXPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger.pb.h"
#include "passport.pb.h"
#include "state.pb.h"

namespace cdl::cli {

// Read access to one ledger. Errors are returned as they come (NotFound for
// an unknown record or member).
class PassportSource {
 public:
  virtual ~PassportSource() = default;
  // The latest checkpoint (certified block), waiting a little for one at
  // `min_height` or above when the source can (0 = any).
  virtual absl::StatusOr<cdl::v1::Checkpoint> Checkpoint(uint64_t min_height) = 0;
  // Height of the latest committed block (maybe not yet certified).
  virtual absl::StatusOr<uint64_t> CommittedHeight() = 0;
  // A record exactly as signed (serialized SignedRecord).
  virtual absl::StatusOr<std::string> Record(std::string_view record_id) = 0;
  virtual absl::StatusOr<cdl::v1::InclusionProof> Inclusion(std::string_view record_id, uint64_t tree_size) = 0;
  virtual absl::StatusOr<cdl::v1::StateProof> State(std::string_view key, uint64_t height) = 0;
  virtual absl::StatusOr<cdl::v1::MemberState> Member(std::string_view member_id) = 0;
  // Serialized SignedRecords of every accepted record of payload `type` by or
  // about `member` ("" = any member), oldest first.
  virtual absl::StatusOr<std::vector<std::string>> Records(std::string_view member, std::string_view type) = 0;
};

struct ExportedPassport {
  cdl::v1::Passport passport;
  uint64_t height = 0;          // checkpoint height
  int64_t time_ms = 0;          // checkpoint time
  size_t certificates = 0;
  std::vector<std::string> notes;  // what was left out and why
};

// Builds the passport of `subject_id` (32-byte id of an accepted product
// footprint or disclosure) for `jurisdiction`, against the latest checkpoint
// that includes everything committed when the call started. FailedPrecondition
// when the subject has no certificate in that checkpoint or is not in one yet;
// InvalidArgument for a subject of another type.
absl::StatusOr<ExportedPassport> BuildPassport(PassportSource& source, std::string_view subject_id,
                                               std::string_view jurisdiction);

}  // namespace cdl::cli

#endif  // CDL_CLI_PASSPORT_EXPORT_H_
