#include "node/net/byzantine.h"

#include <gtest/gtest.h>

#include "node/consensus/encoding.h"
#include "node/consensus/key_signer.h"

namespace cdl::net {
namespace {

namespace cv1 = cdl::consensus::v1;
using cdl::peer::v1::PeerMessage;

constexpr char kChain[] = "byz-test";

struct Recorder : PeerNetwork {
  std::vector<PeerMessage> sent;
  void Send(uint32_t, const PeerMessage& msg) override { sent.push_back(msg); }
  void Broadcast(const PeerMessage& msg) override { sent.push_back(msg); }
};

class ByzantineNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256);
    ASSERT_TRUE(key.ok());
    verifier_ = std::make_unique<cdl::consensus::KeyVerifier>(std::vector<cdl::crypto::PublicKey>{key->public_key()});
    auto copy = cdl::crypto::PrivateKey::FromPem(key->ToPem());
    ASSERT_TRUE(copy.ok());
    signer_ = std::make_unique<cdl::consensus::KeySigner>(*std::move(copy));
    byz_ = std::make_unique<ByzantineNetwork>(&net_, kChain, *std::move(key), /*period=*/2);
  }

  PeerMessage Proposal(uint64_t round) {
    PeerMessage m;
    cv1::Proposal* p = m.mutable_consensus()->mutable_proposal();
    cv1::Block* b = p->mutable_block();
    b->set_round(round);
    b->set_height(round);
    b->set_timestamp_ms(1000 + round);
    b->set_payload("records");
    p->set_signature(*signer_->Sign(cdl::consensus::kProposalDomain,
                                    cdl::consensus::ProposalMessage(kChain, round, cdl::consensus::BlockId(kChain, *b))));
    return m;
  }
  PeerMessage Vote(uint64_t round) {
    PeerMessage m;
    cv1::Vote* v = m.mutable_consensus()->mutable_vote();
    v->set_block_id(std::string(32, 'b'));
    v->set_round(round);
    v->set_height(round);
    v->set_signature(*signer_->Sign(cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(kChain, *v)));
    return m;
  }
  bool ValidVote(const cv1::Vote& v) {
    return verifier_->Verify(0, cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(kChain, v), v.signature());
  }

  Recorder net_;
  std::unique_ptr<cdl::consensus::KeyVerifier> verifier_;
  std::unique_ptr<cdl::consensus::KeySigner> signer_;
  std::unique_ptr<ByzantineNetwork> byz_;
};

TEST_F(ByzantineNetworkTest, EveryPeriodthProposalIsFollowedByAValidConflictingOne) {
  byz_->Broadcast(Proposal(1));
  ASSERT_EQ(net_.sent.size(), 1u);  // the first goes alone
  byz_->Broadcast(Proposal(2));
  ASSERT_EQ(net_.sent.size(), 3u);
  const cv1::Proposal& real = net_.sent[1].consensus().proposal();
  const cv1::Proposal& fake = net_.sent[2].consensus().proposal();
  EXPECT_EQ(fake.block().round(), real.block().round());
  std::string real_id = cdl::consensus::BlockId(kChain, real.block());
  std::string fake_id = cdl::consensus::BlockId(kChain, fake.block());
  EXPECT_NE(real_id, fake_id);
  EXPECT_TRUE(verifier_->Verify(0, cdl::consensus::kProposalDomain,
                                cdl::consensus::ProposalMessage(kChain, 2, fake_id), fake.signature()));
}

TEST_F(ByzantineNetworkTest, VotesComeWithABadSignatureAFarFutureCopyAndSometimesADoubleVote) {
  byz_->Send(1, Vote(7));
  ASSERT_EQ(net_.sent.size(), 3u);  // real, bad signature, far future
  EXPECT_TRUE(ValidVote(net_.sent[0].consensus().vote()));
  EXPECT_FALSE(ValidVote(net_.sent[1].consensus().vote()));
  const cv1::Vote& future = net_.sent[2].consensus().vote();
  EXPECT_EQ(future.round(), 7u + 1000000);
  EXPECT_TRUE(ValidVote(future));
  net_.sent.clear();
  byz_->Send(1, Vote(8));
  ASSERT_EQ(net_.sent.size(), 4u);  // + a second, validly signed vote in round 8 for another block
  const cv1::Vote& real = net_.sent[0].consensus().vote();
  const cv1::Vote& twin = net_.sent[1].consensus().vote();
  EXPECT_EQ(twin.round(), 8u);
  EXPECT_NE(twin.block_id(), real.block_id());
  EXPECT_TRUE(ValidVote(twin));
}

TEST_F(ByzantineNetworkTest, OtherMessagesPassUntouched) {
  PeerMessage m;
  m.mutable_records()->add_signed_records("x");
  byz_->Broadcast(m);
  ASSERT_EQ(net_.sent.size(), 1u);
  EXPECT_EQ(net_.sent[0].SerializeAsString(), m.SerializeAsString());
}

}  // namespace
}  // namespace cdl::net
