// PeerTransport over real gRPC, real TLS and real certificates on loopback.
#include "node/net/peer_transport.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "peer.grpc.pb.h"

namespace cdl::net {
namespace {

using cdl::crypto::Algorithm;
using cdl::crypto::PrivateKey;
using cdl::peer::v1::PeerMessage;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kChain[] = "peer-test-chain";
constexpr size_t kTestMaxMessage = 64 * 1024;

// A port that was free a moment ago (gRPC binds with SO_REUSEADDR).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

PeerMessage Tagged(const std::string& tag, size_t padding = 0) {
  PeerMessage msg;
  auto* records = msg.mutable_records();
  records->add_signed_records(tag);
  if (padding > 0) records->add_signed_records(std::string(padding, 'x'));
  return msg;
}

// Collects what a transport's Handler receives.
class Inbox {
 public:
  PeerTransport::Handler handler() {
    return [this](uint32_t from, PeerMessage msg) {
      absl::MutexLock lock(&mu_);
      got_.emplace_back(from, msg.records().signed_records_size() > 0
                                  ? msg.records().signed_records(0)
                                  : std::string("<other>"));
    };
  }
  std::vector<std::pair<uint32_t, std::string>> got() const {
    absl::MutexLock lock(&mu_);
    return got_;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return got_.size();
  }
  bool Has(uint32_t from, const std::string& tag) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [f, t] : got_) {
      if (f == from && t == tag) return true;
    }
    return false;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<uint32_t, std::string>> got_ ABSL_GUARDED_BY(mu_);
};

// A TCP forwarder between a listening port and a target port that can be
// switched to a blackhole (accepts and swallows bytes, answers nothing), like
// a network partition or a SIGSTOPped peer.
class TcpProxy {
 public:
  TcpProxy(int listen_port, int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr = LoopbackAddr(listen_port);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    // The accept thread is the only one adding pumps: join it first, then
    // the pumps (the vector no longer changes).
    accept_thread_.join();
    for (auto& t : threads_) t.join();
    close(listen_fd_);
  }
  void set_blackhole(bool on) { blackhole_ = on; }

 private:
  static sockaddr_in LoopbackAddr(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr = LoopbackAddr(target_port_);
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(client);
        close(server);
        continue;
      }
      threads_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }
  void Pump(int a, int b) {
    char buf[16384];
    while (!stop_) {
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (poll(p, 2, 20) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(p[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          closed = true;
        } else if (!blackhole_) {
          closed = write(p[1 - i].fd, buf, n) != n;
        }
      }
      if (closed) break;
    }
    close(a);
    close(b);
  }

  const int target_port_;
  int listen_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> blackhole_{false};
  std::thread accept_thread_;
  std::vector<std::thread> threads_;  // pumps; only the accept thread adds
};

struct Identity {
  std::string cert_pem;
  std::string key_pem;
};

// A 4-validator cluster: CA, keys, certificates and a genesis on free ports.
class PeerTransportTest : public ::testing::Test {
 protected:
  static constexpr int kValidators = 4;

  void SetUp() override { Build(Algorithm::kEcdsaP256Sha256); }
  void TearDown() override {
    for (auto& t : transports_) {
      if (t) t->Stop();
    }
  }

  void Build(Algorithm algorithm) {
    ca_key_ = std::make_unique<PrivateKey>(*PrivateKey::Generate(algorithm));
    ca_pem_ = *cdl::crypto::CreateCaCertificate(
        *ca_key_, {.common_name = "cdl test cluster CA",
                   .not_before = std::chrono::system_clock::now() - 1h,
                   .not_after = std::chrono::system_clock::now() + 24h});
    keys_.clear();
    cdl::v1::Genesis g;
    g.set_chain_id(kChain);
    for (int i = 0; i < kValidators; ++i) {
      keys_.push_back(*PrivateKey::Generate(algorithm));
      auto* v = g.add_validators();
      v->set_id("v" + std::to_string(i));
      v->mutable_key()->set_algorithm(std::string(cdl::crypto::AlgorithmName(algorithm)));
      v->mutable_key()->set_public_key(keys_.back().public_key().der());
      v->set_address(Loopback(FreePort()));
    }
    genesis_proto_ = g;
    auto genesis = cdl::verify::TrustedGenesis::FromProto(g);
    ASSERT_TRUE(genesis.ok()) << genesis.status();
    genesis_ = std::make_unique<cdl::verify::TrustedGenesis>(*std::move(genesis));
    transports_.clear();
    transports_.resize(kValidators);
    inboxes_.clear();
    for (int i = 0; i < kValidators; ++i) inboxes_.push_back(std::make_unique<Inbox>());
  }

