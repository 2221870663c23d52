#include "node/net/ledger_service.h"

#include <map>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "crypto/str_cat.h"
#include "node/verify/record.h"
#include "node/verify/state_entry.h"

namespace cdl::net {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status CheckRecordId(const std::string& id) {
  if (id.size() != 32) return absl::InvalidArgumentError("record_id: must be 32 bytes (64 hex digits)");
  return absl::OkStatus();
}

// One Watch stream. Owns itself from Start until OnDone (self_); the hub's
// wake-up holds only a weak reference. mu_ serialises Pump, which runs on
// gRPC threads (after each write) and on the hub's notifier thread (when a
// block arrives while the stream is idle).
//
// Start runs inside the handler, before gRPC binds the reactor to its call,
// so it only sends the initial metadata; blocks are written from
// OnSendInitialMetadataDone on. A write started before the bind would be
// serialised by gRPC later, on its own thread and outside mu_; starting every
// write under mu_ after the bind keeps response_ in the hands of mu_ alone
// (and lets ThreadSanitizer check that). The client also learns at once that
// the stream is open, even with nothing to send yet.
class WatchReactor final : public grpc::ServerWriteReactor<cdl::v1::WatchResponse>,
                           public std::enable_shared_from_this<WatchReactor> {
 public:
  WatchReactor(Node* node, const cdl::v1::WatchRequest& request) : node_(node), request_(request) {
    filter_.member = request.member();
    filter_.record_type = request.record_type();
    filter_.period = request.period();
    filter_.park = request.park();
  }

  void Start() {
    absl::MutexLock lock(&mu_);
    self_ = shared_from_this();
    if (absl::Status s = SubscribeLocked(); !s.ok()) {
      FinishLocked(s);
      return;
    }
    // Subscribed before reading the head: every block above it reaches the
    // buffer, every block up to it is in storage.
    uint64_t head = node_->ledger().head().height();
    next_ = request_.from_height() == 0 ? head + 1 : request_.from_height();
    StartSendInitialMetadata();  // blocks follow from OnSendInitialMetadataDone
  }

  void OnSendInitialMetadataDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      FinishLocked(absl::CancelledError("the Watch stream broke"));
      return;
    }
    bound_ = true;
    PumpLocked();  // blocks published since Start are buffered in sub_
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(absl::CancelledError("the Watch stream broke"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(absl::CancelledError("the client cancelled the Watch stream"));
  }

  void OnDone() override {
    std::shared_ptr<WatchHub::Subscription> sub;
    std::shared_ptr<WatchReactor> self;
    {
      absl::MutexLock lock(&mu_);
      sub = std::move(sub_);
      self = std::move(self_);
    }
    if (sub != nullptr) sub->Cancel();
    // `self` may be the last reference: nothing below may touch members.
  }

 private:
  void Pump() {
    absl::MutexLock lock(&mu_);
    PumpLocked();
  }

  absl::Status SubscribeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::weak_ptr<WatchReactor> weak = weak_from_this();
    auto sub = node_->watch_hub().Subscribe([weak] {
      if (auto self = weak.lock()) self->Pump();
    });
    if (!sub.ok()) return sub.status();
    sub_ = *std::move(sub);
    return absl::OkStatus();
  }

