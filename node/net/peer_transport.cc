#include "node/net/peer_transport.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <random>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "crypto/str_cat.h"
#include "crypto/x509.h"
#include "peer.grpc.pb.h"

namespace cdl::net {
namespace {

using cdl::peer::v1::PeerMessage;
using MessagePtr = std::shared_ptr<const PeerMessage>;
using ClientStream = grpc::ClientReaderWriter<PeerMessage, PeerMessage>;
using ServerStream = grpc::ServerReaderWriter<PeerMessage, PeerMessage>;

constexpr absl::Duration kPollSlice = absl::Milliseconds(100);

int DurationMs(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

gpr_timespec Deadline(absl::Time t) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(absl::ToInt64Milliseconds(
                                               std::max(t - absl::Now(), absl::ZeroDuration())),
                                           GPR_TIMESPAN));
}

// The peer's leaf certificate from a gRPC auth context, if any.
std::string PeerCertificatePem(const grpc::AuthContext* auth) {
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> values = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

}  // namespace

class PeerTransport::Impl final : public cdl::peer::v1::Peer::Service {
 public:
  Impl(PeerTransportOptions options, Handler handler, uint32_t self)
      : options_(std::move(options)), handler_(std::move(handler)), self_(self) {
    const auto& genesis = options_.genesis;
    links_.reserve(genesis.validator_count());
    for (uint32_t i = 0; i < genesis.validator_count(); ++i) {
      key_index_[genesis.validator_key(static_cast<int>(i)).der()] = i;
      auto link = std::make_unique<Link>();
      link->index = i;
      link->id = genesis.proto().validators(static_cast<int>(i)).id();
      link->address = genesis.proto().validators(static_cast<int>(i)).address();
      if (auto it = options_.peer_addresses.find(link->id); it != options_.peer_addresses.end()) {
        link->address = it->second;
      }
      links_.push_back(std::move(link));
    }
    hello_.mutable_hello()->set_chain_id(genesis.chain_id());
    hello_.mutable_hello()->set_validator_id(options_.validator_id);
  }

  ~Impl() override { Stop(); }

  absl::Status Start();
  void Stop();
  void Enqueue(uint32_t to, MessagePtr msg, size_t bytes);
  void Send(uint32_t to, const PeerMessage& msg);
  void Broadcast(const PeerMessage& msg);
  PeerTransportStats Stats() const;
  uint32_t self() const { return self_; }
  int port() const { return port_.load(); }

  // cdl.peer.v1.Peer, on gRPC server threads.
  grpc::Status Connect(grpc::ServerContext* context, ServerStream* stream) override;

 private:
  // Everything about one other validator. The dialer thread owns the
  // outbound stream; `mu` guards the rest.
  struct Link {
    uint32_t index = 0;
    std::string id;
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<cdl::peer::v1::Peer::Stub> stub;
    std::thread dialer;

    mutable absl::Mutex mu;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    std::deque<std::pair<MessagePtr, size_t>> queue ABSL_GUARDED_BY(mu);
    size_t queued_bytes ABSL_GUARDED_BY(mu) = 0;
    // The current outbound attempt.
    grpc::ClientContext* outbound_ctx ABSL_GUARDED_BY(mu) = nullptr;
    bool outbound_established ABSL_GUARDED_BY(mu) = false;
    bool outbound_broken ABSL_GUARDED_BY(mu) = false;
    bool outbound_ended ABSL_GUARDED_BY(mu) = false;  // gRPC ended the call
    // The current inbound stream; a newer one from the same validator
    // replaces (cancels) it.
    grpc::ServerContext* inbound_ctx ABSL_GUARDED_BY(mu) = nullptr;
    uint64_t inbound_generation ABSL_GUARDED_BY(mu) = 0;
    bool inbound_established ABSL_GUARDED_BY(mu) = false;
    uint64_t sent ABSL_GUARDED_BY(mu) = 0;
    uint64_t dropped ABSL_GUARDED_BY(mu) = 0;
    uint64_t connects ABSL_GUARDED_BY(mu) = 0;
    std::atomic<uint64_t> received{0};
  };

  void DialLoop(Link& link);
  // One outbound stream from dial to end. True if it was established.
  bool RunStream(Link& link);
  void ReadOutbound(Link& link, ClientStream* stream, grpc::ClientContext* ctx);
  bool WaitForReady(Link& link, absl::Time deadline);
  // `ended`: the call is over (a read failed), so it needs no cancelling and
  // Finish reports why.
  void MarkBroken(Link& link, bool ended);
  // Index of the genesis validator holding the key in `cert_pem`, or an error
  // message.
  absl::StatusOr<uint32_t> CertificateOwner(const std::string& cert_pem) const;
  absl::Status CheckHello(const PeerMessage& msg, const Link& from) const;
  void Deliver(Link& from, PeerMessage msg);