  Identity Issue(
      const PrivateKey& key, const std::string& cn,
      std::chrono::system_clock::time_point not_before = std::chrono::system_clock::now() - 1h,
      std::chrono::system_clock::time_point not_after = std::chrono::system_clock::now() + 24h,
      const std::string* ca_pem = nullptr, const PrivateKey* ca_key = nullptr) {
    auto cert = cdl::crypto::IssueNodeCertificate(
        ca_pem ? *ca_pem : ca_pem_, ca_key ? *ca_key : *ca_key_, key.public_key(),
        {.common_name = cn, .extra_names = {}, .not_before = not_before, .not_after = not_after});
    EXPECT_TRUE(cert.ok()) << cert.status();
    return {cert.value_or(""), key.ToPem()};
  }

  PeerTransportOptions Options(int i) {
    PeerTransportOptions o;
    o.validator_id = "v" + std::to_string(i);
    o.genesis = *genesis_;
    Identity id = Issue(keys_[i], o.validator_id);
    o.cert_pem = id.cert_pem;
    o.key_pem = id.key_pem;
    o.ca_pem = ca_pem_;
    o.max_message_bytes = kTestMaxMessage;
    o.max_queued_bytes = 1024 * 1024;
    o.initial_backoff = absl::Milliseconds(20);
    o.max_backoff = absl::Milliseconds(200);
    o.connect_timeout = absl::Seconds(2);
    o.random_seed = 1234 + i;
    return o;
  }

  PeerTransport& StartTransport(int i, PeerTransportOptions options) {
    auto t = PeerTransport::Create(std::move(options), inboxes_[i]->handler());
    EXPECT_TRUE(t.ok()) << t.status();
    transports_[i] = *std::move(t);
    // A restarted listener may briefly find its port still held.
    absl::Status started;
    for (int attempt = 0; attempt < 50; ++attempt) {
      started = transports_[i]->Start();
      if (started.ok()) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_TRUE(started.ok()) << started;
    return *transports_[i];
  }
  PeerTransport& StartTransport(int i) { return StartTransport(i, Options(i)); }

  bool AllConnected(const std::vector<int>& which) {
    for (int i : which) {
      PeerTransportStats s = transports_[i]->stats();
      for (int j : which) {
        if (i != j && !(s.peers[j].outbound_connected && s.peers[j].inbound_connected)) {
          return false;
        }
      }
    }
    return true;
  }

  // A bare gRPC client to validator `to` with arbitrary TLS material, for
  // playing a misbehaving peer.
  struct RawPeer {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<cdl::peer::v1::Peer::Stub> stub;
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<PeerMessage, PeerMessage>> stream;
  };
  std::unique_ptr<RawPeer> Dial(int to, const Identity& id, const std::string& ca_pem) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ca_pem;
    tls.pem_cert_chain = id.cert_pem;
    tls.pem_private_key = id.key_pem;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxSendMessageSize(16 * 1024 * 1024);
    auto raw = std::make_unique<RawPeer>();
    raw->channel = grpc::CreateCustomChannel(genesis_proto_.validators(to).address(),
                                             grpc::SslCredentials(tls), args);
    raw->stub = cdl::peer::v1::Peer::NewStub(raw->channel);
    raw->ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    raw->stream = raw->stub->Connect(&raw->ctx);
    return raw;
  }
  static PeerMessage Hello(const std::string& chain, const std::string& id) {
    PeerMessage m;
    m.mutable_hello()->set_chain_id(chain);
    m.mutable_hello()->set_validator_id(id);
    return m;
  }
  // Sends Hello as `id`, then `messages`, and returns the stream's status.
  grpc::Status RawExchange(int to, const Identity& identity, const std::string& ca_pem,
                           const PeerMessage& hello, const std::vector<PeerMessage>& messages,
                           bool expect_server_hello) {
    auto raw = Dial(to, identity, ca_pem);
    raw->stream->Write(hello);
    if (expect_server_hello) {
      PeerMessage reply;
      EXPECT_TRUE(raw->stream->Read(&reply));
      EXPECT_TRUE(reply.has_hello());
      EXPECT_EQ(reply.hello().validator_id(), "v" + std::to_string(to));
    }
    for (const auto& m : messages) raw->stream->Write(m);
    raw->stream->WritesDone();
    PeerMessage ignored;
    while (raw->stream->Read(&ignored)) {
    }
    return raw->stream->Finish();
  }

