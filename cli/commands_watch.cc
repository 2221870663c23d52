// `cdl watch`: follows the ledger through the node's Watch stream.

#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "crypto/hash.h"
#include "node/verify/authority.h"
#include "node/verify/record.h"

namespace cdl::cli {
namespace {

using cdl::crypto::HexEncode;
using nlohmann::json;

constexpr absl::Duration kFirstRetry = absl::Seconds(1);
constexpr absl::Duration kMaxRetry = absl::Seconds(30);

// Turns SIGINT and SIGTERM into a stop request for as long as it lives: the
// signals are blocked in the calling thread (and so in every thread started
// after it, gRPC's included) and taken by a thread of its own, which
// notifies `stopped()` and cancels the stream in progress.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    waiter_ = std::thread([this] {
      const timespec tick{0, 100'000'000};
      while (!done_.load()) {
        if (sigtimedwait(&signals_, nullptr, &tick) > 0) {
          absl::MutexLock lock(&mu_);
          if (!stop_.HasBeenNotified()) stop_.Notify();
          if (context_ != nullptr) context_->TryCancel();
        }
      }
    });
  }
  ~StopOnSignal() {
    done_.store(true);
    waiter_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

  const absl::Notification& stopped() const { return stop_; }

  // The stream to cancel on a signal (nullptr: none). Cancels it at once if
  // a stop was already requested.
  void SetContext(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    context_ = context;
    if (context_ != nullptr && stop_.HasBeenNotified()) context_->TryCancel();
  }

 private:
  sigset_t signals_;
  sigset_t previous_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
  absl::Mutex mu_;
  absl::Notification stop_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Worth resuming after: the node or the network failed, or the node cut a
// slow stream off. Anything else is an answer to the request itself.
bool Retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:  // by the node (shutdown), not by us
    case grpc::StatusCode::OK:         // a stream never ends by itself
      return true;
    default:
      return false;
  }
}

void PrintRecord(const Context& ctx, bool as_json,
                 const cdl::v1::WatchResponse& block,
                 const cdl::v1::WatchedRecord& record) {
  const cdl::v1::Receipt& receipt = record.receipt();
  if (as_json) {
    json line{{"height", block.height()},
              {"index", record.index()},
              {"block_time", cdl::verify::FormatUtc(block.block_time_ms())},
              {"block_time_ms", block.block_time_ms()},
              {"record_id", HexEncode(record.record_id())},
              {"type", record.record_type()},
              {"author", record.author()},
              {"sequence", receipt.sequence()},
              {"status", StatusName(receipt.status())}};
    if (receipt.status() == cdl::v1::RECORD_ACCEPTED) {
      line["ledger_index"] = receipt.ledger_index();
    } else {
      line["code"] = RejectCodeName(receipt.code());
      line["message"] = receipt.message();
    }
    *ctx.out << line.dump() << "\n";
  } else {
    *ctx.out << block.height() << " " << record.index() << " "
             << record.record_type() << " " << HexEncode(record.record_id())
             << " " << record.author() << " "
             << StatusName(receipt.status());
    if (receipt.status() != cdl::v1::RECORD_ACCEPTED) {
      *ctx.out << " " << RejectCodeName(receipt.code()) << ": "
               << receipt.message();
    }
    *ctx.out << "\n";
  }
}

}  // namespace

absl::Status RunWatch(const Context& ctx, const WatchOptions& options) {
  if (!options.format.empty() && options.format != "text" &&
      options.format != "json") {
    return UsageError(absl::StrCat("--format \"", options.format,
                                   "\" is not one of text, json"));
  }
  const bool as_json =
      options.format == "json" || (options.format.empty() && ctx.json);
  if (absl::Status s = CheckRecordFilters(options.type, options.period);
      !s.ok()) {
    return s;
  }

  // Before any gRPC thread exists, so that none of them takes the signal.
  StopOnSignal stop;
  NodeClient client(ctx.node);
  uint64_t next = options.from_height;
  if (next == 0) {
    // "From now" as an explicit height, so that a resumed stream misses
    // nothing committed while it was down.
    absl::StatusOr<cdl::v1::StatusResponse> status = client.Status();
    if (!status.ok()) return status.status();
    next = status->height() + 1;
  }
  cdl::v1::WatchRequest request;
  request.set_record_type(options.type);
  request.set_member(options.member);
  request.set_jurisdiction(options.jurisdiction);
  request.set_park(options.park);
  request.set_period(options.period);
  request.set_include_rejected(!options.accepted_only);

  absl::Duration backoff = kFirstRetry;
  for (;;) {
    request.set_from_height(next);
    grpc::ClientContext context;
    stop.SetContext(&context);
    std::unique_ptr<grpc::ClientReader<cdl::v1::WatchResponse>> reader =
        client.Watch(&context, request);
    cdl::v1::WatchResponse block;
    while (reader->Read(&block)) {
      for (const cdl::v1::WatchedRecord& record : block.records()) {
        PrintRecord(ctx, as_json, block, record);
      }
      ctx.out->flush();
      next = block.height() + 1;
      backoff = kFirstRetry;  // the stream works again
    }
    grpc::Status status = reader->Finish();
    stop.SetContext(nullptr);
    if (stop.stopped().HasBeenNotified()) return absl::OkStatus();
    if (!Retryable(status.error_code())) {
      return client.Failure(status, "Watch");
    }
    *ctx.err << "cdl watch: stream from " << ctx.node << " lost ("
             << (status.error_message().empty() ? "no reason given"
                                                : status.error_message())
             << "); resuming from height " << next << " in "
             << absl::FormatDuration(backoff) << std::endl;
    if (stop.stopped().WaitForNotificationWithTimeout(backoff)) {
      return absl::OkStatus();
    }
    backoff = std::min(backoff * 2, kMaxRetry);
  }
}

}  // namespace cdl::cli
