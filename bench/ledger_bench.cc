// ledger-bench: time of block execution (Ledger::Prepare) and commit
// (Ledger::Commit, one synced RocksDB write) per record on a RocksDB store in
// a temporary directory: the work of each validator's apply thread, without
// consensus or gRPC. Records are signed, parsed and marked verified up front
// (in the node, admission verifies them), not timed.
// Workloads:
//   disclosure    what cdl-bench submits: disclosures round robin over 32
//                 enterprises (no state-map entry changes);
//   registration  a park admits new enterprises (two new state-map entries
//                 per record: the member and its key).
// Prints one line per tenth of the run (stores grow, so later blocks can be
// slower) and a total.
//
//   ledger-bench [records=40000] [block_size=250] [disclosure|registration]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "node/ledger/test_util.h"
#include "node/storage/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using cdl::ledger::testing::TestChain;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int records = argc > 1 ? std::atoi(argv[1]) : 40000;
  const int block_size = argc > 2 ? std::atoi(argv[2]) : 250;
  const std::string workload = argc > 3 ? argv[3] : "disclosure";
  if (records <= 0 || block_size <= 0 || (workload != "disclosure" && workload != "registration")) {
    std::fprintf(stderr, "usage: ledger-bench [records>0] [block_size>0] [disclosure|registration]\n");
    return 2;
  }
  std::string dir = std::filesystem::temp_directory_path() / ("cdl-ledger-bench-" + std::to_string(getpid()));
  auto store = cdl::storage::OpenRocksStore(dir, cdl::ledger::LedgerColumns());
  if (!store.ok()) {
    std::fprintf(stderr, "ledger-bench: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  TestChain chain;
  auto opened = cdl::ledger::Ledger::Open(*std::move(store), chain.genesis());
  if (!opened.ok()) {
    std::fprintf(stderr, "ledger-bench: %s\n", std::string(opened.status().message()).c_str());
    return 1;
  }
  cdl::ledger::Ledger& ledger = **opened;
  int64_t time_ms = 1'700'000'100'000;

  auto commit = [&](const std::vector<cdl::verify::ParsedRecord>& block, Clock::duration* prepare_time,
                    Clock::duration* commit_time) -> bool {
    std::vector<const cdl::verify::ParsedRecord*> ptrs;
    for (const auto& r : block) ptrs.push_back(&r);
    time_ms += 1000;
    auto t0 = Clock::now();
    auto prepared = ledger.Prepare(ptrs, time_ms, 1, "v1");
    auto t1 = Clock::now();
    if (!prepared.ok()) {
      std::fprintf(stderr, "ledger-bench: prepare: %s\n", std::string(prepared.status().message()).c_str());
      return false;
    }
    // Rejected records would measure the wrong work.
    for (const cdl::v1::Receipt& receipt : prepared->block.receipts()) {
      if (receipt.status() != cdl::v1::RECORD_ACCEPTED) {
        std::fprintf(stderr, "ledger-bench: record %u of block %llu was not accepted: %s\n", receipt.index(),
                     static_cast<unsigned long long>(prepared->header.height()), receipt.message().c_str());
        return false;
      }
    }
    cdl::v1::CommitCertificate cert;
    cert.set_height(prepared->header.height());
    cert.set_block_hash(prepared->hash);
    auto sig = cdl::verify::SignCommit(chain.validator_key(), "v1", "test-chain", prepared->header.height(),
                                       prepared->hash);
    if (!sig.ok()) return false;
    *cert.add_signatures() = *sig;
    auto t2 = Clock::now();
    absl::Status s = ledger.Commit(*std::move(prepared), cert);
    auto t3 = Clock::now();
    if (!s.ok()) {
      std::fprintf(stderr, "ledger-bench: commit: %s\n", std::string(s.message()).c_str());
      return false;
    }
    if (prepare_time != nullptr) *prepare_time += t1 - t0;
    if (commit_time != nullptr) *commit_time += t3 - t2;
    return true;
  };

  auto parse = [](const std::string& raw) {
    auto p = cdl::verify::ParseSignedRecord(raw);
    if (!p.ok()) {
      std::fprintf(stderr, "ledger-bench: parse: %s\n", std::string(p.status().message()).c_str());
      std::exit(1);
    }
    // As in the node, where admission verified them (mempool copies).
    p->signatures_verified = true;
    return *std::move(p);
  };
  if (!commit({parse(chain.Register("reg-cn", "park-x", cdl::v1::ROLE_PARK, "CN"))}, nullptr, nullptr)) return 1;
  constexpr int kAuthors = 32;
  std::vector<cdl::verify::ParsedRecord> setup;
  for (int a = 0; a < kAuthors; ++a) {
    setup.push_back(parse(chain.Register("park-x", "author-" + std::to_string(a), cdl::v1::ROLE_ENTERPRISE, "CN",
                                         "park-x")));
  }
  if (!commit(setup, nullptr, nullptr)) return 1;

  std::fprintf(stderr, "ledger-bench: signing %d records (%s)...\n", records, workload.c_str());
  std::vector<cdl::verify::ParsedRecord> all;
  all.reserve(records);
  for (int i = 0; i < records; ++i) {
    if (workload == "registration") {
      all.push_back(parse(chain.Register("park-x", "ent-" + std::to_string(i), cdl::v1::ROLE_ENTERPRISE, "CN",
                                         "park-x")));
    } else {
      std::string period = "2026-" + std::string(i % 12 < 9 ? "0" : "") + std::to_string(i % 12 + 1);
      all.push_back(parse(chain.Disclosure("author-" + std::to_string(i % kAuthors), period,
                                           std::to_string(1000 + i) + ".25")));
    }
  }

  std::printf("%-18s %14s %14s %14s\n", "records done", "prepare us/rec", "commit us/rec", "total us/rec");
  Clock::duration prepare_total{}, commit_total{};
  Clock::duration prepare_part{}, commit_part{};
  int part_records = 0;
  const int report_every = std::max(records / 10, block_size);
  for (int done = 0; done < records;) {
    int n = std::min(block_size, records - done);
    std::vector<cdl::verify::ParsedRecord> block(std::make_move_iterator(all.begin() + done),
                                                 std::make_move_iterator(all.begin() + done + n));
    if (!commit(block, &prepare_part, &commit_part)) return 1;
    done += n;
    part_records += n;
    if (part_records >= report_every || done == records) {
      std::printf("%-18d %14.1f %14.1f %14.1f\n", done, Micros(prepare_part) / part_records,
                  Micros(commit_part) / part_records, Micros(prepare_part + commit_part) / part_records);
      std::fflush(stdout);
      prepare_total += prepare_part;
      commit_total += commit_part;
      prepare_part = commit_part = {};
      part_records = 0;
    }
  }
  std::printf("all %d %s records in blocks of %d: prepare %.1f us/record, commit %.1f us/record, %.0f records/s\n",
              records, workload.c_str(), block_size, Micros(prepare_total) / records, Micros(commit_total) / records,
              records / std::chrono::duration<double>(prepare_total + commit_total).count());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