  std::unique_ptr<PrivateKey> ca_key_;
  std::string ca_pem_;
  std::vector<PrivateKey> keys_;
  cdl::v1::Genesis genesis_proto_;
  std::unique_ptr<cdl::verify::TrustedGenesis> genesis_;
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<PeerTransport>> transports_;
};

TEST_F(PeerTransportTest, FourValidatorsExchangeMessagesAllToAll) {
  for (int i = 0; i < kValidators; ++i) StartTransport(i);
  // Sent before any stream is up: queued, then delivered.
  for (int i = 0; i < kValidators; ++i) {
    for (int n = 0; n < 5; ++n) {
      transports_[i]->Broadcast(Tagged("b" + std::to_string(i) + "-" + std::to_string(n)));
    }
    for (int j = 0; j < kValidators; ++j) {
      if (j != i)
        transports_[i]->Send(j, Tagged("d" + std::to_string(i) + ">" + std::to_string(j)));
    }
  }
  for (int j = 0; j < kValidators; ++j) {
    ASSERT_TRUE(WaitFor([&] { return inboxes_[j]->size() >= 3 * 6; }))
        << "validator " << j << " got " << inboxes_[j]->size();
  }
  for (int j = 0; j < kValidators; ++j) {
    EXPECT_EQ(inboxes_[j]->size(), 3u * 6);
    for (int i = 0; i < kValidators; ++i) {
      if (i == j) continue;
      for (int n = 0; n < 5; ++n) {
        EXPECT_TRUE(inboxes_[j]->Has(i, "b" + std::to_string(i) + "-" + std::to_string(n)));
      }
      EXPECT_TRUE(inboxes_[j]->Has(i, "d" + std::to_string(i) + ">" + std::to_string(j)));
    }
  }
  ASSERT_TRUE(WaitFor([&] { return AllConnected({0, 1, 2, 3}); }));
  PeerTransportStats s = transports_[0]->stats();
  EXPECT_EQ(s.connected_peers, 3u);
  EXPECT_EQ(s.messages_sent, 18u);
  EXPECT_EQ(s.messages_received, 18u);
  EXPECT_EQ(s.dropped_queue_full + s.rejected_oversized + s.rejected_malformed +
                s.refused_not_genesis + s.refused_bad_hello + s.refused_wrong_server,
            0u);
  EXPECT_EQ(s.peers[1].validator_id, "v1");
  EXPECT_EQ(s.peers[1].sent, 6u);
  EXPECT_EQ(s.peers[1].received, 6u);
}

TEST_F(PeerTransportTest, RestartedPeerIsReconnected) {
  for (int i = 0; i < kValidators; ++i) StartTransport(i);
  ASSERT_TRUE(WaitFor([&] { return AllConnected({0, 1, 2, 3}); }));

  transports_[2]->Stop();
  ASSERT_TRUE(WaitFor([&] { return !transports_[0]->stats().peers[2].outbound_connected; }));
  // Queued while v2 is down.
  transports_[0]->Send(2, Tagged("while-down"));
  transports_[2].reset();
  StartTransport(2);  // same port, fresh process state
  transports_[0]->Send(2, Tagged("after-restart"));
  transports_[2]->Send(0, Tagged("from-new-v2"));
  transports_[2]->Send(3, Tagged("from-new-v2"));
  ASSERT_TRUE(WaitFor([&] {
    return inboxes_[2]->Has(0, "while-down") && inboxes_[2]->Has(0, "after-restart") &&
           inboxes_[0]->Has(2, "from-new-v2") && inboxes_[3]->Has(2, "from-new-v2");
  }));
  ASSERT_TRUE(WaitFor([&] { return AllConnected({0, 1, 2, 3}); }));
  EXPECT_GE(transports_[0]->stats().peers[2].connects, 2u);
}

TEST_F(PeerTransportTest, CaSignedCertificateForNonGenesisKeyIsRefused) {
  PeerTransport& v0 = StartTransport(0);
  // An impostor with a certificate from the real cluster CA, naming itself
  // v1, but holding a key that is not v1's genesis key. It runs a full
  // transport whose (forged) genesis says it is v1 at v1's address.
  PrivateKey impostor_key = *PrivateKey::Generate(Algorithm::kEcdsaP256Sha256);
  cdl::v1::Genesis forged = genesis_proto_;
  forged.mutable_validators(1)->mutable_key()->set_public_key(impostor_key.public_key().der());
  PeerTransportOptions o = Options(1);
  o.genesis = *cdl::verify::TrustedGenesis::FromProto(forged);
  Identity id = Issue(impostor_key, "v1");
  o.cert_pem = id.cert_pem;
  o.key_pem = id.key_pem;
  PeerTransport& impostor = StartTransport(1, std::move(o));
  for (int n = 0; n < 10; ++n) impostor.Broadcast(Tagged("forged"));

  // v0 refuses the impostor's stream; v0's own dial to "v1" finds a server
  // without v1's key and drops it.
  ASSERT_TRUE(WaitFor([&] {
    PeerTransportStats s = v0.stats();
    return s.refused_not_genesis >= 2 && s.refused_wrong_server >= 2;
  }));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(inboxes_[0]->size(), 0u);
  PeerTransportStats s = v0.stats();
  EXPECT_FALSE(s.peers[1].inbound_connected);
  EXPECT_FALSE(s.peers[1].outbound_connected);
  EXPECT_EQ(s.messages_received, 0u);
  EXPECT_EQ(impostor.stats().connected_peers, 0u);

  // A bare client sees why.
  grpc::Status refused =
      RawExchange(0, id, ca_pem_, Hello(kChain, "v1"), {Tagged("forged")}, false);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.error_message(), HasSubstr("not the key of any genesis validator"));
  EXPECT_EQ(inboxes_[0]->size(), 0u);
}