  const PeerTransportOptions options_;
  const Handler handler_;
  const uint32_t self_;
  PeerMessage hello_;
  absl::flat_hash_map<std::string, uint32_t> key_index_;  // SPKI DER -> index
  std::vector<std::unique_ptr<Link>> links_;              // by index; fixed

  absl::Mutex lifecycle_mu_;
  bool started_ ABSL_GUARDED_BY(lifecycle_mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(lifecycle_mu_) = false;
  std::unique_ptr<grpc::Server> server_;  // set in Start, reset in Stop
  std::atomic<int> port_{0};

  std::atomic<uint64_t> rejected_oversized_{0};
  std::atomic<uint64_t> rejected_malformed_{0};
  std::atomic<uint64_t> refused_no_certificate_{0};
  std::atomic<uint64_t> refused_not_genesis_{0};
  std::atomic<uint64_t> refused_bad_hello_{0};
  std::atomic<uint64_t> refused_wrong_server_{0};
  std::atomic<uint64_t> inbound_stream_errors_{0};
  std::atomic<uint64_t> outbound_failures_{0};
};

absl::Status PeerTransport::Impl::Start() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (started_ || stopped_) {
    return absl::FailedPreconditionError("peer transport: Start called twice or after Stop");
  }
  const int max_message = static_cast<int>(options_.max_message_bytes);
  const std::string listen =
      options_.listen_address.empty() ? links_[self_]->address : options_.listen_address;

  grpc::SslServerCredentialsOptions server_tls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  server_tls.pem_root_certs = options_.ca_pem;
  server_tls.pem_key_cert_pairs.push_back({options_.key_pem, options_.cert_pem});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::SslServerCredentials(server_tls), &port);
  builder.RegisterService(this);
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  // Two validators must never share a port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, DurationMs(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, DurationMs(options_.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Accept the peers' keepalive pings (the default minimum is 5 minutes).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             DurationMs(options_.keepalive_time / 2));
  // Each inbound stream holds one server thread; only genesis validators get
  // past the certificate check and each keeps at most one stream.
  grpc::ResourceQuota quota("cdl-peer-server");
  quota.SetMaxThreads(static_cast<int>(2 * links_.size() + 16));
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    server_.reset();
    return absl::UnavailableError(cdl::StrCat("peer transport: cannot listen on ", listen,
                                              " (address in use or not local?)"));
  }
  port_ = port;

  grpc::SslCredentialsOptions client_tls;
  client_tls.pem_root_certs = options_.ca_pem;
  client_tls.pem_private_key = options_.key_pem;
  client_tls.pem_cert_chain = options_.cert_pem;
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(client_tls);
  for (auto& link : links_) {
    if (link->index == self_) continue;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(max_message);
    args.SetMaxSendMessageSize(max_message);
    if (!options_.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options_.tls_server_name);
    }
    // Each transport keeps its own connections, even several in one process.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, DurationMs(options_.initial_backoff));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, DurationMs(options_.max_backoff));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, DurationMs(options_.connect_timeout));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, DurationMs(options_.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, DurationMs(options_.keepalive_timeout));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    link->channel = grpc::CreateCustomChannel(link->address, creds, args);
    link->stub = cdl::peer::v1::Peer::NewStub(link->channel);
  }
  for (auto& link : links_) {
    if (link->index == self_) continue;
    Link* l = link.get();
    link->dialer = std::thread([this, l] { DialLoop(*l); });
  }
  started_ = true;
  spdlog::info("peer transport: validator {} listening on {} (port {}), dialing {} peers",
               options_.validator_id, listen, port, links_.size() - 1);
  return absl::OkStatus();
}

