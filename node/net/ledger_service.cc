#include "node/net/ledger_service.h"

#include "crypto/str_cat.h"
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
  cdl::ledger::QueryFilter filter{req->member(), req->record_type(), req->period(), req->park(),
                                  req->page_size(), req->page_token()};
  auto page = node_->ledger().Query(filter);
  if (!page.ok()) return Finish(ctx, page.status());
  for (auto& e : page->entries) {
    auto* out = resp->add_records();
    out->set_record_id(e.record_id);
    out->set_record_type(e.state.record_type());
    out->set_author(e.state.author());
    out->set_height(e.state.height());
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

}  // namespace cdl::net
