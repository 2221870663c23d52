#include "node/verify/genesis.h"
#include "node/verify/record.h"

#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

cdl::v1::PublicKeyInfo Info(const cdl::crypto::PublicKey& key) { return PublicKeyInfoOf(key); }

class CommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cdl::v1::Genesis g;
    g.set_chain_id("chain-a");
    for (int i = 0; i < 4; ++i) {
      keys_.push_back(*cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256));
      auto* v = g.add_validators();
      v->set_id("v" + std::to_string(i));
      *v->mutable_key() = Info(keys_.back().public_key());
    }
    genesis_proto_ = g;
    auto genesis = TrustedGenesis::FromProto(g);
    ASSERT_TRUE(genesis.ok()) << genesis.status();
    genesis_ = std::make_unique<TrustedGenesis>(*std::move(genesis));
    cdl::v1::BlockHeader header;
    header.set_chain_id("chain-a");
    header.set_height(7);
    header_ = header.SerializeAsString();
  }

  cdl::v1::CommitCertificate Certificate(const std::vector<int>& signers) {
    cdl::v1::CommitCertificate c;
    c.set_height(7);
    c.set_block_hash(BlockHash(header_));
    for (int i : signers) {
      *c.add_signatures() = *SignCommit(keys_[i], "v" + std::to_string(i), "chain-a", 7, BlockHash(header_));
    }
    return c;
  }

  std::vector<cdl::crypto::PrivateKey> keys_;
  cdl::v1::Genesis genesis_proto_;
  std::unique_ptr<TrustedGenesis> genesis_;
  std::string header_;
};

TEST_F(CommitTest, QuorumOfDistinctValidators) {
  EXPECT_EQ(genesis_->quorum(), 3u);
  EXPECT_TRUE(VerifyCommitCertificate(*genesis_, header_, Certificate({0, 1, 2})).ok());
  EXPECT_TRUE(VerifyCommitCertificate(*genesis_, header_, Certificate({0, 1, 2, 3})).ok());
  auto too_few = VerifyCommitCertificate(*genesis_, header_, Certificate({0, 1}));
  EXPECT_NE(too_few.message().find("quorum is 3 of 4"), std::string::npos) << too_few;
  // One validator's signature repeated does not make a quorum.
  auto repeated = VerifyCommitCertificate(*genesis_, header_, Certificate({0, 1, 1}));
  EXPECT_FALSE(repeated.ok());
  EXPECT_NE(repeated.message().find("more than once"), std::string::npos) << repeated;
}

TEST_F(CommitTest, ForeignSignerAndWrongChainAreRefused) {
  auto c = Certificate({0, 1, 2});
  c.mutable_signatures(2)->set_validator("stranger");
  EXPECT_NE(VerifyCommitCertificate(*genesis_, header_, c).message().find("not a genesis validator"), std::string::npos);
  // A signature made for another chain id does not verify here.
  auto other = Certificate({0, 1});
  *other.add_signatures() = *SignCommit(keys_[2], "v2", "chain-b", 7, BlockHash(header_));
  EXPECT_FALSE(VerifyCommitCertificate(*genesis_, header_, other).ok());
  cdl::v1::Checkpoint cp;
  cdl::v1::BlockHeader foreign;
  foreign.set_chain_id("chain-b");
  foreign.set_height(7);
  cp.set_header(foreign.SerializeAsString());
  EXPECT_NE(VerifyCheckpoint(*genesis_, cp).status().message().find("chain_id"), std::string::npos);
}

TEST_F(CommitTest, GenesisJsonRoundTripAndValidation) {
  auto parsed = TrustedGenesis::FromJson(GenesisToJson(genesis_proto_));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Hash(), genesis_->Hash());
  EXPECT_FALSE(TrustedGenesis::FromJson("{not json").ok());
  EXPECT_FALSE(TrustedGenesis::FromJson("{\"chainId\":\"x\"}").ok());  // no validators
  auto dup = genesis_proto_;
  dup.mutable_validators(1)->set_id("v0");
  EXPECT_FALSE(TrustedGenesis::FromProto(dup).ok());
}

}  // namespace
}  // namespace cdl::verify
