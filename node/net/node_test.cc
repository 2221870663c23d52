#include "node/net/node.h"

#include <future>

#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/storage/store.h"

namespace cdl::net {
namespace {

using cdl::ledger::testing::TestChain;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()),
                                            chain_.genesis());
    ASSERT_TRUE(ledger.ok());
    NodeOptions options;
    options.validator_id = "v1";
    options.flush_interval = absl::Milliseconds(1);
    auto node = Node::Create(*std::move(ledger), chain_.TakeValidatorKey(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    node_->Start();
  }
  void TearDown() override { node_->Stop(); }

  absl::StatusOr<cdl::v1::Receipt> Submit(const std::string& bytes, bool wait = true) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node_->Submit(bytes, wait, absl::Seconds(10),
                  [&done](absl::StatusOr<cdl::v1::Receipt> r) { done.set_value(std::move(r)); });
    return future.get();
  }

  TestChain chain_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeTest, SubmitWaitsForAcceptedReceipt) {
  auto r = Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED);
  EXPECT_EQ(r->height(), 1u);
  EXPECT_EQ(node_->ledger().head().ledger_size(), 1u);
}

TEST_F(NodeTest, SubmitWithoutWaitAnswersAdmitted) {
  auto r = Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"), /*wait=*/false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), cdl::v1::RECORD_ADMITTED);
}

// The bad-input table: each input gets the documented status and message,
// and the ledger is unchanged.
TEST_F(NodeTest, BadInputTable) {
  ASSERT_TRUE(Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")).ok());
  std::string good = chain_.Register("reg-cn", "park-b", cdl::v1::ROLE_PARK, "CN");
  ASSERT_TRUE(Submit(good).ok());

  struct Case {
    std::string name;
    std::string bytes;
    absl::StatusCode code;            // kOk: admitted, then REJECTED with `reject`
    std::string message;              // substring of the error or receipt message
    cdl::v1::RejectCode reject = cdl::v1::REJECT_NONE;
  };
  std::vector<Case> cases;
  cases.push_back({"malformed protobuf", "\xff\xff\xff\xff not a record", absl::StatusCode::kInvalidArgument,
                   "malformed protobuf"});
  cases.push_back({"truncated", good.substr(0, good.size() / 2), absl::StatusCode::kInvalidArgument, "signed_record"});
  cases.push_back({"oversized", std::string(cdl::verify::kMaxRecordBytes + 1, 'a'), absl::StatusCode::kInvalidArgument,
                   "larger than the limit"});
  cases.push_back({"empty", "", absl::StatusCode::kInvalidArgument, "empty"});
  {
    cdl::v1::RecordBody body = chain_.Body("reg-cn");
    body.set_chain_id("other-chain");
    body.mutable_member_registration()->set_member_id("x1");
    cases.push_back({"wrong chain id", chain_.Sign(body), absl::StatusCode::kInvalidArgument, "body.chain_id"});
    chain_.RewindSequence("reg-cn", 2);
  }
  {
    cdl::v1::SignedRecord rec;
    rec.ParseFromString(chain_.Register("reg-cn", "park-c", cdl::v1::ROLE_PARK, "CN"));
    chain_.RewindSequence("reg-cn", 2);
    std::string sig = rec.signatures(0).signature();
    sig[sig.size() / 2] ^= 0x01;
    rec.mutable_signatures(0)->set_signature(sig);
    cases.push_back({"bad signature", rec.SerializeAsString(), absl::StatusCode::kPermissionDenied,
                     "does not verify"});
  }
  {
    chain_.SetKey("intruder", TestChain::Generate());
    cdl::v1::RecordBody body = chain_.Body("intruder");
    body.set_author("reg-cn");
    auto* m = body.mutable_member_registration();
    m->set_member_id("evil");
    m->set_role(cdl::v1::ROLE_PARK);
    m->set_jurisdiction("CN");
    *m->add_keys() = cdl::ledger::testing::KeyInfo(chain_.key("intruder").public_key());
    auto signed_record = cdl::verify::SignBody(body, chain_.key("intruder"));
    signed_record->mutable_signatures(0)->set_member("reg-cn");
    cases.push_back({"unknown key", signed_record->SerializeAsString(), absl::StatusCode::kPermissionDenied,
                     "is not a registered key"});
  }
  cases.push_back({"unknown member", [&] {
                     chain_.SetKey("ghost", TestChain::Generate());
                     return chain_.Disclosure("ghost", "2026", "1");
                   }(),
                   absl::StatusCode::kPermissionDenied, "not a registered member"});
  cases.push_back({"replayed record", good, absl::StatusCode::kAlreadyExists, "already on the ledger"});
  {
    chain_.RewindSequence("reg-cn", 1);  // sequence 2 is used by `good`
    cases.push_back({"replayed sequence", chain_.Register("reg-cn", "park-z", cdl::v1::ROLE_PARK, "CN"),
                     absl::StatusCode::kFailedPrecondition, "already used"});
    chain_.RewindSequence("reg-cn", 2);
  }
  {
    cdl::v1::RecordBody body = chain_.Body("reg-cn");
    auto* d = body.mutable_disclosure();
    d->set_organisation("reg-cn");
    d->set_period("2026");
    d->set_scope1_tco2e("12,5");
    d->set_scope2_location_tco2e("1");
    d->set_methodology("ISO 14064-1:2018");
    cases.push_back({"invalid decimal", chain_.Sign(body), absl::StatusCode::kInvalidArgument,
                     "disclosure.scope1_tco2e"});
    chain_.RewindSequence("reg-cn", 2);
  }
  // Wrong role is a rule of the ledger: admitted, then REJECTED with a reason.
  cases.push_back({"wrong role", chain_.Register("park-a", "cert-1", cdl::v1::ROLE_CERTIFIER, "CN"),
                   absl::StatusCode::kOk, "may only admit enterprises", cdl::v1::REJECT_ROLE_NOT_ALLOWED});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto before = node_->ledger().head();
    auto r = Submit(c.bytes);
    if (c.code != absl::StatusCode::kOk) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), c.code) << r.status();
      EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status();
      auto after = node_->ledger().head();
      EXPECT_EQ(after.height(), before.height());
      EXPECT_EQ(after.ledger_root(), before.ledger_root());
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->status(), cdl::v1::RECORD_REJECTED);
      EXPECT_EQ(r->code(), c.reject);
      EXPECT_NE(r->message().find(c.message), std::string::npos) << r->message();
      EXPECT_EQ(node_->ledger().head().ledger_root(), before.ledger_root());
    }
  }
}