TEST_F(PeerTransportTest, HelloMustMatchChainAndCertificate) {
  PeerTransport& v0 = StartTransport(0);
  Identity v1 = Issue(keys_[1], "v1");
  grpc::Status wrong_chain =
      RawExchange(0, v1, ca_pem_, Hello("other-chain", "v1"), {Tagged("x")}, false);
  EXPECT_EQ(wrong_chain.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(wrong_chain.error_message(), HasSubstr("other-chain"));
  // v1's certificate, claiming to be v2: the certificate wins, the stream is refused.
  grpc::Status wrong_id = RawExchange(0, v1, ca_pem_, Hello(kChain, "v2"), {Tagged("x")}, false);
  EXPECT_EQ(wrong_id.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(wrong_id.error_message(), HasSubstr("certificate holds the key of \"v1\""));
  grpc::Status no_hello = RawExchange(0, v1, ca_pem_, Tagged("x"), {}, false);
  EXPECT_EQ(no_hello.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(v0.stats().refused_bad_hello, 3u);
  EXPECT_EQ(inboxes_[0]->size(), 0u);

  // Malformed messages after a good Hello are dropped; the stream goes on.
  PeerMessage empty;
  PeerMessage second_hello = Hello(kChain, "v1");
  grpc::Status ok =
      RawExchange(0, v1, ca_pem_, Hello(kChain, "v1"), {empty, second_hello, Tagged("good")}, true);
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->Has(1, "good"); }));
  EXPECT_EQ(v0.stats().rejected_malformed, 2u);
  EXPECT_EQ(inboxes_[0]->size(), 1u);
}

