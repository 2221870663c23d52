// Watch: a real node behind a real in-process gRPC server, watched through
// the generated client stub.
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "node/ledger/test_util.h"
#include "node/net/ledger_service.h"
#include "node/net/node.h"
#include "node/net/watch_hub.h"
#include "node/storage/store.h"
#include "service.grpc.pb.h"

namespace cdl::net {
namespace {

using cdl::ledger::testing::TestChain;

// Waits (up to 10 s) until `done` holds.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

class WatchTest : public ::testing::Test {
 protected:
  void StartNode(WatchHubOptions watch = {}) {
    auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()),
                                            chain_.genesis());
    ASSERT_TRUE(ledger.ok());
    NodeOptions options;
    options.validator_id = "v1";
    options.flush_interval = absl::Milliseconds(1);
    options.watch = watch;
    auto node = Node::Create(*std::move(ledger), chain_.TakeValidatorKey(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    node_->Start();
    service_ = std::make_unique<LedgerService>(node_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
    stub_ = NewStub();
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    if (node_) node_->Stop();
  }

  // A client whose receive window stays small (no BDP probing), so that a
  // client that does not read holds up the server's writes soon.
  std::unique_ptr<cdl::v1::Ledger::Stub> NewStub(bool small_window = false) {
    grpc::ChannelArguments args;
    if (small_window) {
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
    }
    return cdl::v1::Ledger::NewStub(grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args));
  }

  cdl::v1::Receipt Submit(const std::string& bytes) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node_->Submit(bytes, /*wait=*/true, absl::Seconds(10),
                  [&done](absl::StatusOr<cdl::v1::Receipt> r) { done.set_value(std::move(r)); });
    auto r = future.get();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : cdl::v1::Receipt();
  }

  // Commits the members of the filter tests, one block each:
  //   1 park-a (CN, by reg-cn)    2 ent-1 (CN enterprise of park-a)
  //   3 cert-eu (EU, by reg-eu)   4 ent-1's disclosure for 2026
  //   5 a registration park-a may not write (REJECTED)
  void CommitDataset() {
    ASSERT_EQ(Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")).status(),
              cdl::v1::RECORD_ACCEPTED);
    ASSERT_EQ(Submit(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a")).status(),
              cdl::v1::RECORD_ACCEPTED);
    ASSERT_EQ(Submit(chain_.Register("reg-eu", "cert-eu", cdl::v1::ROLE_CERTIFIER, "EU")).status(),
              cdl::v1::RECORD_ACCEPTED);
    ASSERT_EQ(Submit(chain_.Disclosure("ent-1", "2026", "12.5")).status(), cdl::v1::RECORD_ACCEPTED);
    ASSERT_EQ(Submit(chain_.Register("park-a", "cert-x", cdl::v1::ROLE_CERTIFIER, "CN")).status(),
              cdl::v1::RECORD_REJECTED);
    ASSERT_EQ(node_->ledger().head().height(), 5u);
  }

  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<cdl::v1::WatchResponse>> reader;
  };
  std::unique_ptr<Stream> Watch(const cdl::v1::WatchRequest& request, cdl::v1::Ledger::Stub* stub = nullptr) {
    auto s = std::make_unique<Stream>();
    s->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    s->reader = (stub != nullptr ? stub : stub_.get())->Watch(&s->ctx, request);
    return s;
  }

  // Reads `n` block messages; fails the test if the stream ends first.
  std::vector<cdl::v1::WatchResponse> Read(Stream& s, size_t n) {
    std::vector<cdl::v1::WatchResponse> out;
    cdl::v1::WatchResponse msg;
    while (out.size() < n && s.reader->Read(&msg)) out.push_back(msg);
    EXPECT_EQ(out.size(), n) << "stream ended: " << s.reader->Finish().error_message();
    return out;
  }

  // "height.index type author status" of every record in `blocks`.
  static std::vector<std::string> Lines(const std::vector<cdl::v1::WatchResponse>& blocks) {
    std::vector<std::string> out;
    for (const auto& b : blocks) {
      for (const auto& r : b.records()) {
        out.push_back(std::to_string(b.height()) + "." + std::to_string(r.index()) + " " + r.record_type() + " " +
                      r.author() + " " + cdl::v1::RecordStatus_Name(r.receipt().status()));
      }
    }
    return out;
  }

