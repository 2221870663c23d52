// Errors of the `cdl` command-line client and the exit codes they map to.
//
// Commands return absl::Status. The message is one line a user can act on,
// shaped "<what>: <why> — <what to do>"; the caller prefixes "cdl: " and
// prints it on stderr. The exit code travels as a status payload so that the
// status code can keep its usual meaning (InvalidArgument, NotFound, ...).
#ifndef CDL_CLI_ERRORS_H_
#define CDL_CLI_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cdl::cli {

// Process exit codes, documented in `cdl --help`.
inline constexpr int kExitOk = 0;
// Verification failed, the node rejected a record, or the input is invalid
// (bad file, bad JSON, unknown member, ...).
inline constexpr int kExitInvalid = 1;
// Wrong command line: unknown command or flag, missing or malformed argument.
inline constexpr int kExitUsage = 2;
// The node could not be reached, timed out or failed to answer.
inline constexpr int kExitNode = 3;

// An error with an explicit exit code.
absl::Status WithExitCode(absl::Status status, int exit_code);

// A command-line mistake (exit 2).
absl::Status UsageError(absl::string_view message);
// Invalid input or a failed check (exit 1).
absl::Status InputError(absl::string_view message);
// The node was unreachable or failed (exit 3).
absl::Status NodeError(absl::StatusCode code, absl::string_view message);

// Exit code for a status: 0 for OK, the attached code if there is one,
// otherwise kExitInvalid.
int ExitCodeOf(const absl::Status& status);

// Prefixes `context` ("reading key.pem") to a status message, keeping the code
// and exit code: "<context>: <message>".
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace cdl::cli

#endif  // CDL_CLI_ERRORS_H_