void PeerTransport::Impl::Stop() {
  {
    absl::MutexLock lock(&lifecycle_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& link : links_) {
    absl::MutexLock lock(&link->mu);
    link->stopping = true;
    if (link->outbound_ctx != nullptr) link->outbound_ctx->TryCancel();
    if (link->inbound_ctx != nullptr) link->inbound_ctx->TryCancel();
    link->queue.clear();
    link->queued_bytes = 0;
  }
  if (server_ != nullptr) {
    // Inbound streams are cancelled above; the deadline covers a handler that
    // had not registered yet.
    server_->Shutdown(Deadline(absl::Now() + absl::Milliseconds(200)));
    server_->Wait();
  }
  for (auto& link : links_) {
    if (link->dialer.joinable()) link->dialer.join();
  }
  server_.reset();
}

void PeerTransport::Impl::Enqueue(uint32_t to, MessagePtr msg, size_t bytes) {
  Link& link = *links_[to];
  absl::MutexLock lock(&link.mu);
  if (link.stopping) return;
  link.queue.emplace_back(std::move(msg), bytes);
  link.queued_bytes += bytes;
  while (link.queue.size() > options_.max_queued_messages ||
         link.queued_bytes > options_.max_queued_bytes) {
    link.queued_bytes -= link.queue.front().second;
    link.queue.pop_front();
    ++link.dropped;
  }
}

void PeerTransport::Impl::Send(uint32_t to, const PeerMessage& msg) {
  if (to >= links_.size() || to == self_) {
    spdlog::error("peer transport: Send to validator index {} ignored (this is {} of {})", to,
                  self_, links_.size());
    return;
  }
  size_t bytes = msg.ByteSizeLong();
  if (bytes > options_.max_message_bytes) {
    ++rejected_oversized_;
    spdlog::warn("peer transport: not sending a {}-byte message to {} (limit {} bytes)", bytes,
                 links_[to]->id, options_.max_message_bytes);
    return;
  }
  Enqueue(to, std::make_shared<const PeerMessage>(msg), bytes);
}

void PeerTransport::Impl::Broadcast(const PeerMessage& msg) {
  size_t bytes = msg.ByteSizeLong();
  if (bytes > options_.max_message_bytes) {
    ++rejected_oversized_;
    spdlog::warn("peer transport: not broadcasting a {}-byte message (limit {} bytes)", bytes,
                 options_.max_message_bytes);
    return;
  }
  auto shared = std::make_shared<const PeerMessage>(msg);
  for (uint32_t i = 0; i < links_.size(); ++i) {
    if (i != self_) Enqueue(i, shared, bytes);
  }
}

PeerTransportStats PeerTransport::Impl::Stats() const {
  PeerTransportStats s;
  s.rejected_oversized = rejected_oversized_;
  s.rejected_malformed = rejected_malformed_;
  s.refused_no_certificate = refused_no_certificate_;
  s.refused_not_genesis = refused_not_genesis_;
  s.refused_bad_hello = refused_bad_hello_;
  s.refused_wrong_server = refused_wrong_server_;
  s.inbound_stream_errors = inbound_stream_errors_;
  s.outbound_failures = outbound_failures_;
  for (const auto& link : links_) {
    PeerLinkStats p;
    p.validator_id = link->id;
    if (link->index != self_) {
      absl::MutexLock lock(&link->mu);
      p.outbound_connected = link->outbound_established;
      p.inbound_connected = link->inbound_established;
      p.queued = link->queue.size();
      p.sent = link->sent;
      p.received = link->received;
      p.dropped = link->dropped;
      p.connects = link->connects;
    }
    s.connected_peers += p.outbound_connected ? 1 : 0;
    s.messages_sent += p.sent;
    s.messages_received += p.received;
    s.dropped_queue_full += p.dropped;
    s.peers.push_back(std::move(p));
  }
  return s;
}

absl::StatusOr<uint32_t> PeerTransport::Impl::CertificateOwner(const std::string& cert_pem) const {
  if (cert_pem.empty()) return absl::UnauthenticatedError("the peer presented no certificate");
  absl::StatusOr<std::string> spki = cdl::crypto::CertificatePublicKeyDer(cert_pem);
  if (!spki.ok()) {
    return absl::UnauthenticatedError(
        cdl::StrCat("the peer certificate cannot be read: ", spki.status().message()));
  }
  auto it = key_index_.find(*spki);
  if (it == key_index_.end()) {
    absl::StatusOr<std::string> cn = cdl::crypto::CertificateCommonName(cert_pem);
    return absl::PermissionDeniedError(
        cdl::StrCat("the peer certificate (CN \"", cn.value_or("?"),
                    "\") is CA-valid but its key is not the key of any genesis validator"));
  }
  return it->second;
}

absl::Status PeerTransport::Impl::CheckHello(const PeerMessage& msg, const Link& from) const {
  if (!msg.has_hello()) return absl::InvalidArgumentError("the first message must be Hello");
  if (msg.hello().chain_id() != options_.genesis.chain_id()) {
    return absl::InvalidArgumentError(cdl::StrCat("Hello is for chain \"", msg.hello().chain_id(),
                                                  "\", this is chain \"",
                                                  options_.genesis.chain_id(), "\""));
  }
  if (msg.hello().validator_id() != from.id) {
    return absl::InvalidArgumentError(
        cdl::StrCat("Hello names validator \"", msg.hello().validator_id(),
                    "\" but the certificate holds the key of \"", from.id, "\""));
  }
  return absl::OkStatus();
}

void PeerTransport::Impl::Deliver(Link& from, PeerMessage msg) {
  if (msg.kind_case() == PeerMessage::KIND_NOT_SET || msg.has_hello()) {
    ++rejected_malformed_;
    return;
  }
  ++from.received;
  handler_(from.index, std::move(msg));
}

grpc::Status PeerTransport::Impl::Connect(grpc::ServerContext* context, ServerStream* stream) {
  std::string peer = context->peer();
  absl::StatusOr<uint32_t> owner =
      CertificateOwner(PeerCertificatePem(context->auth_context().get()));
  if (owner.ok() && *owner == self_) {
    owner = absl::PermissionDeniedError("the peer presented this validator's own certificate");
  }
  if (!owner.ok()) {
    if (owner.status().code() == absl::StatusCode::kPermissionDenied) {
      ++refused_not_genesis_;
    } else {
      ++refused_no_certificate_;
    }
    spdlog::warn("peer transport: refused stream from {}: {}", peer,
                 std::string(owner.status().message()));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(owner.status().message()));
  }
  Link& link = *links_[*owner];

  uint64_t generation;
  {
    absl::MutexLock lock(&link.mu);
    if (link.stopping) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    if (link.inbound_ctx != nullptr) link.inbound_ctx->TryCancel();  // superseded
    link.inbound_ctx = context;
    link.inbound_established = false;
    generation = ++link.inbound_generation;
  }

  grpc::Status result = grpc::Status::OK;
  PeerMessage msg;
  if (!stream->Read(&msg)) {
    result = grpc::Status(grpc::StatusCode::CANCELLED, "stream ended before Hello");
  } else if (absl::Status hello = CheckHello(msg, link); !hello.ok()) {
    ++refused_bad_hello_;
    spdlog::warn("peer transport: refused stream from {} ({}): {}", link.id, peer,
                 std::string(hello.message()));
    result = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(hello.message()));
  } else if (stream->Write(hello_)) {
    {
      absl::MutexLock lock(&link.mu);
      if (link.inbound_generation == generation) link.inbound_established = true;
    }
    spdlog::debug("peer transport: inbound stream from {} ({})", link.id, peer);
    while (true) {
      msg.Clear();
      if (!stream->Read(&msg)) break;
      Deliver(link, std::move(msg));
    }
  }
  bool was_current;
  bool stopping;
  {
    absl::MutexLock lock(&link.mu);
    was_current = link.inbound_generation == generation;
    if (was_current) {
      link.inbound_ctx = nullptr;
      link.inbound_established = false;
    }
    stopping = link.stopping;
  }
  // Our peers never half-close, so any other end is abnormal: the peer went
  // away, the network failed, or gRPC rejected a message (oversized or
  // unparseable). The sync API cannot tell these apart here. A stream
  // cancelled by Stop or replaced by a newer one is not counted.
  if (result.ok() && was_current && !stopping) {
    ++inbound_stream_errors_;
    spdlog::info("peer transport: inbound stream from {} ({}) ended", link.id, peer);
  }
  return result;
}