TEST_F(PeerTransportTest, ExpiredCertificateIsRefused) {
  PeerTransport& v0 = StartTransport(0);
  auto now = std::chrono::system_clock::now();
  Identity expired = Issue(keys_[1], "v1", now - 48h, now - 24h);
  // The transport will not even start with it...
  PeerTransportOptions o = Options(1);
  o.cert_pem = expired.cert_pem;
  auto t = PeerTransport::Create(std::move(o), inboxes_[1]->handler());
  EXPECT_THAT(t.status().message(), HasSubstr("expired"));
  // ...and a peer presenting it fails the TLS handshake.
  grpc::Status s = RawExchange(0, expired, ca_pem_, Hello(kChain, "v1"), {Tagged("x")}, false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(inboxes_[0]->size(), 0u);
  EXPECT_FALSE(v0.stats().peers[1].inbound_connected);
}

TEST_F(PeerTransportTest, CertificateFromForeignCaIsRefused) {
  PeerTransport& v0 = StartTransport(0);
  PrivateKey foreign_key = *PrivateKey::Generate(Algorithm::kEcdsaP256Sha256);
  std::string foreign_ca = *cdl::crypto::CreateCaCertificate(
      foreign_key, {.common_name = "cdl test cluster CA",  // same name, other key
                    .not_before = std::chrono::system_clock::now() - 1h,
                    .not_after = std::chrono::system_clock::now() + 24h});
  auto now = std::chrono::system_clock::now();
  // v1's real genesis key, certified by the wrong CA.
  Identity foreign = Issue(keys_[1], "v1", now - 1h, now + 24h, &foreign_ca, &foreign_key);
  grpc::Status s =
      RawExchange(0, foreign, ca_pem_ + foreign_ca, Hello(kChain, "v1"), {Tagged("x")}, false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(inboxes_[0]->size(), 0u);

  // A transport trusting only the foreign CA cannot talk to v0 either way.
  PeerTransportOptions o = Options(1);
  o.cert_pem = foreign.cert_pem;
  o.ca_pem = foreign_ca;
  StartTransport(1, std::move(o));
  transports_[1]->Send(0, Tagged("x"));
  v0.Send(1, Tagged("y"));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(inboxes_[0]->size(), 0u);
  EXPECT_EQ(inboxes_[1]->size(), 0u);
  EXPECT_EQ(v0.stats().connected_peers, 0u);
  EXPECT_EQ(transports_[1]->stats().connected_peers, 0u);
}

TEST_F(PeerTransportTest, OversizedMessagesAreRejectedAndCounted) {
  PeerTransport& v0 = StartTransport(0);
  PeerTransport& v1 = StartTransport(1);
  ASSERT_TRUE(WaitFor([&] { return AllConnected({0, 1}); }));

  // Our own oversized message is refused at Send; the stream keeps working.
  v1.Send(0, Tagged("too-big", kTestMaxMessage));
  v1.Send(0, Tagged("small-after"));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->Has(1, "small-after"); }));
  EXPECT_EQ(v1.stats().rejected_oversized, 1u);
  EXPECT_FALSE(inboxes_[0]->Has(1, "too-big"));

  // A peer (v2, played by a bare client) that sends one anyway has its stream
  // reset by gRPC before the message is parsed; v0 counts the broken stream.
  Identity v2_id = Issue(keys_[2], "v2");
  grpc::Status s =
      RawExchange(0, v2_id, ca_pem_, Hello(kChain, "v2"),
                  {Tagged("raw-small"), Tagged("raw-too-big", 2 * kTestMaxMessage)}, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  ASSERT_TRUE(WaitFor([&] { return v0.stats().inbound_stream_errors == 1; }));
  EXPECT_TRUE(inboxes_[0]->Has(2, "raw-small"));
  EXPECT_FALSE(inboxes_[0]->Has(2, "raw-too-big"));

  // v2 reconnects and is heard again; v1's stream was never disturbed.
  s = RawExchange(0, v2_id, ca_pem_, Hello(kChain, "v2"), {Tagged("raw-again")}, true);
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->Has(2, "raw-again"); }));
  v1.Send(0, Tagged("later"));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->Has(1, "later"); }));
  EXPECT_EQ(v0.stats().peers[1].connects, 1u);
  EXPECT_EQ(v1.stats().peers[0].connects, 1u);
}

TEST_F(PeerTransportTest, PartitionedPeerIsDetectedAndRedialedAfterHealing) {
  // v0 reaches v1 only through a proxy at v1's genesis address; v1 really
  // listens elsewhere.
  std::string v1_address = genesis_proto_.validators(1).address();
  int proxy_port = std::stoi(v1_address.substr(v1_address.rfind(':') + 1));
  int v1_port = FreePort();
  TcpProxy proxy(proxy_port, v1_port);
  auto fast_keepalive = [](PeerTransportOptions o) {
    o.keepalive_time = absl::Milliseconds(300);
    o.keepalive_timeout = absl::Milliseconds(300);
    o.connect_timeout = absl::Milliseconds(500);
    return o;
  };
  PeerTransport& v0 = StartTransport(0, fast_keepalive(Options(0)));
  PeerTransportOptions o1 = fast_keepalive(Options(1));
  o1.listen_address = Loopback(v1_port);
  StartTransport(1, std::move(o1));
  v0.Send(1, Tagged("before"));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->Has(0, "before"); }));

  // The link goes silent: keepalive notices, the stream is dropped, and
  // redials time out instead of hanging.
  proxy.set_blackhole(true);
  ASSERT_TRUE(WaitFor([&] { return !v0.stats().peers[1].outbound_connected; }, absl::Seconds(5)));
  uint64_t failures = v0.stats().outbound_failures;
  ASSERT_TRUE(WaitFor([&] { return v0.stats().outbound_failures > failures; }, absl::Seconds(5)));
  v0.Send(1, Tagged("during"));  // waits in the queue

  proxy.set_blackhole(false);
  v0.Send(1, Tagged("after"));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->Has(0, "after"); }, absl::Seconds(10)));
  EXPECT_TRUE(inboxes_[1]->Has(0, "during"));
  EXPECT_GE(v0.stats().peers[1].connects, 2u);
}

