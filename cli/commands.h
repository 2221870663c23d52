// The subcommands of `cdl`. Each takes the shared Context and its own options
// (filled in by the flag parser in app.cc) and returns a status whose exit
// code (cli/errors.h) the process exits with. Results go to ctx.out: human
// text, or exactly one JSON document with --json.
#ifndef CDL_CLI_COMMANDS_H_
#define CDL_CLI_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cdl::cli {

struct Context {
  std::string node;  // host:port of the node for online commands
  bool json = false;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;  // warnings only; errors are returned
};

// ---- Offline: keys, genesis, PACT validation, proof verification ----------

struct KeygenOptions {
  std::string algorithm = "ecdsa-p256";
  std::string output;
  bool force = false;
};
absl::Status RunKeygen(const Context& ctx, const KeygenOptions& options);

struct GenesisInitOptions {
  std::string chain_id;
  std::string output_dir;
  int validators = 1;
  int base_port = 7600;
  std::vector<std::string> founders;
  std::string algorithm = "ecdsa-p256";
  bool force = false;
  // Also write a cluster CA (ca.pem, ca.key) and one mTLS certificate per
  // validator (validator-K.crt) bound to its genesis key, valid 10 years.
  bool tls = false;
};
absl::Status RunGenesisInit(const Context& ctx,
                            const GenesisInitOptions& options);

struct FootprintValidateOptions {
  std::string file;
};
absl::Status RunFootprintValidate(const Context& ctx,
                                  const FootprintValidateOptions& options);

struct VerifyProofOptions {
  std::string file;
  std::string genesis;
};
absl::Status RunVerifyProof(const Context& ctx,
                            const VerifyProofOptions& options);
absl::Status RunVerifyCheckpoint(const Context& ctx,
                                 const VerifyProofOptions& options);

// ---- Record writers ---------------------------------------------------------

// What every record-writing command needs.
struct AuthorOptions {
  std::string as;                    // author member id
  std::string key_file;              // its private key
  std::optional<uint64_t> sequence;  // default: GetMember's next_sequence
  bool no_wait = false;
  int wait_seconds = 30;
};

struct MemberRegisterOptions {
  AuthorOptions author;
  std::string id;
  std::string role;
  std::string jurisdiction;
  std::string park;
  std::string name;
  std::vector<std::string> member_keys;  // public key PEM files
  std::string valid_from;
  std::string valid_until;
};
absl::Status RunMemberRegister(const Context& ctx,
                               const MemberRegisterOptions& options);

struct DiscloseOptions {
  AuthorOptions author;
  std::string file;
  std::string supersedes;  // overrides the file's "supersedes"
};
absl::Status RunDisclose(const Context& ctx, const DiscloseOptions& options);

struct FootprintImportOptions {
  AuthorOptions author;
  std::string file;
  std::string supersedes;  // only with a single footprint
};
absl::Status RunFootprintImport(const Context& ctx,
                                const FootprintImportOptions& options);

// ---- Mutual certification (records of node/ledger/certification_rules.h) ---
//
// The ledger decides who may write what; these commands check beforehand only
// what needs no ledger state (flags, formats, validity windows) and exit 2 on
// a wrong command line. Receipts are reported like every record writer's.

struct AccreditOptions {
  AuthorOptions author;  // an accreditor or regulator
  std::string certifier;
  std::vector<std::string> standards;      // at least one
  std::vector<std::string> jurisdictions;  // at least one
  std::string valid_from;                  // default: from its acceptance
  std::string valid_until;                 // required
};
absl::Status RunAccredit(const Context& ctx, const AccreditOptions& options);

struct CertifyOptions {
  AuthorOptions author;  // a certifier
  std::string subject;   // record id (hex) of a disclosure or footprint
  std::string standard;
  std::string assurance;    // limited | reasonable
  std::string materiality;  // decimal percentage; optional
  std::string valid_from;   // default: from its acceptance
  std::string valid_until;  // required
  // Exactly one: the verification statement file (its SHA-256 becomes
  // statement_hash) or that hash as hex.
  std::string statement;
  std::string statement_hash;
  std::string conditions;
  std::string jurisdiction;  // of the accreditation it is issued under
};
absl::Status RunCertify(const Context& ctx, const CertifyOptions& options);

