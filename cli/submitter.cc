#include "cli/submitter.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/errors.h"
#include "cli/render.h"
#include "crypto/hash.h"
#include "node/verify/record.h"
#include "state.pb.h"

namespace cdl::cli {
namespace {

using Steady = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{100};

std::string ShortHex(const std::string& raw) {
  return cdl::crypto::HexEncode(raw).substr(0, 16);
}

// Polls the node until the record is no longer ADMITTED or `deadline`.
absl::StatusOr<cdl::v1::Receipt> AwaitFinalReceipt(
    NodeClient& client, const std::string& record_id, cdl::v1::Receipt last,
    Steady::time_point deadline) {
  while (last.status() == cdl::v1::RECORD_ADMITTED &&
         Steady::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
    absl::StatusOr<cdl::v1::GetReceiptResponse> response =
        client.GetReceipt(record_id);
    if (!response.ok()) {
      if (absl::IsNotFound(response.status())) continue;
      return response.status();
    }
    last = response->receipt();
  }
  if (last.record_id().empty()) last.set_record_id(record_id);
  return last;
}

}  // namespace

absl::StatusOr<Submitter> Submitter::Create(const Context& ctx,
                                            const AuthorOptions& options) {
  if (options.as.empty()) {
    return UsageError("--as is empty — name the member that signs the record");
  }
  absl::StatusOr<cdl::crypto::PrivateKey> key =
      cdl::crypto::ReadPrivateKeyFile(options.key_file);
  if (!key.ok()) {
    return InputError(absl::StrCat(
        "cannot use --key ", options.key_file, ": ", key.status().message(),
        absl::IsNotFound(key.status())
            ? " — pass the private key file of the member named by --as"
            : ""));
  }
  Submitter submitter(NodeClient(ctx.node), *std::move(key), options);

  absl::StatusOr<cdl::v1::StatusResponse> status = submitter.client_.Status();
  if (!status.ok()) return status.status();
  submitter.chain_id_ = status->chain_id();

  if (options.sequence.has_value()) {
    // The caller takes over: no lookups, the node alone judges the record.
    submitter.next_sequence_ = *options.sequence;
    return submitter;
  }
  absl::StatusOr<cdl::v1::GetMemberResponse> member =
      submitter.client_.GetMember(options.as);
  if (!member.ok()) {
    if (absl::IsNotFound(member.status())) {
      return InputError(absl::StrCat(
          "member \"", options.as, "\" is not registered on chain ",
          submitter.chain_id_,
          " — check --as, or have a regulator (or its park) register it "
          "with 'cdl member register'"));
    }
    return member.status();
  }
  const std::string key_id = submitter.key_.public_key().KeyId();
  const cdl::v1::KeyState* registered = nullptr;
  for (const cdl::v1::KeyState& state : member->member().keys()) {
    if (state.key_id() == key_id) registered = &state;
  }
  if (registered == nullptr) {
    return InputError(absl::StrCat(
        "key ", options.key_file, " (id ", ShortHex(key_id),
        "…) is not a registered key of member \"", options.as,
        "\" — sign with the key that was registered for ", options.as));
  }
  if (registered->status() != cdl::v1::ENTRY_ACTIVE) {
    return InputError(absl::StrCat(
        "key ", options.key_file, " (id ", ShortHex(key_id), "…) of member \"",
        options.as, "\" is ", cdl::v1::EntryStatus_Name(registered->status()),
        " — sign with an active key of ", options.as));
  }
  submitter.next_sequence_ = member->next_sequence() != 0
                                 ? member->next_sequence()
                                 : member->member().last_sequence() + 1;
  return submitter;
}

absl::StatusOr<cdl::v1::SignedRecord> Submitter::Sign(
    cdl::v1::RecordBody body) {
  body.set_chain_id(chain_id_);
  body.set_author(options_.as);
  body.set_key_id(key_.public_key().KeyId());
  body.set_sequence(next_sequence_);
  body.set_created_ms(absl::ToUnixMillis(absl::Now()));
  absl::StatusOr<cdl::v1::SignedRecord> signed_record =
      cdl::verify::SignBody(body, key_);
  if (!signed_record.ok()) {
    return Annotate(signed_record.status(), "signing the record");
  }
  ++next_sequence_;
  return signed_record;
}

absl::StatusOr<cdl::v1::Receipt> Submitter::AwaitFinal(
    const std::string& record_id, cdl::v1::Receipt last,
    Steady::time_point deadline) {
  return AwaitFinalReceipt(client_, record_id, std::move(last), deadline);
}

absl::StatusOr<cdl::v1::SignedRecord> Submitter::Prepare(
    cdl::v1::RecordBody body) {
  return Sign(std::move(body));
}

absl::StatusOr<cdl::v1::Receipt> Submitter::SubmitSigned(
    const Context& ctx, const cdl::v1::SignedRecord& record, bool no_wait,
    int wait_seconds) {
  NodeClient client(ctx.node);
  const std::string id = cdl::verify::RecordId(record.body());
  const std::chrono::milliseconds wait_timeout =
      std::chrono::seconds(wait_seconds);
  const Steady::time_point deadline = Steady::now() + wait_timeout;
  absl::StatusOr<cdl::v1::SubmitResponse> response =
      client.Submit(record.SerializeAsString(), !no_wait, wait_timeout);
  if (!response.ok()) {
    return Annotate(response.status(),
                    absl::StrCat("record ", cdl::crypto::HexEncode(id)));
  }
  cdl::v1::Receipt receipt = response->receipt();
  if (receipt.record_id().empty()) receipt.set_record_id(id);
  if (no_wait) return receipt;
  return AwaitFinalReceipt(client, id, std::move(receipt), deadline);
}

absl::StatusOr<cdl::v1::Receipt> Submitter::Submit(cdl::v1::RecordBody body) {
  Batch batch = SubmitAll({std::move(body)});
  if (!batch.error.ok()) return batch.error;
  return batch.receipts.front();
}

Submitter::Batch Submitter::SubmitAll(std::vector<cdl::v1::RecordBody> bodies) {
  Batch batch;
  const bool wait = !options_.no_wait;
  const std::chrono::milliseconds wait_timeout =
      std::chrono::seconds(options_.wait_seconds);
  const Steady::time_point deadline = Steady::now() + wait_timeout;
  std::vector<std::string> ids;
  for (size_t i = 0; i < bodies.size(); ++i) {
    absl::StatusOr<cdl::v1::SignedRecord> signed_record =
        Sign(std::move(bodies[i]));
    if (!signed_record.ok()) {
      batch.error = signed_record.status();
      return batch;
    }
    ids.push_back(cdl::verify::RecordId(signed_record->body()));
    // Only the last record waits: the node commits an author's records in
    // sequence order, so once it is final the earlier ones are too.
    const bool wait_here = wait && i + 1 == bodies.size();
    absl::StatusOr<cdl::v1::SubmitResponse> response = client_.Submit(
        signed_record->SerializeAsString(), wait_here, wait_timeout);
    if (!response.ok()) {
      batch.error =
          Annotate(response.status(),
                   absl::StrCat("record ", cdl::crypto::HexEncode(ids.back())));
      return batch;
    }
    cdl::v1::Receipt receipt = response->receipt();
    if (receipt.record_id().empty()) receipt.set_record_id(ids.back());
    batch.receipts.push_back(std::move(receipt));
  }
  if (wait) {
    for (size_t i = 0; i < batch.receipts.size(); ++i) {
      absl::StatusOr<cdl::v1::Receipt> final =
          AwaitFinal(ids[i], batch.receipts[i], deadline);
      if (!final.ok()) {
        batch.error = final.status();
        return batch;
      }
      batch.receipts[i] = *std::move(final);
    }
  }
  return batch;
}

absl::Status ReportReceipts(const Context& ctx,
                            const std::vector<cdl::v1::Receipt>& receipts,
                            bool no_wait, bool as_array,
                            const std::vector<ReceiptLabel>& labels) {
  if (ctx.json) {
    nlohmann::json array = nlohmann::json::array();
    for (size_t i = 0; i < receipts.size(); ++i) {
      nlohmann::json object = ReceiptJson(receipts[i]);
      if (i < labels.size()) object[labels[i].key] = labels[i].value;
      array.push_back(std::move(object));
    }
    if (as_array) {
      *ctx.out << array.dump(2) << "\n";
    } else if (!array.empty()) {
      *ctx.out << array.front().dump(2) << "\n";
    }
  } else {
    for (size_t i = 0; i < receipts.size(); ++i) {
      *ctx.out << ReceiptLine(receipts[i]);
      if (i < labels.size()) {
        *ctx.out << " " << labels[i].key << " " << labels[i].value;
      }
      *ctx.out << "\n";
    }
  }
  for (const auto& receipt : receipts) {
    const std::string id = cdl::crypto::HexEncode(receipt.record_id());
    switch (receipt.status()) {
      case cdl::v1::RECORD_ACCEPTED:
        break;
      case cdl::v1::RECORD_REJECTED:
        return InputError(absl::StrCat(
            "record ", id, " was rejected: ", RejectCodeName(receipt.code()),
            ": ", receipt.message(),
            " — fix the record and submit it again (the rejected record "
            "used up its sequence number)"));
      case cdl::v1::RECORD_ADMITTED:
        if (no_wait) break;
        return NodeError(
            absl::StatusCode::kDeadlineExceeded,
            absl::StrCat("record ", id,
                         " was admitted but not committed in time — check "
                         "later with 'cdl get ",
                         id, "' or pass a larger --wait-seconds"));
      default:
        return NodeError(absl::StatusCode::kInternal,
                         absl::StrCat("the node answered record ", id,
                                      " with no status — check the node's "
                                      "log"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cdl::cli
