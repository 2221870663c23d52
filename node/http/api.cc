#include "node/http/api.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "node/verify/authority.h"
#include "node/verify/json_view.h"
#include "node/verify/passport.h"
#include "node/verify/record.h"

namespace cdl::http::api {
namespace {

using cdl::crypto::HexEncode;
using nlohmann::json;

constexpr uint64_t kDefaultBlocksListed = 10;
constexpr uint32_t kMaxQueryPageSize = 1000;
constexpr size_t kMaxQueryValueBytes = 256;

// Shows a user's text back in a message: at most 80 bytes.
std::string Quote(std::string_view text) {
  return cdl::StrCat("\"", text.substr(0, 80), text.size() > 80 ? "...\"" : "\"");
}

absl::StatusOr<std::string> ParseRecordId(std::string_view hex) {
  absl::StatusOr<std::string> raw = cdl::crypto::HexDecode(hex);
  if (!raw.ok() || raw->size() != cdl::crypto::kHashSize) {
    return absl::InvalidArgumentError(cdl::StrCat("record id ", Quote(hex), " is not 64 hex digits"));
  }
  return raw;
}

// A decimal number in [min, max]; `what` names it in the error.
absl::StatusOr<uint64_t> ParseNumber(std::string_view text, std::string_view what, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  const bool digits = !text.empty() && text.size() <= 20 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || !absl::SimpleAtoi(std::string(text), &n) || n < min || n > max) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, " ", Quote(text), " is not a number from ", min, " to ", max));
  }
  return n;
}

json HeaderSummary(const cdl::v1::BlockHeader& header, const std::string& header_bytes, uint64_t certified_height) {
  return json{{"height", header.height()},
              {"block_hash", HexEncode(cdl::verify::BlockHash(header_bytes))},
              {"time_ms", header.time_ms()},
              {"time", cdl::verify::FormatUtc(header.time_ms())},
              {"proposer", header.proposer()},
              {"round", header.round()},
              {"record_count", header.record_count()},
              {"ledger_size", header.ledger_size()},
              {"certified", header.height() <= certified_height}};
}

bool IsRecordType(std::string_view name) {
  const google::protobuf::OneofDescriptor* oneof = cdl::v1::RecordBody::descriptor()->FindOneofByName("payload");
  if (oneof == nullptr) return false;
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->name() == name) return true;
  }
  return false;
}

// Member and park ids: short printable text.
absl::Status CheckQueryValue(std::string_view name, std::string_view value) {
  if (value.size() > kMaxQueryValueBytes ||
      !std::all_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; })) {
    return absl::InvalidArgumentError(
        cdl::StrCat(name, ": at most ", kMaxQueryValueBytes, " bytes of printable text"));
  }
  return absl::OkStatus();
}

bool IsJurisdiction(std::string_view text) {
  return text.size() >= 2 && text.size() <= 8 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; });
}

}  // namespace

std::optional<std::string> Param(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return std::nullopt;
}

json Status(cdl::net::Node& node) {
  const auto& ledger = node.ledger();
  cdl::v1::LedgerHead head = ledger.head();
  return json{{"chain_id", ledger.chain_id()},
              {"node_id", node.validator_id()},
              {"version", CDL_VERSION},
              {"height", head.height()},
              {"certified_height", head.certified_height()},
              {"ledger_size", head.ledger_size()},
              {"ledger_root", HexEncode(head.ledger_root())},
              {"state_root", HexEncode(head.state_root())},
              {"last_block_hash", HexEncode(head.last_hash())},
              {"last_block_time_ms", head.last_time_ms()},
              {"mempool_size", node.mempool_size()},
              {"validators", ledger.genesis().validator_count()},
              {"healthy", node.healthy()}};
}

absl::StatusOr<json> Record(const cdl::ledger::Ledger& ledger, std::string_view hex_id) {
  absl::StatusOr<std::string> id = ParseRecordId(hex_id);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> bytes = ledger.GetRecord(*id);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<cdl::v1::Receipt> receipt = ledger.GetReceipt(*id);
  if (!receipt.ok()) return receipt.status();
  absl::StatusOr<cdl::verify::ParsedRecord> record = cdl::verify::ParseSignedRecord(*bytes);
  if (!record.ok()) return absl::DataLossError(cdl::StrCat("stored record does not parse: ", record.status().message()));
  return cdl::verify::RecordJson(*record, *receipt, *bytes);
}