TEST_F(PeerTransportTest, FullQueueDropsTheOldest) {
  PeerTransportOptions o = Options(0);
  o.max_queued_messages = 5;
  PeerTransport& v0 = StartTransport(0, std::move(o));
  for (int n = 0; n < 20; ++n) v0.Send(1, Tagged("m" + std::to_string(n)));
  PeerTransportStats s = v0.stats();
  EXPECT_EQ(s.dropped_queue_full, 15u);
  EXPECT_EQ(s.peers[1].queued, 5u);
  StartTransport(1);
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->size() >= 5; }));
  absl::SleepFor(absl::Milliseconds(100));
  std::vector<std::pair<uint32_t, std::string>> got = inboxes_[1]->got();
  std::vector<std::pair<uint32_t, std::string>> want;
  for (int n = 15; n < 20; ++n) want.emplace_back(0, "m" + std::to_string(n));
  EXPECT_EQ(got, want);
}

TEST_F(PeerTransportTest, StopIsPromptWhenPeersAreDownOrHung) {
  // v1 accepts TCP connections but never answers (like a SIGSTOPped node);
  // v2 and v3 are not running.
  int hung = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string v1_address = genesis_proto_.validators(1).address();
  addr.sin_port = htons(std::stoi(v1_address.substr(v1_address.rfind(':') + 1)));
  int one = 1;
  setsockopt(hung, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ASSERT_EQ(bind(hung, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(hung, 16), 0);

  PeerTransport& v0 = StartTransport(0);
  v0.Broadcast(Tagged("nobody-hears"));
  absl::SleepFor(absl::Milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  v0.Stop();
  v0.Stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  close(hung);
}

TEST_F(PeerTransportTest, Ed25519ValidatorKeysWork) {
  Build(Algorithm::kEd25519);
  StartTransport(0);
  StartTransport(1);
  transports_[0]->Send(1, Tagged("ed"));
  transports_[1]->Send(0, Tagged("ed"));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->Has(0, "ed") && inboxes_[0]->Has(1, "ed"); }));
}

TEST_F(PeerTransportTest, CreateChecksItsOwnIdentity) {
  PeerTransportOptions o = Options(0);
  o.validator_id = "nobody";
  EXPECT_THAT(PeerTransport::Create(o, inboxes_[0]->handler()).status().message(),
              HasSubstr("not a validator"));
  o = Options(0);
  o.cert_pem = Issue(keys_[1], "v0").cert_pem;  // v1's key
  EXPECT_THAT(PeerTransport::Create(o, inboxes_[0]->handler()).status().message(),
              HasSubstr("not for the genesis key"));
  o = Options(0);
  o.key_pem = keys_[1].ToPem();
  EXPECT_THAT(PeerTransport::Create(o, inboxes_[0]->handler()).status().message(),
              HasSubstr("does not belong"));
  o = Options(0);
  EXPECT_FALSE(PeerTransport::Create(o, nullptr).ok());
  // Start on a port someone else holds fails cleanly.
  PeerTransport& v0 = StartTransport(0);
  o = Options(0);
  o.listen_address = Loopback(v0.listening_port());
  auto second = PeerTransport::Create(o, inboxes_[0]->handler());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->Start().code(), absl::StatusCode::kUnavailable);
  // Once the port is free again, Start may be retried.
  v0.Stop();
  EXPECT_TRUE((*second)->Start().ok());
  EXPECT_EQ((*second)->Start().code(), absl::StatusCode::kFailedPrecondition);
  (*second)->Stop();
  EXPECT_EQ((*second)->Start().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cdl::net
