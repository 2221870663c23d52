// Test-only helpers for the storage tests.

#ifndef CDL_NODE_STORAGE_TEST_UTIL_H_
#define CDL_NODE_STORAGE_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace cdl::storage {

// A fresh directory under the test temp dir, removed with everything in it
// on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string tmpl = ::testing::TempDir() + "cdl_storage_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cdl::storage

#endif  // CDL_NODE_STORAGE_TEST_UTIL_H_