  static std::vector<uint64_t> Heights(const std::vector<cdl::v1::WatchResponse>& blocks) {
    std::vector<uint64_t> out;
    for (const auto& b : blocks) out.push_back(b.height());
    return out;
  }

  cdl::v1::WatchRequest FromHeight(uint64_t h) {
    cdl::v1::WatchRequest r;
    r.set_from_height(h);
    return r;
  }

  TestChain chain_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<LedgerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<cdl::v1::Ledger::Stub> stub_;
};

using Strings = std::vector<std::string>;
using HeightList = std::vector<uint64_t>;

TEST_F(WatchTest, HistoryThenLiveWithoutGapsOrDuplicates) {
  StartNode();
  CommitDataset();
  auto s = Watch(FromHeight(2));
  auto history = Read(*s, 4);
  EXPECT_EQ(Heights(history), (HeightList{2, 3, 4, 5}));
  // Rejected records are left out unless asked for; their block still comes.
  EXPECT_EQ(Lines(history), (Strings{"2.0 member_registration park-a RECORD_ACCEPTED",
                                     "3.0 member_registration reg-eu RECORD_ACCEPTED",
                                     "4.0 disclosure ent-1 RECORD_ACCEPTED"}));
  const auto& d = history[2].records(0);
  EXPECT_EQ(d.receipt().height(), 4u);
  EXPECT_EQ(d.receipt().ledger_index(), 3u);
  auto parsed = cdl::verify::ParseSignedRecord(d.signed_record());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->id, d.record_id());
  cdl::v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(node_->ledger().GetBlock(4)->first.header()));
  EXPECT_EQ(history[2].block_time_ms(), header.time_ms());

  // Live: blocks committed while the stream is open follow in order.
  Submit(chain_.Disclosure("ent-1", "2027", "13"));
  Submit(chain_.Disclosure("ent-1", "2028", "14"));
  auto live = Read(*s, 2);
  EXPECT_EQ(Heights(live), (HeightList{6, 7}));
  EXPECT_EQ(Lines(live), (Strings{"6.0 disclosure ent-1 RECORD_ACCEPTED", "7.0 disclosure ent-1 RECORD_ACCEPTED"}));
  s->ctx.TryCancel();
}

TEST_F(WatchTest, FromHeightZeroIsLiveOnly) {
  StartNode();
  CommitDataset();
  auto s = Watch(FromHeight(0));
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  Submit(chain_.Disclosure("ent-1", "2027", "13"));
  auto live = Read(*s, 1);
  EXPECT_EQ(Heights(live), (HeightList{6}));
  s->ctx.TryCancel();
}

TEST_F(WatchTest, FromHeightBeyondTheHeadWaitsForIt) {
  StartNode();
  CommitDataset();
  auto s = Watch(FromHeight(7));
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  Submit(chain_.Disclosure("ent-1", "2027", "13"));
  Submit(chain_.Disclosure("ent-1", "2028", "14"));
  EXPECT_EQ(Heights(Read(*s, 1)), (HeightList{7}));
  s->ctx.TryCancel();
}