void PeerTransport::Impl::DialLoop(Link& link) {
  std::mt19937_64 rng(options_.random_seed != 0 ? options_.random_seed + link.index
                                                : std::random_device{}());
  std::uniform_real_distribution<double> jitter(-options_.backoff_jitter, options_.backoff_jitter);
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    bool established = RunStream(link);
    {
      absl::MutexLock lock(&link.mu);
      if (link.stopping) return;
    }
    absl::Duration wait;
    if (established) {
      backoff = options_.initial_backoff;
      wait = backoff;
    } else {
      ++outbound_failures_;
      wait = backoff;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    wait = wait * (1.0 + jitter(rng));
    absl::MutexLock lock(&link.mu);
    auto stopping = [&link]() { return link.stopping; };
    link.mu.AwaitWithTimeout(absl::Condition(&stopping), wait);
    if (link.stopping) return;
  }
}

bool PeerTransport::Impl::WaitForReady(Link& link, absl::Time deadline) {
  while (true) {
    grpc_connectivity_state state = link.channel->GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return true;
    {
      absl::MutexLock lock(&link.mu);
      if (link.stopping) return false;
    }
    absl::Time now = absl::Now();
    if (now >= deadline) return false;
    link.channel->WaitForStateChange(state, Deadline(std::min(now + kPollSlice, deadline)));
  }
}

