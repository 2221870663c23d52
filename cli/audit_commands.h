// `cdl audit report|anomalies|verify-log|consistency-proof`: what a regulator
// runs over the replicated ledger. The figures and checks are in cli/audit.h;
// these commands fetch the records through the client API (Query,
// GetRecord, GetStateProof, GetMember, GetCheckpoint, GetConsistencyProof),
// print, and submit findings through the Submitter.
//
// Exit codes as everywhere in `cdl` (cli/errors.h): 0 done (anomalies found
// are results, not failures), 1 invalid input, a rejected finding or an
// INVALID log, 2 usage, 3 node unreachable or failed.
#ifndef CDL_CLI_AUDIT_COMMANDS_H_
#define CDL_CLI_AUDIT_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "cli/commands.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cdl::cli {

// One row per enterprise of the park with its disclosure for the period,
// certificates and amendments, and the park's totals and targets; written to
// `output` (or stdout for "-") as CSV or JSON. Progress goes to ctx.err; a
// summary (or with --json one JSON object) to ctx.out.
struct AuditReportOptions {
  std::string park;
  std::string period;  // 2026, 2026-Q1 or 2026-03
  std::string format;  // csv | json; default json for a .json output, else csv
  std::string output;  // file, or "-" for stdout
  std::string at;      // certificates are judged at this time; default now
  // A period's disclosure is late when it committed more than this many days
  // after the period ended (cli/audit.h, "Reporting deadlines").
  int deadline_days = 120;
};
absl::Status RunAuditReport(const Context& ctx,
                            const AuditReportOptions& options);

// Prints the anomalies of a park's records (cli/audit.h: value jumps,
// certificates issued outside accreditation, duplicate disclosures). With
// `submit`, signs each one not yet recorded by `author` as an AuditFinding
// and reports the receipts.
struct AuditAnomaliesOptions {
  std::string park;
  double threshold_pct = 20;
  bool submit = false;
  AuthorOptions author;  // --as, --key, --no-wait, --wait-seconds
};
absl::Status RunAuditAnomalies(const Context& ctx,
                               const AuditAnomaliesOptions& options);

// Offline unless the proof must be fetched: both checkpoints are verified
// against the genesis, then a consistency proof from the older ledger size to
// the newer (from `proof_file`, written by `cdl audit consistency-proof`, or
// from ctx.node) is checked against both roots. VALID (exit 0) or INVALID
// with every reason (exit 1).
struct AuditVerifyLogOptions {
  std::string from;     // checkpoint file of 'cdl checkpoint -o'
  std::string to;       // a later checkpoint file
  std::string genesis;  // genesis.json of the ledger trusted
  std::string proof_file;
};
absl::Status RunAuditVerifyLog(const Context& ctx,
                               const AuditVerifyLogOptions& options);

// Fetches a consistency proof old_size -> new_size (0 = the latest
// checkpoint) with the checkpoint of new_size and writes it (protobuf JSON of
// cdl.v1.GetConsistencyProofResponse) for `audit verify-log --proof`.
struct AuditConsistencyProofOptions {
  uint64_t from_size = 0;
  uint64_t to_size = 0;
  std::string output;
};
absl::Status RunAuditConsistencyProof(
    const Context& ctx, const AuditConsistencyProofOptions& options);

// Everything `cdl audit` reads from its flags.
struct AuditFlags {
  AuditReportOptions report;
  AuditAnomaliesOptions anomalies;
  AuditVerifyLogOptions verify_log;
  AuditConsistencyProofOptions consistency_proof;
};

// Adds `cdl audit` and its subcommands to `app`. Their options are stored in
// `flags`, --node in `node` and --json in `json` (the app-wide ones, which
// the caller turns into the Context); the callback of the subcommand that is
// parsed sets `action` to run it. `flags`, `node`, `json` and `action` must
// outlive parsing and the action.
void AddAuditCommands(CLI::App& app, AuditFlags& flags, std::string& node,
                      bool& json,
                      std::function<absl::Status(const Context&)>& action);

}  // namespace cdl::cli

#endif  // CDL_CLI_AUDIT_COMMANDS_H_