TEST_F(WatchTest, Filters) {
  StartNode();
  CommitDataset();
  struct Case {
    std::string name;
    cdl::v1::WatchRequest request;
    Strings expected;
  };
  std::vector<Case> cases;
  auto request = [&](auto set) {
    cdl::v1::WatchRequest r = FromHeight(1);
    set(r);
    return r;
  };
  cases.push_back({"type", request([](auto& r) { r.set_record_type("disclosure"); }),
                   {"4.0 disclosure ent-1 RECORD_ACCEPTED"}});
  // ent-1 is the subject of its registration (by park-a) and the author of its disclosure.
  cases.push_back({"member", request([](auto& r) { r.set_member("ent-1"); }),
                   {"2.0 member_registration park-a RECORD_ACCEPTED", "4.0 disclosure ent-1 RECORD_ACCEPTED"}});
  cases.push_back({"jurisdiction EU", request([](auto& r) { r.set_jurisdiction("EU"); }),
                   {"3.0 member_registration reg-eu RECORD_ACCEPTED"}});
  cases.push_back({"jurisdiction CN", request([](auto& r) { r.set_jurisdiction("CN"); }),
                   {"1.0 member_registration reg-cn RECORD_ACCEPTED",
                    "2.0 member_registration park-a RECORD_ACCEPTED", "4.0 disclosure ent-1 RECORD_ACCEPTED"}});
  cases.push_back({"park", request([](auto& r) { r.set_park("park-a"); }),
                   {"2.0 member_registration park-a RECORD_ACCEPTED", "4.0 disclosure ent-1 RECORD_ACCEPTED"}});
  cases.push_back({"period", request([](auto& r) { r.set_period("2026"); }),
                   {"4.0 disclosure ent-1 RECORD_ACCEPTED"}});
  cases.push_back({"type and jurisdiction", request([](auto& r) {
                     r.set_record_type("member_registration");
                     r.set_jurisdiction("CN");
                   }),
                   {"1.0 member_registration reg-cn RECORD_ACCEPTED",
                    "2.0 member_registration park-a RECORD_ACCEPTED"}});
  cases.push_back({"rejected included", request([](auto& r) {
                     r.set_member("park-a");
                     r.set_include_rejected(true);
                   }),
                   {"1.0 member_registration reg-cn RECORD_ACCEPTED",
                    "2.0 member_registration park-a RECORD_ACCEPTED",
                    "5.0 member_registration park-a RECORD_REJECTED"}});
  cases.push_back({"no match", request([](auto& r) { r.set_member("nobody"); }), {}});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = Watch(c.request);
    auto blocks = Read(*s, 5);  // every block comes, matching records or not
    EXPECT_EQ(Heights(blocks), (HeightList{1, 2, 3, 4, 5}));
    EXPECT_EQ(Lines(blocks), c.expected);
    s->ctx.TryCancel();
  }
}

TEST_F(WatchTest, ResumeFromTheNextHeightLosesNothing) {
  StartNode();
  CommitDataset();
  auto first = Watch(FromHeight(1));
  auto got = Read(*first, 3);
  first->ctx.TryCancel();
  grpc::Status ended = first->reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::CANCELLED);
  // Blocks commit while nobody watches.
  Submit(chain_.Disclosure("ent-1", "2027", "13"));
  auto second = Watch(FromHeight(got.back().height() + 1));
  auto rest = Read(*second, 3);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(Heights(got), (HeightList{1, 2, 3, 4, 5, 6}));
  second->ctx.TryCancel();
}

TEST_F(WatchTest, CancellationReleasesTheWatcher) {
  StartNode();
  auto s = Watch(FromHeight(0));
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  s->ctx.TryCancel();
  EXPECT_EQ(s->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 0; }));
}

TEST_F(WatchTest, ClosingTheHubEndsStreamsWithTheHeightToResumeFrom) {
  StartNode();
  CommitDataset();
  auto s = Watch(FromHeight(1));
  Read(*s, 5);
  node_->watch_hub().Close();
  cdl::v1::WatchResponse msg;
  EXPECT_FALSE(s->reader->Read(&msg));
  grpc::Status status = s->reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("from_height=6"), std::string::npos) << status.error_message();
  auto late = Watch(FromHeight(1));
  EXPECT_FALSE(late->reader->Read(&msg));
  EXPECT_EQ(late->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(WatchTest, TooManyWatchersIsResourceExhausted) {
  StartNode({.max_watchers = 2});
  auto a = Watch(FromHeight(0));
  auto b = Watch(FromHeight(0));
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 2; }));
  auto c = Watch(FromHeight(0));
  cdl::v1::WatchResponse msg;
  EXPECT_FALSE(c->reader->Read(&msg));
  grpc::Status status = c->reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("maximum of 2 Watch streams"), std::string::npos) << status.error_message();
  a->ctx.TryCancel();
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  auto d = Watch(FromHeight(0));  // a freed place can be taken again
  EXPECT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 2; }));
  b->ctx.TryCancel();
  d->ctx.TryCancel();
}