void PeerTransport::Impl::MarkBroken(Link& link, bool ended) {
  absl::MutexLock lock(&link.mu);
  link.outbound_broken = true;
  link.outbound_ended = link.outbound_ended || ended;
}

bool PeerTransport::Impl::RunStream(Link& link) {
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  if (!WaitForReady(link, deadline)) return false;

  grpc::ClientContext ctx;
  {
    absl::MutexLock lock(&link.mu);
    if (link.stopping) return false;
    link.outbound_ctx = &ctx;
    link.outbound_established = false;
    link.outbound_broken = false;
    link.outbound_ended = false;
  }
  std::unique_ptr<ClientStream> stream = link.stub->Connect(&ctx);
  std::thread reader([&] { ReadOutbound(link, stream.get(), &ctx); });
  if (!stream->Write(hello_)) MarkBroken(link, false);

  bool established;
  {
    absl::MutexLock lock(&link.mu);
    auto settled = [&link]() {
      return link.outbound_established || link.outbound_broken || link.stopping;
    };
    link.mu.AwaitWithDeadline(absl::Condition(&settled), deadline);
    established = link.outbound_established && !link.outbound_broken && !link.stopping;
  }
  if (established) {
    spdlog::info("peer transport: connected to {} at {}", link.id, link.address);
    while (true) {
      MessagePtr msg;
      grpc::WriteOptions write_options;
      {
        absl::MutexLock lock(&link.mu);
        auto ready = [&link]() {
          return !link.queue.empty() || link.outbound_broken || link.stopping;
        };
        link.mu.Await(absl::Condition(&ready));
        if (link.outbound_broken || link.stopping) break;
        msg = link.queue.front().first;
        // More to come: let gRPC coalesce; the last write of a burst flushes.
        if (link.queue.size() > 1) write_options.set_buffer_hint();
      }
      if (!stream->Write(*msg, write_options)) break;  // stays queued for the next stream
      absl::MutexLock lock(&link.mu);
      // Stop or overflow may have removed it meanwhile.
      if (!link.queue.empty() && link.queue.front().first == msg) {
        link.queued_bytes -= link.queue.front().second;
        link.queue.pop_front();
      }
      ++link.sent;
    }
  }
  bool ended;
  {
    absl::MutexLock lock(&link.mu);
    ended = link.outbound_ended;
  }
  if (!ended) ctx.TryCancel();  // unblocks the reader
  reader.join();
  grpc::Status status = stream->Finish();
  {
    absl::MutexLock lock(&link.mu);
    link.outbound_ctx = nullptr;
    link.outbound_established = false;
    if (link.stopping) return established;
  }
  if (established) {
    spdlog::info("peer transport: stream to {} ended: {}", link.id, status.error_message());
  } else if (status.error_code() != grpc::StatusCode::CANCELLED) {
    spdlog::debug("peer transport: cannot connect to {} at {}: {}", link.id, link.address,
                  status.error_message());
  }
  return established;
}

void PeerTransport::Impl::ReadOutbound(Link& link, ClientStream* stream, grpc::ClientContext* ctx) {
  // Initial metadata arrives with the server's Hello (or with its refusal);
  // by then the TLS session, and so the server's certificate, is known.
  stream->WaitForInitialMetadata();
  std::string cert = PeerCertificatePem(ctx->auth_context().get());
  if (cert.empty()) {  // never connected; the call has failed
    PeerMessage ignored;
    MarkBroken(link, !stream->Read(&ignored));
    return;
  }
  absl::StatusOr<uint32_t> owner = CertificateOwner(cert);
  if (!owner.ok() || *owner != link.index) {
    ++refused_wrong_server_;
    spdlog::warn("peer transport: the server at {} is not validator {}: {}", link.address, link.id,
                 owner.ok() ? cdl::StrCat("it holds the key of ", links_[*owner]->id)
                            : std::string(owner.status().message()));
    MarkBroken(link, false);
    return;
  }
  PeerMessage msg;
  if (!stream->Read(&msg)) {
    MarkBroken(link, true);
    return;
  }
  if (absl::Status hello = CheckHello(msg, link); !hello.ok()) {
    ++refused_bad_hello_;
    spdlog::warn("peer transport: dropped stream to {}: {}", link.id, std::string(hello.message()));
    MarkBroken(link, false);
    return;
  }
  {
    absl::MutexLock lock(&link.mu);
    link.outbound_established = true;
    ++link.connects;
  }
  while (true) {
    msg.Clear();
    if (!stream->Read(&msg)) break;
    Deliver(link, std::move(msg));
  }
  MarkBroken(link, true);
}

