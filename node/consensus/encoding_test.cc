#include "node/consensus/encoding.h"

#include <string>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "node/consensus/key_signer.h"

namespace cdl::consensus {
namespace {

v1::Block SampleBlock() {
  v1::Block b;
  b.set_round(7);
  b.set_height(5);
  b.set_parent_id(std::string(32, 'p'));
  b.mutable_qc()->set_block_id(b.parent_id());
  b.mutable_qc()->set_round(6);
  b.mutable_qc()->set_height(4);
  b.set_payload("records");
  b.set_author(3);
  b.set_timestamp_ms(1'700'000'000'123);
  return b;
}

TEST(ByteWriter, BigEndianAndLengthPrefixed) {
  ByteWriter w;
  w.U32(0x01020304);
  w.U64(0x05);
  w.Bytes("ab");
  EXPECT_EQ(w.data(), std::string("\x01\x02\x03\x04"
                                  "\0\0\0\0\0\0\0\x05"
                                  "\0\0\0\x02"
                                  "ab",
                                  18));
}

TEST(BlockId, IsAHashOfEveryField) {
  const v1::Block base = SampleBlock();
  const std::string id = BlockId("chain", base);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id, BlockId("chain", base));
  EXPECT_NE(id, BlockId("other-chain", base));
  auto changed = [&](auto mutate) {
    v1::Block b = base;
    mutate(b);
    return BlockId("chain", b) != id;
  };
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_round(8); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_height(6); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_parent_id("x"); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.mutable_qc()->set_round(5); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_payload("other"); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_author(2); }));
  EXPECT_TRUE(changed([](v1::Block& b) { b.set_timestamp_ms(1); }));
  // The QC's signatures are not part of the id.
  EXPECT_FALSE(changed(
      [](v1::Block& b) { b.mutable_qc()->add_votes()->set_signature("sig"); }));
}

TEST(BlockId, GenesisDependsOnChain) {
  EXPECT_NE(GenesisBlockId("a"), GenesisBlockId("b"));
  EXPECT_EQ(GenesisQc("a").block_id(), GenesisBlockId("a"));
  EXPECT_EQ(GenesisQc("a").round(), 0u);
}

TEST(CommitMessage, MatchesTheLedgerLayout) {
  // "len(chain_id) chain_id || height BE || block_hash" (proto/ledger.proto).
  const std::string hash(32, '\xab');
  const std::string msg = CommitMessage("c1", 258, hash);
  EXPECT_EQ(msg, std::string("\0\0\0\x02"
                             "c1"
                             "\0\0\0\0\0\0\x01\x02",
                             14) +
                     hash);
}

TEST(SignedMessages, DifferByKindAndChain) {
  const std::string id(32, 'i');
  EXPECT_NE(VoteMessage("a", id, 1, 1, id, 0),
            VoteMessage("b", id, 1, 1, id, 0));
  EXPECT_NE(TimeoutMessage("a", 5, 4), TimeoutMessage("a", 5, 3));
  EXPECT_NE(ProposalMessage("a", 5, id), ProposalMessage("a", 6, id));
}

TEST(KeySigner, SignsDomainSeparatedWithRealKeys) {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::Algorithm::kEcdsaP256Sha256);
  ASSERT_TRUE(key.ok());
  crypto::PublicKey pub = key->public_key();
  KeySigner signer(*std::move(key));
  KeyVerifier verifier({pub});
  absl::StatusOr<std::string> sig = signer.Sign(kVoteDomain, "message");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(verifier.Verify(0, kVoteDomain, "message", *sig));
  EXPECT_TRUE(crypto::VerifyDomain(pub, "cdl/vote/v1", "message", *sig).ok());
  EXPECT_FALSE(verifier.Verify(0, kTimeoutDomain, "message", *sig));
  EXPECT_FALSE(verifier.Verify(0, kVoteDomain, "messagf", *sig));
  EXPECT_FALSE(verifier.Verify(1, kVoteDomain, "message", *sig));
  EXPECT_FALSE(verifier.Verify(0, kVoteDomain, "message", "garbage"));
}

}  // namespace
}  // namespace cdl::consensus
