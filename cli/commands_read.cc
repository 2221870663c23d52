// Readers: status, get, query, checkpoint, proof.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "crypto/hash.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"

namespace cdl::cli {
namespace {

using cdl::crypto::HexEncode;
using nlohmann::json;

// The node handed back something that does not match what was asked for.
absl::Status Mismatch(absl::string_view what) {
  return NodeError(absl::StatusCode::kDataLoss,
                   absl::StrCat("the node's answer does not match: ", what,
                                " — do not trust this node; check its log"));
}

}  // namespace

absl::Status RunStatus(const Context& ctx) {
  NodeClient client(ctx.node);
  absl::StatusOr<cdl::v1::StatusResponse> status = client.Status();
  if (!status.ok()) return status.status();
  if (ctx.json) {
    *ctx.out << json{{"node", ctx.node},
                     {"chain_id", status->chain_id()},
                     {"node_id", status->node_id()},
                     {"version", status->version()},
                     {"height", status->height()},
                     {"ledger_size", status->ledger_size()},
                     {"ledger_root", HexEncode(status->ledger_root())},
                     {"last_block_hash", HexEncode(status->last_block_hash())},
                     {"last_block_time_ms", status->last_block_time_ms()},
                     {"mempool_size", status->mempool_size()},
                     {"validators", status->validators()}}
                    .dump(2)
             << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "node         " << ctx.node << " (" << status->node_id();
  if (!status->version().empty()) *ctx.out << ", version " << status->version();
  *ctx.out << ")\n"
           << "chain        " << status->chain_id() << "\n"
           << "height       " << status->height() << "\n"
           << "ledger size  " << status->ledger_size() << "\n"
           << "ledger root  " << HexEncode(status->ledger_root()) << "\n";
  if (status->height() > 0) {
    *ctx.out << "last block   " << HexEncode(status->last_block_hash())
             << " at " << FormatTimeMs(status->last_block_time_ms()) << "\n";
  }
  *ctx.out << "mempool      " << status->mempool_size() << " record(s)\n"
           << "validators   " << status->validators() << "\n";
  return absl::OkStatus();
}

absl::Status RunGet(const Context& ctx, const GetOptions& options) {
  absl::StatusOr<std::string> id = ParseRecordId(options.record_id);
  if (!id.ok()) return WithExitCode(id.status(), kExitUsage);
  NodeClient client(ctx.node);
  absl::StatusOr<cdl::v1::GetRecordResponse> response = client.GetRecord(*id);
  if (!response.ok()) return response.status();
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      cdl::verify::ParseSignedRecord(response->signed_record());
  if (!record.ok()) {
    return Mismatch(absl::StrCat("the stored record does not parse (",
                                 record.status().message(), ")"));
  }
  if (record->id != *id) {
    return Mismatch(absl::StrCat("asked for record ", options.record_id,
                                 ", got ", HexEncode(record->id)));
  }
  const cdl::v1::Receipt& receipt = response->receipt();
  if (ctx.json) {
    *ctx.out << cdl::verify::RecordJson(*record, receipt,
                                        response->signed_record())
                    .dump(2)
             << "\n";
    return absl::OkStatus();
  }
  json body = ProtoToHexJson(record->body);
  const cdl::v1::RecordBody& b = record->body;
  *ctx.out << "record     " << HexEncode(record->id) << "\n"
           << "type       " << record->type << "\n"
           << "author     " << b.author() << " (sequence " << b.sequence()
           << ", key " << HexEncode(b.key_id()) << ")\n"
           << "chain      " << b.chain_id() << "\n"
           << "created    " << FormatTimeMs(b.created_ms())
           << " (claimed by the author)\n"
           << "status     " << ReceiptOutcome(receipt) << "\n";
  nlohmann::ordered_json payload = nlohmann::ordered_json::parse(
      body.contains(record->type) ? body[record->type].dump() : "{}");
  // A footprint is stored as PACT JSON text; show it as the object it is, in
  // its own key order.
  if (payload.contains("pact_json") && payload["pact_json"].is_string()) {
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(
        payload["pact_json"].get<std::string>(), nullptr,
        /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) payload["pact_json"] = parsed;
  }
  *ctx.out << record->type << " " << payload.dump(2) << "\n";
  for (const auto& sig : record->signed_record.signatures()) {
    *ctx.out << "signed by  " << sig.member() << " with key "
             << HexEncode(sig.key_id()) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunQuery(const Context& ctx, const QueryOptions& options) {
  if (absl::Status s = CheckRecordFilters(options.type, options.period);
      !s.ok()) {
    return s;
  }
  if (options.limit > 1000) {
    return UsageError(
        "--limit is at most 1000 — use --all to page through more");
  }
  cdl::v1::QueryRequest request;
  request.set_member(options.member);
  request.set_record_type(options.type);
  request.set_period(options.period);
  request.set_park(options.park);
  request.set_page_size(options.limit);
  request.set_page_token(options.page_token);
  request.set_standard(options.standard);
  request.set_certificate_status(options.certificate_status);

  NodeClient client(ctx.node);
  std::vector<cdl::v1::RecordEntry> entries;
  std::string next_token;
  for (;;) {
    absl::StatusOr<cdl::v1::QueryResponse> response = client.Query(request);
    if (!response.ok()) return response.status();
    for (auto& entry : *response->mutable_records()) {
      entries.push_back(std::move(entry));
    }
    next_token = response->next_page_token();
    if (!options.all || next_token.empty()) break;
    request.set_page_token(next_token);
  }

  if (ctx.json) {
    json records = json::array();
    for (const auto& entry : entries) {
      records.push_back({{"record_id", HexEncode(entry.record_id())},
                         {"type", entry.record_type()},
                         {"author", entry.author()},
                         {"height", entry.height()}});
    }
    *ctx.out
        << json{{"records", records}, {"next_page_token", next_token}}.dump(2)
        << "\n";
    return absl::OkStatus();
  }
  if (entries.empty()) {
    *ctx.out << "no records match\n";
  } else {
    *ctx.out
        << "HEIGHT  TYPE                  AUTHOR               RECORD ID\n";
    for (const auto& entry : entries) {
      std::string height = absl::StrCat(entry.height());
      std::string type = entry.record_type();
      std::string author = entry.author();
      height.resize(std::max<size_t>(height.size(), 6), ' ');
      type.resize(std::max<size_t>(type.size(), 20), ' ');
      author.resize(std::max<size_t>(author.size(), 19), ' ');
      *ctx.out << height << "  " << type << "  " << author << "  "
               << HexEncode(entry.record_id()) << "\n";
    }
    *ctx.out << entries.size() << " record(s)\n";
  }
  if (!next_token.empty()) {
    *ctx.out << "more records: repeat with --page-token " << next_token
             << " (or use --all)\n";
  }
  return absl::OkStatus();
}

absl::Status RunCheckpoint(const Context& ctx,
                           const CheckpointOptions& options) {
  NodeClient client(ctx.node);
  absl::StatusOr<cdl::v1::GetCheckpointResponse> response =
      client.GetCheckpoint(options.height);
  if (!response.ok()) return response.status();
  const cdl::v1::Checkpoint& checkpoint = response->checkpoint();
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(checkpoint.header())) {
    return Mismatch("the checkpoint's header does not parse");
  }
  if (options.height != 0 && header.height() != options.height) {
    return Mismatch(absl::StrCat("asked for height ", options.height, ", got ",
                                 header.height()));
  }
  const std::string file_text = ProtoToJsonFile(checkpoint);
  if (!options.output.empty()) {
    if (absl::Status s =
            WriteFile(options.output, file_text, "checkpoint file");
        !s.ok()) {
      return s;
    }
  }
  const std::string block_hash =
      HexEncode(cdl::verify::BlockHash(checkpoint.header()));
  if (ctx.json) {
    json out{{"chain_id", header.chain_id()},
             {"height", header.height()},
             {"ledger_size", header.ledger_size()},
             {"ledger_root", HexEncode(header.ledger_root())},
             {"block_hash", block_hash},
             {"time_ms", header.time_ms()},
             {"signatures", checkpoint.commit().signatures_size()},
             {"checkpoint", json::parse(file_text, nullptr, false)}};
    if (!options.output.empty()) out["file"] = options.output;
    *ctx.out << out.dump(2) << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "checkpoint of chain " << header.chain_id() << " at height "
           << header.height() << "\n"
           << "  ledger size  " << header.ledger_size() << "\n"
           << "  ledger root  " << HexEncode(header.ledger_root()) << "\n"
           << "  block hash   " << block_hash << "\n"
           << "  block time   " << FormatTimeMs(header.time_ms()) << "\n"
           << "  signed by    " << checkpoint.commit().signatures_size()
           << " validator(s)\n";
  if (!options.output.empty()) {
    *ctx.out << "wrote " << options.output
             << " (check it offline with 'cdl verify-checkpoint "
             << options.output << " --genesis GENESIS.json')\n";
  } else {
    *ctx.out << "(save it with -o FILE to verify it offline)\n";
  }
  return absl::OkStatus();
}

absl::Status RunProof(const Context& ctx, const ProofOptions& options) {
  absl::StatusOr<std::string> id = ParseRecordId(options.record_id);
  if (!id.ok()) return WithExitCode(id.status(), kExitUsage);
  NodeClient client(ctx.node);
  absl::StatusOr<cdl::v1::GetRecordResponse> record = client.GetRecord(*id);
  if (!record.ok()) return record.status();
  absl::StatusOr<cdl::verify::ParsedRecord> parsed =
      cdl::verify::ParseSignedRecord(record->signed_record());
  if (!parsed.ok() || parsed->id != *id) {
    return Mismatch(absl::StrCat("asked for record ", options.record_id,
                                 ", got another or a malformed one"));
  }
  if (record->receipt().status() != cdl::v1::RECORD_ACCEPTED) {
    return InputError(absl::StrCat(
        "record ", options.record_id, " is ",
        StatusName(record->receipt().status()),
        " — only accepted records are on the ledger and have a proof",
        record->receipt().status() == cdl::v1::RECORD_ADMITTED
            ? "; wait for its block to commit and retry"
            : ""));
  }
  absl::StatusOr<cdl::v1::GetInclusionProofResponse> proof =
      client.GetInclusionProof(*id, 0);
  if (!proof.ok()) return proof.status();
  if (proof->proof().record_id() != *id &&
      !proof->proof().record_id().empty()) {
    return Mismatch("the inclusion proof is for another record");
  }
  cdl::v1::ProofBundle bundle;
  bundle.set_version(1);
  bundle.set_signed_record(record->signed_record());
  *bundle.mutable_proof() = proof->proof();
  if (bundle.proof().record_id().empty()) {
    bundle.mutable_proof()->set_record_id(*id);
  }
  *bundle.mutable_checkpoint() = proof->checkpoint();
  cdl::v1::BlockHeader header;
  header.ParseFromString(bundle.checkpoint().header());

  const std::string file_text = ProtoToJsonFile(bundle);
  if (options.output.empty()) {
    // The bundle is the result: `cdl proof ID > FILE` works too.
    *ctx.out << file_text;
    return absl::OkStatus();
  }
  if (absl::Status s = WriteFile(options.output, file_text, "proof file");
      !s.ok()) {
    return s;
  }
  if (ctx.json) {
    *ctx.out << json{{"file", options.output},
                     {"record_id", options.record_id},
                     {"leaf_index", bundle.proof().leaf_index()},
                     {"tree_size", bundle.proof().tree_size()},
                     {"height", header.height()}}
                    .dump(2)
             << "\n";
  } else {
    *ctx.out << "wrote " << options.output << ": record " << options.record_id
             << " is leaf " << bundle.proof().leaf_index() << " of ledger size "
             << bundle.proof().tree_size() << " at height " << header.height()
             << "\n(check it offline with 'cdl verify-proof " << options.output
             << " --genesis GENESIS.json')\n";
  }
  return absl::OkStatus();
}

}  // namespace cdl::cli
