// Shared by the passport tests, the passport benchmark and the fuzz seed
// generator: a PassportSource over an in-process Ledger. Tests and tools only.
#ifndef CDL_TESTS_PASSPORT_PASSPORT_FIXTURE_H_
#define CDL_TESTS_PASSPORT_PASSPORT_FIXTURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "cli/passport_export.h"
#include "node/ledger/ledger.h"

namespace cdl::passport_testing {

// PassportSource over an in-process Ledger.
class LedgerSource : public cdl::cli::PassportSource {
 public:
  explicit LedgerSource(cdl::ledger::Ledger& ledger) : ledger_(ledger) {}
  absl::StatusOr<cdl::v1::Checkpoint> Checkpoint(uint64_t) override { return ledger_.GetCheckpoint(0); }
  absl::StatusOr<uint64_t> CommittedHeight() override { return ledger_.head().height(); }
  absl::StatusOr<std::string> Record(std::string_view id) override { return ledger_.GetRecord(id); }
  absl::StatusOr<cdl::v1::InclusionProof> Inclusion(std::string_view id, uint64_t size) override {
    auto p = ledger_.GetInclusionProof(id, size);
    if (!p.ok()) return p.status();
    return p->first;
  }
  absl::StatusOr<cdl::v1::StateProof> State(std::string_view key, uint64_t height) override {
    auto p = ledger_.GetStateProof(key, height);
    if (!p.ok()) return p.status();
    return p->first;
  }
  absl::StatusOr<cdl::v1::MemberState> Member(std::string_view id) override { return ledger_.GetMember(id); }
  absl::StatusOr<std::vector<std::string>> Records(std::string_view member, std::string_view type) override {
    std::vector<std::string> out;
    cdl::ledger::QueryFilter filter{.member = std::string(member), .record_type = std::string(type)};
    while (true) {
      auto page = ledger_.Query(filter);
      if (!page.ok()) return page.status();
      for (const auto& e : page->entries) {
        auto record = ledger_.GetRecord(e.record_id);
        if (!record.ok()) return record.status();
        out.push_back(*std::move(record));
      }
      if (page->next_page_token.empty()) return out;
      filter.page_token = page->next_page_token;
    }
  }

 private:
  cdl::ledger::Ledger& ledger_;
};

}  // namespace cdl::passport_testing

#endif  // CDL_TESTS_PASSPORT_PASSPORT_FIXTURE_H_
