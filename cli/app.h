// The `cdl` command line: flag parsing and dispatch to cli/commands.h.
#ifndef CDL_CLI_APP_H_
#define CDL_CLI_APP_H_

#include <ostream>
#include <string>
#include <vector>

namespace cdl::cli {

// Runs `cdl` with `args` (without the program name). Results go to `out`;
// an error is one line "cdl: ..." on `err`. Returns the process exit code
// (cli/errors.h: 0 ok, 1 invalid/rejected, 2 usage, 3 node).
int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err);

}  // namespace cdl::cli

#endif  // CDL_CLI_APP_H_
