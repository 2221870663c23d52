#include "node/ledger/mempool.h"

#include "gtest/gtest.h"
#include "node/ledger/test_util.h"

namespace cdl::ledger {
namespace {

Mempool::RecordPtr Parse(const std::string& bytes) {
  auto p = cdl::verify::ParseSignedRecord(bytes);
  EXPECT_TRUE(p.ok());
  return std::make_shared<cdl::verify::ParsedRecord>(*std::move(p));
}

TEST(MempoolTest, HoldsGapsAndReleasesInSequenceOrder) {
  testing::TestChain chain;
  std::string r1 = chain.Register("reg-cn", "a1", cdl::v1::ROLE_PARK, "CN");
  std::string r2 = chain.Register("reg-cn", "a2", cdl::v1::ROLE_PARK, "CN");
  std::string r3 = chain.Register("reg-cn", "a3", cdl::v1::ROLE_PARK, "CN");
  Mempool pool;
  auto last = [](const std::string&) { return uint64_t{0}; };
  ASSERT_TRUE(pool.Add(Parse(r3)).ok());
  ASSERT_TRUE(pool.Add(Parse(r2)).ok());
  EXPECT_TRUE(pool.TakeBatch(10, 1 << 20, last).empty());  // 1 is missing
  EXPECT_EQ(pool.NextSequence("reg-cn", 0), 1u);
  ASSERT_TRUE(pool.Add(Parse(r1)).ok());
  EXPECT_EQ(pool.NextSequence("reg-cn", 0), 4u);
  auto batch = pool.TakeBatch(10, 1 << 20, last);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0]->body.sequence(), 1u);
  EXPECT_EQ(batch[2]->body.sequence(), 3u);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(MempoolTest, DeduplicatesAndRefusesConflictingSequence) {
  testing::TestChain chain;
  std::string r1 = chain.Register("reg-cn", "a1", cdl::v1::ROLE_PARK, "CN");
  chain.RewindSequence("reg-cn", 0);
  std::string other1 = chain.Register("reg-cn", "b1", cdl::v1::ROLE_PARK, "CN");
  Mempool pool;
  ASSERT_TRUE(pool.Add(Parse(r1)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(pool.Add(Parse(r1))));
  EXPECT_TRUE(absl::IsFailedPrecondition(pool.Add(Parse(other1))));
  EXPECT_EQ(pool.size(), 1u);
}

// Execution reuses the pending copy's verified signatures only for a record
// carrying exactly the same signatures; a leader's copy of the same body with
// other signature bytes is judged on its own.
TEST(MempoolTest, FindMatchesOnlyTheSameSignatures) {
  testing::TestChain chain;
  std::string r1 = chain.Register("reg-cn", "a1", cdl::v1::ROLE_PARK, "CN");
  Mempool pool;
  auto pending = Parse(r1);
  ASSERT_TRUE(pool.Add(pending).ok());
  EXPECT_EQ(pool.Find(*Parse(r1)), pending);

  cdl::verify::ParsedRecord forged = *Parse(r1);
  std::string* sig = forged.signed_record.mutable_signatures(0)->mutable_signature();
  (*sig)[sig->size() / 2] ^= 0x01;
  EXPECT_EQ(forged.id, pending->id);
  EXPECT_EQ(pool.Find(forged), nullptr);

  cdl::verify::ParsedRecord extra = *Parse(r1);
  *extra.signed_record.add_signatures() = extra.signed_record.signatures(0);
  EXPECT_EQ(pool.Find(extra), nullptr);

  cdl::verify::ParsedRecord other_signer = *Parse(r1);
  other_signer.signed_record.mutable_signatures(0)->set_member("reg-eu");
  EXPECT_EQ(pool.Find(other_signer), nullptr);
}

TEST(MempoolTest, FullPoolRefusesWithResourceExhausted) {
  testing::TestChain chain;
  Mempool pool(MempoolOptions{.max_records = 2});
  ASSERT_TRUE(pool.Add(Parse(chain.Register("reg-cn", "a1", cdl::v1::ROLE_PARK, "CN"))).ok());
  ASSERT_TRUE(pool.Add(Parse(chain.Register("reg-cn", "a2", cdl::v1::ROLE_PARK, "CN"))).ok());
  auto s = pool.Add(Parse(chain.Register("reg-cn", "a3", cdl::v1::ROLE_PARK, "CN")));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(pool.size(), 2u);
}

TEST(MempoolTest, BatchLimitAndRoundRobinAcrossAuthors) {
  testing::TestChain chain;
  Mempool pool;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.Add(Parse(chain.Register("reg-cn", "c" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"))).ok());
    ASSERT_TRUE(pool.Add(Parse(chain.Register("reg-eu", "e" + std::to_string(i), cdl::v1::ROLE_PARK, "EU"))).ok());
  }
  std::map<std::string, uint64_t> committed;
  auto last = [&](const std::string& a) { return committed[a]; };
  auto batch = pool.TakeBatch(5, 1 << 20, last);
  EXPECT_EQ(batch.size(), 5u);
  for (const auto& r : batch) committed[r->body.author()] = r->body.sequence();
  auto rest = pool.TakeBatch(100, 1 << 20, last);
  EXPECT_EQ(rest.size(), 3u);
}

}  // namespace
}  // namespace cdl::ledger
