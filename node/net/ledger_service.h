// The cdl.v1.Ledger gRPC service over a Node (callback API: no gRPC thread
// waits for verification or for a commit). Library errors (absl::Status) map
// to the gRPC code of the same name with the message unchanged.
//
// Watch streams blocks as the node's WatchHub publishes them (see
// proto/service.proto for its contract): each stream subscribes first, then
// reads the blocks from `from_height` up to the head from storage, then
// takes the blocks the hub buffered for it, skipping heights it already sent.
// While it still reads history, a full buffer only means "read on from
// storage" (the stream re-subscribes); once it has caught up, a full buffer
// means the client reads more slowly than blocks commit and the stream ends
// with RESOURCE_EXHAUSTED naming the height to resume from. Memory per
// stream is thus bounded by WatchHubOptions, whatever the client does.
#ifndef CDL_NODE_NET_LEDGER_SERVICE_H_
#define CDL_NODE_NET_LEDGER_SERVICE_H_

#include "node/net/node.h"
#include "node/net/rate_limiter.h"
#include "service.grpc.pb.h"

namespace cdl::net {

inline constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

class LedgerService final : public cdl::v1::Ledger::CallbackService {
 public:
  // `submit_limiter` (may be null: no limit) is asked once per Submit with
  // the client's address; an empty bucket answers RESOURCE_EXHAUSTED.
  explicit LedgerService(Node* node, RateLimiter* submit_limiter = nullptr)
      : node_(node), submit_limiter_(submit_limiter) {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx, const cdl::v1::SubmitRequest* req,
                                   cdl::v1::SubmitResponse* resp) override;
  grpc::ServerUnaryReactor* GetRecord(grpc::CallbackServerContext* ctx, const cdl::v1::GetRecordRequest* req,
                                      cdl::v1::GetRecordResponse* resp) override;
  grpc::ServerUnaryReactor* GetReceipt(grpc::CallbackServerContext* ctx, const cdl::v1::GetReceiptRequest* req,
                                       cdl::v1::GetReceiptResponse* resp) override;
  grpc::ServerUnaryReactor* GetBlock(grpc::CallbackServerContext* ctx, const cdl::v1::GetBlockRequest* req,
                                     cdl::v1::GetBlockResponse* resp) override;
  grpc::ServerUnaryReactor* GetCheckpoint(grpc::CallbackServerContext* ctx,
                                          const cdl::v1::GetCheckpointRequest* req,
                                          cdl::v1::GetCheckpointResponse* resp) override;
  grpc::ServerUnaryReactor* GetInclusionProof(grpc::CallbackServerContext* ctx,
                                              const cdl::v1::GetInclusionProofRequest* req,
                                              cdl::v1::GetInclusionProofResponse* resp) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(grpc::CallbackServerContext* ctx,
                                                const cdl::v1::GetConsistencyProofRequest* req,
                                                cdl::v1::GetConsistencyProofResponse* resp) override;
  grpc::ServerUnaryReactor* GetStateProof(grpc::CallbackServerContext* ctx,
                                          const cdl::v1::GetStateProofRequest* req,
                                          cdl::v1::GetStateProofResponse* resp) override;
  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* ctx, const cdl::v1::QueryRequest* req,
                                  cdl::v1::QueryResponse* resp) override;
  grpc::ServerUnaryReactor* GetMember(grpc::CallbackServerContext* ctx, const cdl::v1::GetMemberRequest* req,
                                      cdl::v1::GetMemberResponse* resp) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx, const cdl::v1::StatusRequest* req,
                                   cdl::v1::StatusResponse* resp) override;
  grpc::ServerWriteReactor<cdl::v1::WatchResponse>* Watch(grpc::CallbackServerContext* ctx,
                                                          const cdl::v1::WatchRequest* req) override;

 private:
  Node* node_;
  RateLimiter* submit_limiter_;
};

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace cdl::net

#endif  // CDL_NODE_NET_LEDGER_SERVICE_H_
