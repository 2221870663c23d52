// Test helper: opens the RocksDB store at argv[1], prints "ready" and holds
// it (and its LOCK) until standard input is closed.

#include <cstdio>
#include <iostream>
#include <string>

#include "node/storage/store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: storage_lock_holder DATA_DIR\n";
    return 2;
  }
  auto store = cdl::storage::OpenRocksStore(argv[1], {});
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
