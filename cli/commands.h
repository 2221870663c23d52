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
};
absl::Status RunQuery(const Context& ctx, const QueryOptions& options);

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