// `cdl suspend`, `cdl revoke` and `cdl reinstate`: the target is exactly one
// of a record (certificate, accreditation or agreement), a member, or a
// member's key. A reason is required for all three (the ledger records it).
enum class StatusChangeKind { kSuspend, kRevoke, kReinstate };
struct StatusChangeOptions {
  AuthorOptions author;
  StatusChangeKind kind = StatusChangeKind::kSuspend;
  std::string record;  // hex record id
  std::string member;
  std::string key_id;  // hex, with member
  std::string reason;
};
absl::Status RunStatusChange(const Context& ctx,
                             const StatusChangeOptions& options);

struct RenewOptions {
  AuthorOptions author;  // the accreditation's issuer / certificate's certifier
  std::string record;    // hex record id of an accreditation or certificate
  std::string valid_until;  // later than the current end
};
absl::Status RunRenew(const Context& ctx, const RenewOptions& options);

struct TerminateOptions {
  AuthorOptions author;   // either party
  std::string agreement;  // hex record id of a recognition agreement
  std::string reason;
};
absl::Status RunTerminate(const Context& ctx, const TerminateOptions& options);

// A recognition agreement needs the signatures of party_a (its author) and
// then party_b, so it travels between them in a co-sign file:
//   {"format": "cdl-cosign/v1",
//    "record_id": "<hex, informative; must match the record>",
//    "signed_record": "<standard base64 of the SignedRecord bytes>"}
// `recognise create` writes it signed by A, `recognise cosign` adds B's
// signature, `recognise submit` sends it. The record carries A's sequence
// number, so A must not submit other records in between.
inline constexpr char kCosignFormat[] = "cdl-cosign/v1";

struct RecogniseCreateOptions {
  AuthorOptions author;  // party_a; no_wait and wait_seconds are unused
  std::string party_b;
  std::string jurisdiction_a;
  std::string jurisdiction_b;
  std::vector<std::string> standards;  // at least one
  std::string direction;    // mutual | a-recognises-b | b-recognises-a
  std::string valid_from;   // default: from its acceptance
  std::string valid_until;  // required
  std::string output;       // the co-sign file to write (0644)
  bool force = false;       // replace an existing file
};
absl::Status RunRecogniseCreate(const Context& ctx,
                                const RecogniseCreateOptions& options);

// Offline: needs only the file and party_b's private key.
struct RecogniseCosignOptions {
  std::string file;
  std::string as;  // must be the agreement's party_b
  std::string key_file;
};
absl::Status RunRecogniseCosign(const Context& ctx,
                                const RecogniseCosignOptions& options);

struct RecogniseSubmitOptions {
  std::string file;
  bool no_wait = false;
  int wait_seconds = 30;
};
absl::Status RunRecogniseSubmit(const Context& ctx,
                                const RecogniseSubmitOptions& options);

// ---- Readers ----------------------------------------------------------------

absl::Status RunStatus(const Context& ctx);

struct GetOptions {
  std::string record_id;
};
absl::Status RunGet(const Context& ctx, const GetOptions& options);

struct QueryOptions {
  std::string member;
  std::string type;
  std::string period;
  std::string park;
  uint32_t limit = 0;  // page size; 0 = node default
  std::string page_token;
  bool all = false;
  std::string standard;            // certificates of this standard
  std::string certificate_status;  // active | suspended | revoked | expired
};
absl::Status RunQuery(const Context& ctx, const QueryOptions& options);

// `cdl watch`: prints every committed record as its block commits, one line
// per record (text: height, index, type, record id, author, status; json: one
// JSON object per line), from --from-height on (0 = from the node's next
// block) and filtered as cdl.v1.Ledger.Watch filters. On a lost stream it
// says so on stderr and resumes from the height after the last block it
// received (with backoff, for as long as it takes); only a refused request
// ends it with an error. SIGINT/SIGTERM end it with exit 0.
struct WatchOptions {
  uint64_t from_height = 0;
  std::string type;
  std::string member;
  std::string jurisdiction;
  std::string park;
  std::string period;
  bool accepted_only = false;  // leave rejected records out
  std::string format;          // text | json; default text (json with --json)
};
absl::Status RunWatch(const Context& ctx, const WatchOptions& options);

struct CheckpointOptions {
  uint64_t height = 0;  // 0 = latest
  std::string output;
};
absl::Status RunCheckpoint(const Context& ctx,
                           const CheckpointOptions& options);

struct ProofOptions {
  std::string record_id;
  std::string output;
};
absl::Status RunProof(const Context& ctx, const ProofOptions& options);

}  // namespace cdl::cli

#endif  // CDL_CLI_COMMANDS_H_
