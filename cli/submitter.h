// Builds, signs and submits records as one author: the shared machinery of
// `cdl member register`, `cdl disclose`, `cdl footprint import` and the
// certification commands.
#ifndef CDL_CLI_SUBMITTER_H_
#define CDL_CLI_SUBMITTER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/node_client.h"
#include "crypto/keys.h"
#include "ledger.pb.h"
#include "records.pb.h"

namespace cdl::cli {

class Submitter {
 public:
  // Reads the author's private key, asks the node for the chain id and (unless
  // options.sequence is set) the author's next sequence, and checks that the
  // key is one of the author's active registered keys.
  static absl::StatusOr<Submitter> Create(const Context& ctx,
                                          const AuthorOptions& options);

  // Fills in chain id, author, key id, the next sequence and created time,
  // signs `body` (whose payload is set) and submits it. Waits for the final
  // receipt unless --no-wait was given. Each call uses the next sequence.
  absl::StatusOr<cdl::v1::Receipt> Submit(cdl::v1::RecordBody body);

  // Submits several records in sequence order and waits once for all of
  // them (unless --no-wait). Returns one receipt per body; a node error stops
  // at that record and returns what was received so far with the error.
  struct Batch {
    std::vector<cdl::v1::Receipt> receipts;
    absl::Status error;
  };
  Batch SubmitAll(std::vector<cdl::v1::RecordBody> bodies);

  // Builds and signs `body` exactly as Submit would (same fields, uses up the
  // next sequence) but sends nothing: for records that others must co-sign
  // before anyone submits them (recognition agreements).
  absl::StatusOr<cdl::v1::SignedRecord> Prepare(cdl::v1::RecordBody body);

  // Submits a record that is already fully signed, by anyone, to ctx.node
  // and, unless `no_wait`, waits up to `wait_seconds` for its final receipt.
  // Node errors come back as statuses (exit 1 or 3, see node_client.h).
  static absl::StatusOr<cdl::v1::Receipt> SubmitSigned(
      const Context& ctx, const cdl::v1::SignedRecord& record, bool no_wait,
      int wait_seconds);

  const std::string& chain_id() const { return chain_id_; }

 private:
  Submitter(NodeClient client, cdl::crypto::PrivateKey key,
            AuthorOptions options)
      : client_(std::move(client)),
        key_(std::move(key)),
        options_(std::move(options)) {}

  absl::StatusOr<cdl::v1::SignedRecord> Sign(cdl::v1::RecordBody body);
  absl::StatusOr<cdl::v1::Receipt> AwaitFinal(
      const std::string& record_id, cdl::v1::Receipt last,
      std::chrono::steady_clock::time_point deadline);

  NodeClient client_;
  cdl::crypto::PrivateKey key_;
  AuthorOptions options_;
  std::string chain_id_;
  uint64_t next_sequence_ = 0;
};

// Prints receipts (one line each, or one JSON document: an object for a
// single receipt, an array otherwise) and returns the exit status: OK if all
// are ACCEPTED (or ADMITTED with --no-wait), exit 1 naming the first rejected
// record, exit 3 if a record is still pending after --wait.
// `labels[i]`, when given, names what receipt i is about, e.g.
// {"footprint_id", "<uuid>"}: added to the JSON object and the human line.
struct ReceiptLabel {
  std::string key;
  std::string value;
};
absl::Status ReportReceipts(const Context& ctx,
                            const std::vector<cdl::v1::Receipt>& receipts,
                            bool no_wait, bool as_array,
                            const std::vector<ReceiptLabel>& labels = {});

}  // namespace cdl::cli

#endif  // CDL_CLI_SUBMITTER_H_
