#include "cli/node_client.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/errors.h"

namespace cdl::cli {
namespace {

// gRPC's connection errors are long; keep the part a user can act on.
std::string ConnectionProblem(const std::string& detail) {
  if (detail.find("Connection refused") != std::string::npos) {
    return "connection refused";
  }
  if (detail.find("DNS resolution failed") != std::string::npos) {
    return "cannot resolve the host name";
  }
  if (detail.find("Connection reset") != std::string::npos) {
    return "connection reset";
  }
  return detail.empty() ? "unavailable" : detail;
}

absl::string_view RefusalHint(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
      return "check the id (list records with 'cdl query')";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "it is already there; look it up with 'cdl get'";
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return "sign as a member that may do this, with its registered key";
    default:
      return "correct what it names and retry";
  }
}

using Clock = std::chrono::system_clock;

// Turns a failed RPC into one actionable line with the right exit code.
absl::Status RpcFailure(const grpc::Status& status, absl::string_view rpc,
                        absl::string_view address,
                        std::chrono::milliseconds deadline) {
  const std::string& why = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return NodeError(
          absl::StatusCode::kUnavailable,
          absl::StrCat("cannot reach node at ", address, ": ",
                       ConnectionProblem(why),
                       " — is cdl-node running? Pass --node HOST:PORT or set "
                       "CDL_NODE"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return NodeError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("node at ", address, " did not answer ", rpc, " within ",
                       deadline.count() / 1000,
                       " s — check that the node is healthy (its log) and "
                       "retry"));
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAUTHENTICATED:
      // The node understood and refused the request: an input problem.
      return WithExitCode(
          absl::Status(
              static_cast<absl::StatusCode>(status.error_code()),
              absl::StrCat(rpc, " refused by node ", address, ": ", why, " — ",
                           RefusalHint(status.error_code()))),
          kExitInvalid);
    default:
      return NodeError(
          static_cast<absl::StatusCode>(status.error_code()),
          absl::StrCat(rpc, " failed at node ", address, " (gRPC code ",
                       static_cast<int>(status.error_code()), "): ", why,
                       " — check the node's log and retry"));
  }
}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Call(cdl::v1::Ledger::Stub* stub, Method method,
                              absl::string_view rpc, absl::string_view address,
                              const Request& request,
                              std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  context.set_deadline(Clock::now() + deadline);
  Response response;
  grpc::Status status = (stub->*method)(&context, request, &response);
  if (!status.ok()) return RpcFailure(status, rpc, address, deadline);
  return response;
}

constexpr std::chrono::milliseconds kDefault = kRpcDeadline;

}  // namespace

NodeClient::NodeClient(std::string address)
    : address_(std::move(address)),
      stub_(cdl::v1::Ledger::NewStub(
          grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()))) {}

absl::StatusOr<cdl::v1::StatusResponse> NodeClient::Status() {
  return Call<cdl::v1::StatusRequest, cdl::v1::StatusResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::Status, "Status", address_,
      cdl::v1::StatusRequest(), kDefault);
}

absl::StatusOr<cdl::v1::GetMemberResponse> NodeClient::GetMember(
    absl::string_view id) {
  cdl::v1::GetMemberRequest request;
  request.set_member_id(std::string(id));
  return Call<cdl::v1::GetMemberRequest, cdl::v1::GetMemberResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetMember, "GetMember", address_,
      request, kDefault);
}

absl::StatusOr<cdl::v1::SubmitResponse> NodeClient::Submit(
    std::string signed_record, bool wait,
    std::chrono::milliseconds wait_timeout) {
  cdl::v1::SubmitRequest request;
  request.set_signed_record(std::move(signed_record));
  request.set_wait(wait);
  if (wait) request.set_wait_timeout_ms(wait_timeout.count());
  return Call<cdl::v1::SubmitRequest, cdl::v1::SubmitResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::Submit, "Submit", address_, request,
      wait ? kDefault + wait_timeout : kDefault);
}

absl::StatusOr<cdl::v1::GetRecordResponse> NodeClient::GetRecord(
    absl::string_view id) {
  cdl::v1::GetRecordRequest request;
  request.set_record_id(std::string(id));
  return Call<cdl::v1::GetRecordRequest, cdl::v1::GetRecordResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetRecord, "GetRecord", address_,
      request, kDefault);
}

absl::StatusOr<cdl::v1::GetReceiptResponse> NodeClient::GetReceipt(
    absl::string_view id) {
  cdl::v1::GetReceiptRequest request;
  request.set_record_id(std::string(id));
  return Call<cdl::v1::GetReceiptRequest, cdl::v1::GetReceiptResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetReceipt, "GetReceipt", address_,
      request, kDefault);
}

absl::StatusOr<cdl::v1::GetCheckpointResponse> NodeClient::GetCheckpoint(
    uint64_t height) {
  cdl::v1::GetCheckpointRequest request;
  request.set_height(height);
  return Call<cdl::v1::GetCheckpointRequest, cdl::v1::GetCheckpointResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetCheckpoint, "GetCheckpoint",
      address_, request, kDefault);
}

absl::StatusOr<cdl::v1::GetInclusionProofResponse>
NodeClient::GetInclusionProof(absl::string_view id, uint64_t tree_size) {
  cdl::v1::GetInclusionProofRequest request;
  request.set_record_id(std::string(id));
  request.set_tree_size(tree_size);
  return Call<cdl::v1::GetInclusionProofRequest,
              cdl::v1::GetInclusionProofResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetInclusionProof,
      "GetInclusionProof", address_, request, kDefault);
}

absl::StatusOr<cdl::v1::GetStateProofResponse> NodeClient::GetStateProof(
    absl::string_view key, uint64_t height) {
  cdl::v1::GetStateProofRequest request;
  request.set_key(std::string(key));
  request.set_height(height);
  return Call<cdl::v1::GetStateProofRequest, cdl::v1::GetStateProofResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetStateProof, "GetStateProof",
      address_, request, kDefault);
}

absl::StatusOr<cdl::v1::GetConsistencyProofResponse>
NodeClient::GetConsistencyProof(uint64_t old_size, uint64_t new_size) {
  cdl::v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  return Call<cdl::v1::GetConsistencyProofRequest,
              cdl::v1::GetConsistencyProofResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::GetConsistencyProof,
      "GetConsistencyProof", address_, request, kDefault);
}

absl::StatusOr<cdl::v1::QueryResponse> NodeClient::Query(
    const cdl::v1::QueryRequest& request) {
  return Call<cdl::v1::QueryRequest, cdl::v1::QueryResponse>(
      stub_.get(), &cdl::v1::Ledger::Stub::Query, "Query", address_, request,
      kDefault);
}

std::unique_ptr<grpc::ClientReader<cdl::v1::WatchResponse>> NodeClient::Watch(
    grpc::ClientContext* context, const cdl::v1::WatchRequest& request) {
  return stub_->Watch(context, request);
}

absl::Status NodeClient::Failure(const grpc::Status& status,
                                 absl::string_view rpc) const {
  return RpcFailure(status, rpc, address_, kDefault);
}

std::string ResolveNodeAddress(absl::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  const char* env = std::getenv("CDL_NODE");
  if (env != nullptr && *env != '\0') return env;
  return kDefaultNode;
}

}  // namespace cdl::cli