// Admission judges the author's key and standing on its committed state: a
// revoked key, or the key of a suspended member, is refused before it reaches
// the mempool, with the reason, and the ledger does not change.
TEST_F(NodeTest, AdmissionRefusesRevokedKeysAndSuspendedAuthors) {
  auto accepted = [](const absl::StatusOr<cdl::v1::Receipt>& r) {
    return r.ok() && r->status() == cdl::v1::RECORD_ACCEPTED;
  };
  ASSERT_TRUE(accepted(Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"))));
  ASSERT_TRUE(accepted(Submit(chain_.Disclosure("park-a", "2025", "1"))));
  auto new_key = TestChain::Generate();
  cdl::v1::RecordBody body = chain_.Body("park-a");
  body.mutable_key_rotation()->set_member_id("park-a");
  *body.mutable_key_rotation()->add_add_keys() = cdl::ledger::testing::KeyInfo(new_key.public_key());
  body.mutable_key_rotation()->add_revoke_key_ids(chain_.key("park-a").public_key().KeyId());
  ASSERT_TRUE(accepted(Submit(chain_.Sign(body))));

  auto before = node_->ledger().head();
  auto stale = Submit(chain_.Disclosure("park-a", "2026", "1"));  // still signed with the revoked key
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(stale.status().message().find("signed_record.signatures[0]: key "), std::string::npos) << stale.status();
  EXPECT_NE(stale.status().message().find("of \"park-a\" is revoked"), std::string::npos) << stale.status();
  EXPECT_EQ(node_->ledger().head().ledger_root(), before.ledger_root());

  chain_.RewindSequence("park-a", 2);
  chain_.SetKey("park-a", std::move(new_key));
  ASSERT_TRUE(accepted(Submit(chain_.Disclosure("park-a", "2026", "1"))));
  EXPECT_EQ(node_->ledger().LastSequence("park-a"), 3u);

  cdl::v1::Target target;
  target.set_member("park-a");
  ASSERT_TRUE(accepted(Submit(chain_.StatusChange("reg-cn", cdl::v1::RecordBody::kSuspension, target, "audit"))));
  before = node_->ledger().head();
  auto suspended = Submit(chain_.Disclosure("park-a", "2027", "1"));
  ASSERT_FALSE(suspended.ok());
  EXPECT_EQ(suspended.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(suspended.status().message().find("member \"park-a\" is suspended"), std::string::npos)
      << suspended.status();
  EXPECT_EQ(node_->ledger().head().ledger_root(), before.ledger_root());
}

TEST_F(NodeTest, ManyConcurrentSubmitsAllCommitInOrder) {
  std::vector<std::string> records;
  for (int i = 0; i < 200; ++i) {
    records.push_back(chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
  }
  // Submitted in reverse: the mempool holds the gaps until they fill.
  std::vector<std::promise<absl::StatusOr<cdl::v1::Receipt>>> done(records.size());
  for (int i = static_cast<int>(records.size()) - 1; i >= 0; --i) {
    node_->Submit(records[i], true, absl::Seconds(20),
                  [&done, i](absl::StatusOr<cdl::v1::Receipt> r) { done[i].set_value(std::move(r)); });
  }
  for (auto& d : done) {
    auto r = d.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), cdl::v1::RECORD_ACCEPTED) << r->message();
  }
  EXPECT_EQ(node_->ledger().head().ledger_size(), 200u);
  EXPECT_EQ(node_->ledger().GetMember("reg-cn")->last_sequence(), 200u);
}

}  // namespace
}  // namespace cdl::net
