#include "node/verify/json_view.h"

#include "crypto/hash.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "node/verify/authority.h"

namespace cdl::verify {
namespace {

using cdl::crypto::HexEncode;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

std::string Base64ToHex(const std::string& base64) {
  absl::StatusOr<std::string> raw = cdl::crypto::Base64Decode(base64);
  // The protobuf printer always writes canonical padded base64.
  return raw.ok() ? HexEncode(*raw) : base64;
}

void BytesToHex(const Descriptor* descriptor, json& node) {
  if (!node.is_object()) return;
  for (auto& [key, value] : node.items()) {
    const FieldDescriptor* field = descriptor->FindFieldByName(key);
    if (field == nullptr) continue;
    if (field->type() == FieldDescriptor::TYPE_BYTES) {
      if (value.is_string()) {
        value = Base64ToHex(value.get<std::string>());
      } else if (value.is_array()) {
        for (json& item : value) {
          if (item.is_string()) item = Base64ToHex(item.get<std::string>());
        }
      }
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (value.is_array()) {
        for (json& item : value) BytesToHex(field->message_type(), item);
      } else {
        BytesToHex(field->message_type(), value);
      }
    }
  }
}

std::string StripPrefix(std::string name, std::string_view prefix) {
  if (name.compare(0, prefix.size(), prefix) == 0) name.erase(0, prefix.size());
  return name;
}

json CertificateJson(const PassportCertificate& c) {
  return json{{"record_id", HexEncode(c.record_id)},
              {"certifier", c.certifier},
              {"certifier_name", c.certifier_name},
              {"certifier_jurisdiction", c.certifier_jurisdiction},
              {"standard", c.standard},
              {"assurance", c.assurance},
              {"materiality_pct", c.materiality_pct},
              {"issued_under", c.issued_under},
              {"valid_from", FormatUtc(c.valid_from_ms)},
              {"valid_until", c.valid_until_ms == 0 ? "" : FormatUtc(c.valid_until_ms)},
              {"status", c.status},
              {"counts", c.counts},
              {"recognised_by", c.recognised_by},
              {"problems", c.problems}};
}

}  // namespace

json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return json::object();
  json node = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return node.is_discarded() ? json::object() : node;
}

json ProtoToHexJson(const google::protobuf::Message& message) {
  json node = ProtoToJson(message);
  BytesToHex(message.GetDescriptor(), node);
  return node;
}

std::string StatusName(cdl::v1::RecordStatus status) {
  return StripPrefix(cdl::v1::RecordStatus_Name(status), "RECORD_");
}

std::string RejectCodeName(cdl::v1::RejectCode code) {
  return StripPrefix(cdl::v1::RejectCode_Name(code), "REJECT_");
}

json ReceiptJson(const cdl::v1::Receipt& receipt) {
  return json{
      {"record_id", HexEncode(receipt.record_id())},
      {"status", StatusName(receipt.status())},
      {"code", RejectCodeName(receipt.code())},
      {"message", receipt.message()},
      {"height", receipt.height()},
      {"index", receipt.index()},
      {"ledger_index", receipt.ledger_index()},
      {"author", receipt.author()},
      {"sequence", receipt.sequence()},
  };
}

json RecordJson(const ParsedRecord& record, const cdl::v1::Receipt& receipt, const std::string& signed_record_bytes) {
  json signatures = json::array();
  for (const auto& sig : record.signed_record.signatures()) {
    signatures.push_back(
        {{"member", sig.member()}, {"key_id", HexEncode(sig.key_id())}, {"signature", HexEncode(sig.signature())}});
  }
  return json{{"record_id", HexEncode(record.id)},
              {"type", record.type},
              {"body", ProtoToHexJson(record.body)},
              {"signatures", signatures},
              {"receipt", ReceiptJson(receipt)},
              {"signed_record", cdl::crypto::Base64Encode(signed_record_bytes)}};
}

json PassportVerdictJson(const PassportVerdict& v) {
  const auto& s = v.subject;
  json subject = {{"record_id", HexEncode(s.record_id)}, {"type", s.type}, {"author", s.author},
                  {"organisation", s.organisation}};
  if (s.type == "product_footprint") {
    subject.update({{"product", s.product}, {"product_ids", s.product_ids}, {"pcf", s.pcf_value},
                    {"unit", s.pcf_unit}, {"pact_id", s.pact_id}});
  } else if (s.type == "disclosure") {
    subject.update({{"period", s.period}, {"scope1_tco2e", s.scope1_tco2e},
                    {"scope2_location_tco2e", s.scope2_location_tco2e},
                    {"scope2_market_tco2e", s.scope2_market_tco2e}, {"scope3_tco2e", s.scope3_tco2e}});
  }
  json certificates = json::array();
  for (const auto& c : v.certificates) certificates.push_back(CertificateJson(c));
  return json{{"verdict", v.valid ? "VALID" : "INVALID"},
              {"reasons", v.reasons},
              {"jurisdiction", v.jurisdiction},
              {"checked_at", FormatUtc(v.at_ms)},
              {"checkpoint",
               {{"height", v.checkpoint_height},
                {"time", v.checkpoint_height == 0 ? "" : FormatUtc(v.checkpoint_time_ms)}}},
              {"subject", subject},
              {"certificates", certificates}};
}

}  // namespace cdl::verify