// A client that stops reading while blocks keep committing is cut off with
// the height to resume from; resuming there yields every later block once.
TEST_F(WatchTest, SlowConsumerIsCutOffAndResumesWithoutGaps) {
  StartNode({.max_buffered_blocks = 4});
  ASSERT_EQ(Submit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN")).status(),
            cdl::v1::RECORD_ACCEPTED);
  auto slow_stub = NewStub(/*small_window=*/true);
  auto s = Watch(FromHeight(0), slow_stub.get());
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  // Each block is one registration (~0.5 KiB); the client reads nothing.
  int blocks = 0;
  for (; blocks < 2000 && node_->watch_hub().watchers() == 1; ++blocks) {
    ASSERT_EQ(Submit(chain_.Register("reg-cn", "p" + std::to_string(blocks), cdl::v1::ROLE_PARK, "CN")).status(),
              cdl::v1::RECORD_ACCEPTED);
  }
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 0; })) << "never cut off";
  uint64_t head = node_->ledger().head().height();

  std::vector<cdl::v1::WatchResponse> got;
  cdl::v1::WatchResponse msg;
  while (s->reader->Read(&msg)) got.push_back(msg);
  grpc::Status status = s->reader->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  uint64_t resume = got.empty() ? 2 : got.back().height() + 1;
  EXPECT_NE(status.error_message().find("from_height=" + std::to_string(resume)), std::string::npos)
      << status.error_message();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].height(), 2 + i);

  auto again = Watch(FromHeight(resume));
  auto rest = Read(*again, head - resume + 1);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front().height(), resume);
  EXPECT_EQ(rest.back().height(), head);
  again->ctx.TryCancel();
}

// A stream that reads a long history while blocks keep committing is not cut
// off: blocks its buffer dropped are read from storage.
TEST_F(WatchTest, LongHistoryWithLiveBlocksIsNotCutOff) {
  StartNode({.max_buffered_blocks = 2});
  for (int i = 0; i < 30; ++i) Submit(chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
  auto s = Watch(FromHeight(1));
  ASSERT_TRUE(Eventually([&] { return node_->watch_hub().watchers() == 1; }));
  auto first = Read(*s, 1);
  for (int i = 30; i < 40; ++i) Submit(chain_.Register("reg-cn", "p" + std::to_string(i), cdl::v1::ROLE_PARK, "CN"));
  auto rest = Read(*s, 39);
  first.insert(first.end(), rest.begin(), rest.end());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].height(), i + 1);
  s->ctx.TryCancel();
}

TEST(WatchHubTest, OverflowByBlocksOrBytesStopsBuffering) {
  WatchHub hub({.max_watchers = 8, .max_buffered_blocks = 2, .max_buffered_bytes = 1000});
  std::atomic<int> wakes{0};
  auto a = hub.Subscribe([&] { ++wakes; });
  auto b = hub.Subscribe([&] { ++wakes; });
  ASSERT_TRUE(a.ok() && b.ok());
  cdl::v1::Block small;
  small.set_header("h");
  cdl::v1::Block big;
  big.set_header(std::string(2000, 'x'));
  hub.Publish(1, small);
  hub.Publish(2, small);
  EXPECT_EQ((*a)->Pop()->height, 1u);
  hub.Publish(3, small);  // a holds 2 again, b would hold 3: b overflows
  EXPECT_FALSE((*a)->overflowed());
  EXPECT_TRUE((*b)->overflowed());
  EXPECT_FALSE((*b)->Pop().has_value());
  EXPECT_EQ((*a)->Pop()->height, 2u);
  EXPECT_EQ((*a)->Pop()->height, 3u);
  EXPECT_FALSE((*a)->Pop().has_value());
  hub.Publish(4, big);  // more bytes than a may hold
  EXPECT_TRUE((*a)->overflowed());
  EXPECT_TRUE(Eventually([&] { return wakes.load() >= 3; }));
  EXPECT_EQ(hub.watchers(), 2u);
  a->reset();
  // The waker thread may still hold `a` for a moment after its callback ran
  // (seen under TSan with the machine loaded); the watcher goes when it lets go.
  EXPECT_TRUE(Eventually([&] { return hub.watchers() == 1u; })) << hub.watchers();
}

}  // namespace
}  // namespace cdl::net
