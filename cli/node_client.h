// A thin client of one node's cdl.v1.Ledger gRPC service.
//
// Every call carries a deadline. Failures come back as statuses whose message
// is one user-facing line naming the node and what to do; transport failures
// (unreachable, timeout, internal errors) carry exit code 3, refusals of the
// request itself (invalid argument, not found, permission denied, ...) exit
// code 1. Not thread-safe; one command uses one client.
#ifndef CDL_CLI_NODE_CLIENT_H_
#define CDL_CLI_NODE_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service.grpc.pb.h"

namespace cdl::cli {

inline constexpr char kDefaultNode[] = "127.0.0.1:7400";
inline constexpr std::chrono::seconds kRpcDeadline{10};

class NodeClient {
 public:
  // Does not connect yet; the first call does.
  explicit NodeClient(std::string address);

  const std::string& address() const { return address_; }

  absl::StatusOr<cdl::v1::StatusResponse> Status();
  absl::StatusOr<cdl::v1::GetMemberResponse> GetMember(absl::string_view id);
  // With `wait`, the deadline is wait_timeout plus the usual deadline.
  absl::StatusOr<cdl::v1::SubmitResponse> Submit(
      std::string signed_record, bool wait,
      std::chrono::milliseconds wait_timeout);
  absl::StatusOr<cdl::v1::GetRecordResponse> GetRecord(absl::string_view id);
  absl::StatusOr<cdl::v1::GetReceiptResponse> GetReceipt(absl::string_view id);
  absl::StatusOr<cdl::v1::GetCheckpointResponse> GetCheckpoint(uint64_t height);
  absl::StatusOr<cdl::v1::GetInclusionProofResponse> GetInclusionProof(
      absl::string_view id, uint64_t tree_size);
  // The status entry under a 32-byte state key at block `height` (0 = latest checkpoint).
  absl::StatusOr<cdl::v1::GetStateProofResponse> GetStateProof(
      absl::string_view key, uint64_t height);
  // A consistency proof between ledger sizes old_size and new_size (0 = the
  // latest checkpoint's), with the checkpoint of new_size.
  absl::StatusOr<cdl::v1::GetConsistencyProofResponse> GetConsistencyProof(
      uint64_t old_size, uint64_t new_size);
  absl::StatusOr<cdl::v1::QueryResponse> Query(
      const cdl::v1::QueryRequest& request);
  // Opens a Watch stream without a deadline (it lasts until `context` is
  // cancelled or the stream ends). `context` must outlive the reader.
  std::unique_ptr<grpc::ClientReader<cdl::v1::WatchResponse>> Watch(
      grpc::ClientContext* context, const cdl::v1::WatchRequest& request);
  // The line a failed RPC `rpc` ends with (as the other calls return it).
  absl::Status Failure(const grpc::Status& status, absl::string_view rpc) const;

 private:
  std::string address_;
  std::unique_ptr<cdl::v1::Ledger::Stub> stub_;
};

// The node address to use: `flag` if set, else $CDL_NODE, else kDefaultNode.
std::string ResolveNodeAddress(absl::string_view flag);

}  // namespace cdl::cli

#endif  // CDL_CLI_NODE_CLIENT_H_