// --- PeerTransport ---

absl::StatusOr<std::unique_ptr<PeerTransport>> PeerTransport::Create(PeerTransportOptions options,
                                                                     Handler handler) {
  if (!handler) return absl::InvalidArgumentError("peer transport: a Handler is required");
  const auto& genesis = options.genesis;
  int self = genesis.ValidatorIndex(options.validator_id);
  if (self < 0) {
    return absl::InvalidArgumentError(cdl::StrCat("peer transport: \"", options.validator_id,
                                                  "\" is not a validator of the genesis"));
  }
  for (int i = 0; i < static_cast<int>(genesis.validator_count()); ++i) {
    if (genesis.proto().validators(i).address().empty()) {
      return absl::InvalidArgumentError(cdl::StrCat("peer transport: genesis validator \"",
                                                    genesis.proto().validators(i).id(),
                                                    "\" has no address"));
    }
  }
  for (const auto& [id, address] : options.peer_addresses) {
    if (genesis.ValidatorIndex(id) < 0) {
      return absl::InvalidArgumentError(
          cdl::StrCat("peer transport: peer address override for \"", id, "\", which is not a genesis validator"));
    }
    if (address.empty()) {
      return absl::InvalidArgumentError(cdl::StrCat("peer transport: empty peer address for \"", id, "\""));
    }
  }
  if (options.max_message_bytes == 0 || options.max_message_bytes > INT32_MAX ||
      options.max_queued_messages == 0 || options.max_queued_bytes < options.max_message_bytes) {
    return absl::InvalidArgumentError(
        "peer transport: max_message_bytes must be 1..2^31-1, max_queued_messages at least 1 and "
        "max_queued_bytes at least max_message_bytes");
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff || options.backoff_jitter < 0 ||
      options.backoff_jitter >= 1 || options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "peer transport: backoffs and connect_timeout must be positive, max_backoff >= "
        "initial_backoff, 0 <= backoff_jitter < 1");
  }
  // Catch certificate mistakes here with a clear message rather than as a
  // failed TLS handshake on some other node.
  if (absl::Status s = cdl::crypto::VerifyCertificate(options.cert_pem, options.ca_pem); !s.ok()) {
    return absl::InvalidArgumentError(
        cdl::StrCat("peer transport: this node's certificate: ", s.message()));
  }
  absl::StatusOr<std::string> spki = cdl::crypto::CertificatePublicKeyDer(options.cert_pem);
  if (!spki.ok()) return spki.status();
  if (*spki != genesis.validator_key(self).der()) {
    return absl::InvalidArgumentError(cdl::StrCat(
        "peer transport: this node's certificate is not for the genesis key of validator \"",
        options.validator_id, "\""));
  }
  absl::StatusOr<cdl::crypto::PrivateKey> key = cdl::crypto::PrivateKey::FromPem(options.key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        cdl::StrCat("peer transport: private key: ", key.status().message()));
  }
  if (key->public_key().der() != *spki) {
    return absl::InvalidArgumentError(
        "peer transport: the private key does not belong to this node's certificate");
  }
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(handler), static_cast<uint32_t>(self));
  return std::unique_ptr<PeerTransport>(new PeerTransport(std::move(impl)));
}

PeerTransport::PeerTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerTransport::~PeerTransport() { impl_->Stop(); }
absl::Status PeerTransport::Start() { return impl_->Start(); }
void PeerTransport::Stop() { impl_->Stop(); }
void PeerTransport::Send(uint32_t to_index, const PeerMessage& msg) { impl_->Send(to_index, msg); }
void PeerTransport::Broadcast(const PeerMessage& msg) { impl_->Broadcast(msg); }
PeerTransportStats PeerTransport::stats() const { return impl_->Stats(); }
uint32_t PeerTransport::self_index() const { return impl_->self(); }
int PeerTransport::listening_port() const { return impl_->port(); }

}  // namespace cdl::net