absl::StatusOr<json> Receipt(const cdl::ledger::Ledger& ledger, std::string_view hex_id) {
  absl::StatusOr<std::string> id = ParseRecordId(hex_id);
  if (!id.ok()) return id.status();
  absl::StatusOr<cdl::v1::Receipt> receipt = ledger.GetReceipt(*id);
  if (!receipt.ok()) return receipt.status();
  return cdl::verify::ReceiptJson(*receipt);
}

absl::StatusOr<json> Block(const cdl::ledger::Ledger& ledger, std::string_view height_text) {
  absl::StatusOr<uint64_t> height =
      ParseNumber(height_text, "block height", 1, std::numeric_limits<int64_t>::max());
  if (!height.ok()) return height.status();
  auto block = ledger.GetBlock(*height);
  if (!block.ok()) return block.status();
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(block->first.header())) return absl::DataLossError("stored block header does not parse");
  json out = HeaderSummary(header, block->first.header(), ledger.head().certified_height());
  out["header"] = cdl::verify::ProtoToHexJson(header);
  json signers = json::array();
  for (const auto& sig : block->second.signatures()) signers.push_back(sig.validator());
  out["commit"] = {{"signers", signers}, {"quorum", ledger.genesis().quorum()}};
  json records = json::array();
  for (int i = 0; i < block->first.records_size(); ++i) {
    const cdl::v1::Receipt receipt = i < block->first.receipts_size() ? block->first.receipts(i) : cdl::v1::Receipt();
    auto parsed = cdl::verify::ParseSignedRecord(block->first.records(i));
    json r = cdl::verify::ReceiptJson(receipt);
    r["type"] = parsed.ok() ? parsed->type : "";
    records.push_back(std::move(r));
  }
  out["records"] = std::move(records);
  return out;
}

absl::StatusOr<json> LatestBlocks(const cdl::ledger::Ledger& ledger, const Params& params) {
  uint64_t limit = kDefaultBlocksListed;
  if (auto text = Param(params, "limit")) {
    absl::StatusOr<uint64_t> n = ParseNumber(*text, "limit", 1, kMaxBlocksListed);
    if (!n.ok()) return n.status();
    limit = *n;
  }
  cdl::v1::LedgerHead head = ledger.head();
  json blocks = json::array();
  for (uint64_t h = head.height(); h >= 1 && blocks.size() < limit; --h) {
    // A checkpoint is the header and commit without the records.
    auto cp = ledger.GetCheckpoint(h);
    if (!cp.ok()) return cp.status();
    cdl::v1::BlockHeader header;
    if (!header.ParseFromString(cp->header())) return absl::DataLossError("stored block header does not parse");
    blocks.push_back(HeaderSummary(header, cp->header(), head.certified_height()));
  }
  return json{{"height", head.height()}, {"blocks", std::move(blocks)}};
}

absl::StatusOr<json> Checkpoint(const cdl::ledger::Ledger& ledger, std::string_view which) {
  uint64_t height = 0;  // latest certified
  if (which != "latest") {
    absl::StatusOr<uint64_t> h = ParseNumber(which, "checkpoint height", 1, std::numeric_limits<int64_t>::max());
    if (!h.ok()) return absl::InvalidArgumentError(cdl::StrCat(h.status().message(), " (or \"latest\")"));
    height = *h;
  }
  auto cp = ledger.GetCheckpoint(height);
  if (!cp.ok()) return cp.status();
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(cp->header())) return absl::DataLossError("stored block header does not parse");
  return json{{"chain_id", header.chain_id()},
              {"height", header.height()},
              {"ledger_size", header.ledger_size()},
              {"ledger_root", HexEncode(header.ledger_root())},
              {"state_root", HexEncode(header.state_root())},
              {"block_hash", HexEncode(cdl::verify::BlockHash(cp->header()))},
              {"time_ms", header.time_ms()},
              {"signatures", cp->commit().signatures_size()},
              {"certified", header.height() <= ledger.head().certified_height()},
              {"checkpoint", cdl::verify::ProtoToJson(*cp)}};
}

absl::StatusOr<json> Proof(const cdl::ledger::Ledger& ledger, std::string_view hex_id) {
  absl::StatusOr<std::string> id = ParseRecordId(hex_id);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> record = ledger.GetRecord(*id);
  if (!record.ok()) return record.status();
  auto proof = ledger.GetInclusionProof(*id, 0);
  if (!proof.ok()) return proof.status();
  cdl::v1::ProofBundle bundle;
  bundle.set_version(1);
  bundle.set_signed_record(*std::move(record));
  *bundle.mutable_proof() = std::move(proof->first);
  if (bundle.proof().record_id().empty()) bundle.mutable_proof()->set_record_id(*id);
  *bundle.mutable_checkpoint() = std::move(proof->second);
  return cdl::verify::ProtoToJson(bundle);
}

