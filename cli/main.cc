// cdl: the command-line client of the Carbon Disclosure Ledger.
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return cdl::cli::RunCli(args, std::cout, std::cerr);
}