  // Starts the write of block next_ if the stream is idle and the block is
  // known (buffered or in storage).
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || !bound_ || sub_ == nullptr) return;
    if (sub_->closed()) {
      FinishLocked(absl::UnavailableError(cdl::StrCat(
          "the node is shutting down; call Watch again (here once it is back, or on another node) with "
          "from_height=", next_, " to resume without gaps")));
      return;
    }
    if (sub_->overflowed()) {
      pending_.reset();
      // Also while a write is stuck: a client that stopped reading never
      // completes it, and must not hold its place among the watchers.
      if (live_) {
        FinishLocked(absl::ResourceExhaustedError(cdl::StrCat(
            "this Watch stream fell more than ", node_->watch_hub().options().max_buffered_blocks,
            " blocks behind the ledger (the client reads too slowly); call Watch again with from_height=", next_,
            " to resume without gaps")));
        return;
      }
      if (writing_) return;  // OnWriteDone pumps again
      // Still reading history: storage holds every block the buffer dropped.
      sub_->Cancel();
      sub_.reset();
      if (absl::Status s = SubscribeLocked(); !s.ok()) {
        FinishLocked(s);
        return;
      }
    }
    if (writing_) return;
    while (!pending_.has_value()) {
      std::optional<WatchHub::Item> item = sub_->Pop();
      if (!item.has_value()) break;
      if (item->height >= next_) pending_ = std::move(item);  // lower ones were sent from storage
    }
    std::shared_ptr<const cdl::v1::Block> block;
    if (pending_.has_value() && pending_->height == next_) {
      block = std::move(pending_->block);
      pending_.reset();
      live_ = true;
    } else if (next_ <= node_->ledger().head().height()) {
      auto stored = node_->ledger().GetBlock(next_);
      if (!stored.ok()) {
        FinishLocked(stored.status());
        return;
      }
      block = std::make_shared<const cdl::v1::Block>(std::move(stored->first));
    } else {
      live_ = true;  // caught up: wait for the hub
      return;
    }
    response_.Clear();
    if (absl::Status s = FillResponse(*block); !s.ok()) {
      FinishLocked(s);
      return;
    }
    ++next_;
    writing_ = true;
    StartWrite(&response_);
  }

  absl::Status FillResponse(const cdl::v1::Block& block) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    cdl::v1::BlockHeader header;
    if (!header.ParseFromString(block.header())) return absl::DataLossError("corrupt block header in the store");
    response_.set_height(header.height());
    response_.set_block_time_ms(header.time_ms());
    for (int i = 0; i < block.records_size() && i < block.receipts_size(); ++i) {
      const cdl::v1::Receipt& receipt = block.receipts(i);
      cdl::v1::SignedRecord signed_record;
      cdl::v1::RecordBody body;
      if (!signed_record.ParseFromString(block.records(i)) || !body.ParseFromString(signed_record.body())) {
        return absl::DataLossError(cdl::StrCat("corrupt record ", i, " in block ", header.height()));
      }
      std::string type = cdl::verify::PayloadName(body);
      auto matches = Matches(receipt, body, type);
      if (!matches.ok()) return matches.status();
      if (!*matches) continue;
      cdl::v1::WatchedRecord* out = response_.add_records();
      out->set_index(static_cast<uint32_t>(i));
      out->set_record_id(receipt.record_id());
      out->set_record_type(type);
      out->set_author(body.author());
      out->set_signed_record(block.records(i));
      *out->mutable_receipt() = receipt;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Matches(const cdl::v1::Receipt& receipt, const cdl::v1::RecordBody& body,
                               const std::string& type) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string subject;
    if (receipt.status() == cdl::v1::RECORD_ACCEPTED) {
      auto state = node_->ledger().GetRecordState(receipt.record_id());
      if (!state.ok()) return state.status();
      if (!cdl::ledger::MatchesState(filter_, *state)) return false;
      subject = state->subject_member();
    } else {
      if (!request_.include_rejected()) return false;
      if (!filter_.park.empty() || !filter_.period.empty()) return false;  // a rejected record has neither
      if (!filter_.record_type.empty() && type != filter_.record_type) return false;
      if (!filter_.member.empty() && body.author() != filter_.member) return false;
    }
    if (request_.jurisdiction().empty()) return true;
    for (const std::string& member : {body.author(), subject}) {
      if (member.empty()) continue;
      auto j = Jurisdiction(member);
      if (!j.ok()) return j.status();
      if (*j == request_.jurisdiction()) return true;
    }
    return false;
  }

  // A member's registered jurisdiction ("" for an unknown member), cached:
  // it never changes once registered.
  absl::StatusOr<std::string> Jurisdiction(const std::string& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (auto it = jurisdictions_.find(member); it != jurisdictions_.end()) return it->second;
    auto state = node_->ledger().GetMember(member);
    std::string j;
    if (state.ok()) {
      j = state->registration().jurisdiction();
    } else if (!absl::IsNotFound(state.status())) {
      return state.status();
    }
    if (jurisdictions_.size() >= 10000) jurisdictions_.clear();
    jurisdictions_[member] = j;
    return j;
  }

  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    pending_.reset();
    if (sub_ != nullptr) {  // frees the watcher's place and buffer now, not at OnDone
      sub_->Cancel();
      sub_.reset();
    }
    Finish(ToGrpcStatus(status));
  }

  Node* const node_;
  const cdl::v1::WatchRequest request_;
  cdl::ledger::QueryFilter filter_;
  absl::Mutex mu_;
  std::shared_ptr<WatchReactor> self_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<WatchHub::Subscription> sub_ ABSL_GUARDED_BY(mu_);
  std::optional<WatchHub::Item> pending_ ABSL_GUARDED_BY(mu_);  // buffered block above next_
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;                       // next height to send
  bool live_ ABSL_GUARDED_BY(mu_) = false;                       // caught up with storage once
  bool bound_ ABSL_GUARDED_BY(mu_) = false;  // the initial metadata went out: writes may start
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  cdl::v1::WatchResponse response_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> jurisdictions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerUnaryReactor* LedgerService::Submit(grpc::CallbackServerContext* ctx, const cdl::v1::SubmitRequest* req,
                                                cdl::v1::SubmitResponse* resp) {
  if (submit_limiter_ != nullptr) {
    std::string client = ClientAddress(ctx->peer());
    if (!submit_limiter_->Allow(client)) {
      return Finish(ctx, absl::ResourceExhaustedError(cdl::StrCat(
                             "Submit rate limit of ", submit_limiter_->options().rate_per_second,
                             " records/s per client exceeded for ", client, " — slow down and retry")));
    }
  }
  auto* reactor = ctx->DefaultReactor();
  absl::Duration wait_for = absl::Milliseconds(req->wait_timeout_ms());
  // Answer before the client's own deadline runs out.
  auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    absl::Duration left = absl::FromChrono(deadline - std::chrono::system_clock::now()) - absl::Milliseconds(200);
    if (left > absl::ZeroDuration() && (wait_for == absl::ZeroDuration() || left < wait_for)) wait_for = left;
  }
  node_->Submit(req->signed_record(), req->wait(), wait_for,
                [reactor, resp](absl::StatusOr<cdl::v1::Receipt> receipt) {
                  if (!receipt.ok()) {
                    reactor->Finish(ToGrpcStatus(receipt.status()));
                    return;
                  }
                  *resp->mutable_receipt() = *std::move(receipt);
                  reactor->Finish(grpc::Status::OK);
                });
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetRecord(grpc::CallbackServerContext* ctx,
                                                   const cdl::v1::GetRecordRequest* req,
                                                   cdl::v1::GetRecordResponse* resp) {
  if (auto s = CheckRecordId(req->record_id()); !s.ok()) return Finish(ctx, s);
  auto record = node_->ledger().GetRecord(req->record_id());
  if (!record.ok()) return Finish(ctx, record.status());
  auto receipt = node_->ledger().GetReceipt(req->record_id());
  if (!receipt.ok()) return Finish(ctx, receipt.status());
  resp->set_signed_record(*std::move(record));
  *resp->mutable_receipt() = *std::move(receipt);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetReceipt(grpc::CallbackServerContext* ctx,
                                                    const cdl::v1::GetReceiptRequest* req,
                                                    cdl::v1::GetReceiptResponse* resp) {
  if (auto s = CheckRecordId(req->record_id()); !s.ok()) return Finish(ctx, s);
  auto receipt = node_->ledger().GetReceipt(req->record_id());
  if (!receipt.ok()) return Finish(ctx, receipt.status());
  *resp->mutable_receipt() = *std::move(receipt);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetBlock(grpc::CallbackServerContext* ctx,
                                                  const cdl::v1::GetBlockRequest* req,
                                                  cdl::v1::GetBlockResponse* resp) {
  auto block = node_->ledger().GetBlock(req->height());
  if (!block.ok()) return Finish(ctx, block.status());
  *resp->mutable_block() = std::move(block->first);
  *resp->mutable_commit() = std::move(block->second);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetCheckpoint(grpc::CallbackServerContext* ctx,
                                                       const cdl::v1::GetCheckpointRequest* req,
                                                       cdl::v1::GetCheckpointResponse* resp) {
  auto cp = node_->ledger().GetCheckpoint(req->height());
  if (!cp.ok()) return Finish(ctx, cp.status());
  *resp->mutable_checkpoint() = *std::move(cp);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetInclusionProof(grpc::CallbackServerContext* ctx,
                                                           const cdl::v1::GetInclusionProofRequest* req,
                                                           cdl::v1::GetInclusionProofResponse* resp) {
  if (auto s = CheckRecordId(req->record_id()); !s.ok()) return Finish(ctx, s);
  auto proof = node_->ledger().GetInclusionProof(req->record_id(), req->tree_size());
  if (!proof.ok()) return Finish(ctx, proof.status());
  *resp->mutable_proof() = std::move(proof->first);
  *resp->mutable_checkpoint() = std::move(proof->second);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetConsistencyProof(grpc::CallbackServerContext* ctx,
                                                             const cdl::v1::GetConsistencyProofRequest* req,
                                                             cdl::v1::GetConsistencyProofResponse* resp) {
  auto proof = node_->ledger().GetConsistencyProof(req->old_size(), req->new_size());
  if (!proof.ok()) return Finish(ctx, proof.status());
  *resp->mutable_proof() = std::move(proof->first);
  *resp->mutable_new_checkpoint() = std::move(proof->second);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetStateProof(grpc::CallbackServerContext* ctx,
                                                       const cdl::v1::GetStateProofRequest* req,
                                                       cdl::v1::GetStateProofResponse* resp) {
  if (req->has_target() == !req->key().empty()) {
    return Finish(ctx, absl::InvalidArgumentError("name the entry by target or by key (exactly one of them)"));
  }
  std::string key = req->key();
  if (req->has_target()) {
    auto derived = cdl::verify::TargetStateKey(req->target());
    if (!derived.ok()) return Finish(ctx, derived.status());
    key = *std::move(derived);
  }
  auto proof = node_->ledger().GetStateProof(key, req->height());
  if (!proof.ok()) return Finish(ctx, proof.status());
  *resp->mutable_proof() = std::move(proof->first);
  *resp->mutable_checkpoint() = std::move(proof->second);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::Query(grpc::CallbackServerContext* ctx, const cdl::v1::QueryRequest* req,
                                               cdl::v1::QueryResponse* resp) {
  cdl::ledger::QueryFilter filter{.member = req->member(),
                                  .record_type = req->record_type(),
                                  .period = req->period(),
                                  .park = req->park(),
                                  .page_size = req->page_size(),
                                  .page_token = req->page_token(),
                                  .standard = req->standard(),
                                  .certificate_status = req->certificate_status(),
                                  .as_of_ms = req->as_of_ms() != 0 ? req->as_of_ms() : absl::ToUnixMillis(absl::Now())};
  auto page = node_->ledger().Query(filter);
  if (!page.ok()) return Finish(ctx, page.status());
  std::map<uint64_t, int64_t> block_times;  // per page: records of a block share its time
  for (auto& e : page->entries) {
    auto* out = resp->add_records();
    out->set_record_id(e.record_id);
    out->set_record_type(e.state.record_type());
    out->set_author(e.state.author());
    out->set_height(e.state.height());
    auto [time, inserted] = block_times.try_emplace(e.state.height(), 0);
    if (inserted) {
      auto block = node_->ledger().GetBlock(e.state.height());
      if (!block.ok()) return Finish(ctx, block.status());
      cdl::v1::BlockHeader header;
      if (!header.ParseFromString(block->first.header())) {
        return Finish(ctx, absl::DataLossError("corrupt block header in the store"));
      }
      time->second = header.time_ms();
    }
    out->set_block_time_ms(time->second);
    auto bytes = node_->ledger().GetRecord(e.record_id);
    if (!bytes.ok()) return Finish(ctx, bytes.status());
    out->set_signed_record(*std::move(bytes));
  }
  resp->set_next_page_token(page->next_page_token);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::GetMember(grpc::CallbackServerContext* ctx,
                                                   const cdl::v1::GetMemberRequest* req,
                                                   cdl::v1::GetMemberResponse* resp) {
  auto member = node_->ledger().GetMember(req->member_id());
  if (!member.ok()) return Finish(ctx, member.status());
  *resp->mutable_member() = *std::move(member);
  resp->set_next_sequence(node_->NextSequence(req->member_id()));
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerService::Status(grpc::CallbackServerContext* ctx, const cdl::v1::StatusRequest*,
                                                cdl::v1::StatusResponse* resp) {
  const auto& ledger = node_->ledger();
  cdl::v1::LedgerHead head = ledger.head();
  resp->set_chain_id(ledger.chain_id());
  resp->set_node_id(node_->validator_id());
  resp->set_height(head.height());
  resp->set_ledger_size(head.ledger_size());
  resp->set_ledger_root(head.ledger_root());
  resp->set_last_block_hash(head.last_hash());
  resp->set_last_block_time_ms(head.last_time_ms());
  resp->set_mempool_size(node_->mempool_size());
  resp->set_version(CDL_VERSION);
  resp->set_validators(static_cast<uint32_t>(ledger.genesis().validator_count()));
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerWriteReactor<cdl::v1::WatchResponse>* LedgerService::Watch(grpc::CallbackServerContext*,
                                                                       const cdl::v1::WatchRequest* req) {
  auto reactor = std::make_shared<WatchReactor>(node_, *req);
  reactor->Start();  // from here on the reactor owns itself until OnDone
  return reactor.get();
}

}  // namespace cdl::net