absl::StatusOr<json> Query(const cdl::ledger::Ledger& ledger, const Params& params, int64_t now_ms) {
  cdl::ledger::QueryFilter filter;
  filter.member = Param(params, "member").value_or("");
  filter.record_type = Param(params, "type").value_or("");
  filter.period = Param(params, "period").value_or("");
  filter.park = Param(params, "park").value_or("");
  filter.page_token = Param(params, "page_token").value_or("");
  filter.standard = Param(params, "standard").value_or("");
  filter.certificate_status = Param(params, "certificate_status").value_or("");
  if (auto s = CheckQueryValue("member", filter.member); !s.ok()) return s;
  if (auto s = CheckQueryValue("park", filter.park); !s.ok()) return s;
  if (auto s = CheckQueryValue("standard", filter.standard); !s.ok()) return s;
  static constexpr std::string_view kStatuses[] = {"active", "suspended", "revoked", "expired"};
  if (!filter.certificate_status.empty() &&
      std::find(std::begin(kStatuses), std::end(kStatuses), filter.certificate_status) == std::end(kStatuses)) {
    return absl::InvalidArgumentError(cdl::StrCat("certificate_status ", Quote(filter.certificate_status),
                                                  " is not one of active, suspended, revoked, expired"));
  }
  // As gRPC Query: "active"/"expired" are judged now unless as_of_ms says when.
  filter.as_of_ms = now_ms;
  if (auto text = Param(params, "as_of_ms")) {
    absl::StatusOr<uint64_t> n =
        ParseNumber(*text, "as_of_ms", 1, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
    if (!n.ok()) return n.status();
    filter.as_of_ms = static_cast<int64_t>(*n);
  }
  if (!filter.record_type.empty() && !IsRecordType(filter.record_type)) {
    return absl::InvalidArgumentError(
        cdl::StrCat("type ", Quote(filter.record_type), " is not a record type (e.g. disclosure, product_footprint)"));
  }
  if (!filter.period.empty()) {
    if (auto s = cdl::verify::ValidatePeriod("period", filter.period); !s.ok()) return s;
  }
  if (auto text = Param(params, "page_size")) {
    absl::StatusOr<uint64_t> n = ParseNumber(*text, "page_size", 1, kMaxQueryPageSize);
    if (!n.ok()) return n.status();
    filter.page_size = static_cast<uint32_t>(*n);
  }
  auto page = ledger.Query(filter);
  if (!page.ok()) return page.status();
  json records = json::array();
  for (const auto& e : page->entries) {
    records.push_back({{"record_id", HexEncode(e.record_id)},
                       {"type", e.state.record_type()},
                       {"author", e.state.author()},
                       {"height", e.state.height()}});
  }
  return json{{"records", std::move(records)}, {"next_page_token", page->next_page_token}};
}

absl::StatusOr<json> VerifyPassport(const cdl::verify::TrustedGenesis& genesis, const Params& params,
                                    std::string_view body, int64_t now_ms) {
  cdl::verify::PassportCheckOptions check;
  check.now_ms = now_ms;
  check.at_ms = now_ms;
  if (auto jurisdiction = Param(params, "jurisdiction")) {
    if (!IsJurisdiction(*jurisdiction)) {
      return absl::InvalidArgumentError(cdl::StrCat("jurisdiction ", Quote(*jurisdiction),
                                                    " is not a jurisdiction code: 2 to 8 upper-case letters, e.g. EU"));
    }
    check.jurisdiction = *jurisdiction;
  }
  if (auto at = Param(params, "at")) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, *at, &time, &error) &&
        !absl::ParseTime("%Y-%m-%d", *at, absl::UTCTimeZone(), &time, &error)) {
      return absl::InvalidArgumentError(
          cdl::StrCat("at ", Quote(*at), " is not an RFC 3339 time, e.g. 2027-12-31T23:59:59Z or 2027-12-31"));
    }
    check.at_ms = absl::ToUnixMillis(time);
  }
  if (body.empty()) return absl::InvalidArgumentError("empty body: POST the bytes of a passport file (.cdlp)");
  if (body.size() > cdl::verify::kMaxPassportBytes) {
    return absl::ResourceExhaustedError(
        cdl::StrCat("passport of ", body.size(), " bytes is larger than the limit of ", cdl::verify::kMaxPassportBytes));
  }
  return cdl::verify::PassportVerdictJson(cdl::verify::VerifyPassport(genesis, body, check));
}

}  // namespace cdl::http::api
