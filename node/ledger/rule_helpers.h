// Internal to cdl_ledger: the pieces that the rule files (rules.cc,
// certification_rules.cc) share. Not part of the library's API.
#ifndef CDL_NODE_LEDGER_RULE_HELPERS_H_
#define CDL_NODE_LEDGER_RULE_HELPERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger.pb.h"
#include "node/ledger/state_view.h"
#include "state.pb.h"

namespace cdl::ledger::internal {

// A rule's verdict: REJECT_NONE to accept.
struct Verdict {
  cdl::v1::RejectCode code = cdl::v1::REJECT_NONE;
  std::string message;
  bool ok() const { return code == cdl::v1::REJECT_NONE; }
};
inline Verdict Accept() { return {}; }
inline Verdict Reject(cdl::v1::RejectCode code, std::string message) { return {code, std::move(message)}; }

std::string Hex(std::string_view bytes);
std::string RoleName(cdl::v1::Role role);

void SaveMember(StateView& view, const cdl::v1::MemberState& m);
// nullopt when no record with this id was accepted.
absl::StatusOr<std::optional<cdl::v1::RecordState>> LoadRecordState(const StateView& view, std::string_view id);
// nullopt when the member is not registered.
absl::StatusOr<std::optional<cdl::v1::MemberState>> FindMember(const StateView& view, std::string_view id);
// Active status and `time_ms` inside the registration's validity.
bool IsActiveAt(const cdl::v1::MemberState& m, int64_t time_ms);

}  // namespace cdl::ledger::internal

#endif  // CDL_NODE_LEDGER_RULE_HELPERS_H_
