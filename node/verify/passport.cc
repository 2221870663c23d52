#include "node/verify/passport.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "node/verify/authority.h"
#include "node/verify/pact.h"
#include "node/verify/record.h"
#include "node/verify/state_entry.h"

namespace cdl::verify {
namespace {

using cdl::v1::Passport;
using cdl::v1::StateEntry;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string Serialize(const Message& msg) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  msg.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// Path of the first unknown field anywhere in `msg`, or "".
std::string FindUnknownField(const Message& msg, const std::string& path) {
  const auto* reflection = msg.GetReflection();
  if (!reflection->GetUnknownFields(msg).empty()) return path.empty() ? "(top level)" : path;
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(msg, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    std::string fpath = path.empty() ? std::string(f->name()) : cdl::StrCat(path, ".", f->name());
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(msg, f); ++i) {
        std::string r = FindUnknownField(reflection->GetRepeatedMessage(msg, f, i), cdl::StrCat(fpath, "[", i, "]"));
        if (!r.empty()) return r;
      }
    } else {
      std::string r = FindUnknownField(reflection->GetMessage(msg, f), fpath);
      if (!r.empty()) return r;
    }
  }
  return "";
}

std::string Short(std::string_view id) { return cdl::crypto::HexEncode(id.substr(0, 8)); }

bool IsAccreditingRole(cdl::v1::Role role) {
  return role == cdl::v1::ROLE_ACCREDITOR || role == cdl::v1::ROLE_REGULATOR;
}

// A member as the passport proves it: registration and every key it had.
struct KnownMember {
  cdl::v1::MemberRegistration registration;
  int record = -1;  // index of its registration record; -1 = genesis founder
  struct Key {
    cdl::crypto::PublicKey key;
    int record = -1;  // registration or key rotation that added it
  };
  std::map<std::string, Key> keys;  // by key id
};

// One record of the passport after parsing.
struct Item {
  ParsedRecord rec;
  bool parsed = false;    // parsed, stateless checks and inclusion passed
  bool verified = false;  // and every signature verified
  bool used = false;
};

class Verifier {
 public:
  Verifier(const TrustedGenesis& genesis, const PassportCheckOptions& options, PassportVerdict& verdict)
      : genesis_(genesis), options_(options), verdict_(verdict) {}

  void Run(std::string_view bytes);

 private:
  void Reason(std::string reason) { verdict_.reasons.push_back(std::move(reason)); }
  std::string Label(int i) const {
    const Item& item = items_[i];
    if (!item.parsed) return cdl::StrCat("records[", i, "]");
    return cdl::StrCat("records[", i, "] (", item.rec.type, " ", Short(item.rec.id), ")");
  }

  void ParseRecords();
  void LoadMembers();
  void VerifySignatures();
  const KnownMember* Member(const std::string& id) const {
    auto it = members_.find(id);
    return it == members_.end() ? nullptr : &it->second;
  }
  // The verified status entry under `key`, or nullopt with `problem` set.
  // Marks the proof used. `what` names the entry in messages.
  std::optional<StateEntry> Status(const std::string& key, const std::string& what, std::string& problem);
  void CheckSubject();
  void CheckCertificate(int index);
  void ExplainStatusChange(const StateEntry& entry, PassportCertificate& out);

  const TrustedGenesis& genesis_;
  const PassportCheckOptions& options_;
  PassportVerdict& verdict_;
  Passport passport_;
  cdl::v1::BlockHeader header_;
  std::vector<Item> items_;
  std::map<std::string, int> by_id_;
  std::map<std::string, KnownMember> members_;
  std::map<std::string, int> proofs_;  // state key -> index in passport_.statuses
  std::vector<bool> proof_used_;
  std::map<std::string, StateEntry> status_cache_;
  int subject_ = -1;
};

void Verifier::Run(std::string_view bytes) {
  auto decoded = DecodePassport(bytes);
  if (!decoded.ok()) {
    Reason(cdl::StrCat("passport file: ", decoded.status().message()));
    return;
  }
  passport_ = *std::move(decoded);
  verdict_.jurisdiction = options_.jurisdiction.empty() ? passport_.jurisdiction() : options_.jurisdiction;
  if (verdict_.jurisdiction.empty() || verdict_.jurisdiction.size() > 16) {
    Reason("jurisdiction: none given and the passport names none — pass --jurisdiction");
  }

  auto header = VerifyCheckpoint(genesis_, passport_.checkpoint());
  if (!header.ok()) {
    Reason(cdl::StrCat("checkpoint: ", header.status().message()));
    return;  // nothing else can be anchored
  }
  header_ = *std::move(header);
  verdict_.checkpoint_height = header_.height();
  verdict_.checkpoint_time_ms = header_.time_ms();
  if (options_.max_age_ms > 0 && options_.now_ms - header_.time_ms() > options_.max_age_ms) {
    Reason(cdl::StrCat("checkpoint: height ", header_.height(), " of ", FormatUtc(header_.time_ms()),
                       " is older than the accepted maximum age (", options_.max_age_ms / 1000,
                       " s) — ask the exporter for a fresh passport"));
  }

  proof_used_.assign(passport_.statuses_size(), false);
  for (int i = 0; i < passport_.statuses_size(); ++i) {
    const auto& proof = passport_.statuses(i);
    if (!proofs_.emplace(proof.key(), i).second) {
      Reason(cdl::StrCat("statuses[", i, "]: a second proof for the same key"));
      proof_used_[i] = true;  // reported already
    }
  }

  ParseRecords();
  LoadMembers();
  VerifySignatures();
  CheckSubject();

  bool any_certificate = false;
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    const Item& item = items_[i];
    if (item.parsed && item.rec.body.has_certificate() && item.rec.body.certificate().subject() == passport_.subject()) {
      any_certificate = true;
      CheckCertificate(i);
    }
  }

  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    if (items_[i].parsed && !items_[i].used) {
      Reason(cdl::StrCat(Label(i), ": not part of this passport's chain of trust"));
    }
  }
  for (int i = 0; i < passport_.statuses_size(); ++i) {
    if (!proof_used_[i]) Reason(cdl::StrCat("statuses[", i, "]: a status proof no check needs"));
  }

  bool structural_ok = verdict_.reasons.empty();
  bool counts = false;
  for (const auto& c : verdict_.certificates) counts = counts || c.counts;
  if (subject_ >= 0 && !any_certificate) Reason("subject: the passport holds no certificate of it");
  if (!counts) {
    for (const auto& c : verdict_.certificates) {
      for (const auto& p : c.problems) Reason(cdl::StrCat("certificate ", Short(c.record_id), ": ", p));
    }
  }
  verdict_.valid = structural_ok && counts && subject_ >= 0;
}

void Verifier::ParseRecords() {
  items_.resize(passport_.records_size());
  for (int i = 0; i < passport_.records_size(); ++i) {
    const auto& entry = passport_.records(i);
    Item& item = items_[i];
    auto parsed = ParseSignedRecord(entry.signed_record());
    if (!parsed.ok()) {
      Reason(cdl::StrCat(Label(i), ": ", parsed.status().message()));
      continue;
    }
    item.rec = *std::move(parsed);
    std::string label = cdl::StrCat("records[", i, "] (", item.rec.type, " ", Short(item.rec.id), ")");
    if (auto s = CheckStateless(item.rec, genesis_.chain_id()); !s.ok()) {
      Reason(cdl::StrCat(label, ": ", s.message()));
      continue;
    }
    if (auto s = VerifyRecordInclusion(header_, entry.inclusion(), item.rec.id); !s.ok()) {
      Reason(cdl::StrCat(label, ": not on the ledger at the checkpoint: ", s.message()));
      continue;
    }
    if (!by_id_.emplace(item.rec.id, i).second) {
      Reason(cdl::StrCat(label, ": appears twice"));
      continue;
    }
    item.parsed = true;
  }
}

void Verifier::LoadMembers() {
  for (const auto& founder : genesis_.proto().founders()) {
    KnownMember m;
    m.registration = founder;
    for (const auto& k : founder.keys()) {
      auto key = ParsePublicKeyInfo("genesis.founders.keys", k);
      if (key.ok()) {
        std::string id = key->KeyId();
        m.keys.emplace(std::move(id), KnownMember::Key{*std::move(key), -1});
      }
    }
    members_.emplace(founder.member_id(), std::move(m));
  }
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    Item& item = items_[i];
    if (!item.parsed || !item.rec.body.has_member_registration()) continue;
    const auto& reg = item.rec.body.member_registration();
    KnownMember m;
    m.registration = reg;
    m.record = i;
    for (const auto& k : reg.keys()) {
      auto key = ParsePublicKeyInfo("member_registration.keys", k);
      if (!key.ok()) {
        Reason(cdl::StrCat(Label(i), ": ", key.status().message()));
        continue;
      }
      std::string id = key->KeyId();
      m.keys.emplace(std::move(id), KnownMember::Key{*std::move(key), i});
    }
    if (!members_.emplace(reg.member_id(), std::move(m)).second) {
      Reason(cdl::StrCat(Label(i), ": a second registration of member \"", reg.member_id(), "\""));
    }
  }
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    Item& item = items_[i];
    if (!item.parsed || !item.rec.body.has_key_rotation()) continue;
    const auto& rot = item.rec.body.key_rotation();
    auto it = members_.find(rot.member_id());
    if (it == members_.end()) {
      Reason(cdl::StrCat(Label(i), ": rotates keys of \"", rot.member_id(), "\", whose registration is not in the passport"));
      continue;
    }
    for (const auto& k : rot.add_keys()) {
      auto key = ParsePublicKeyInfo("key_rotation.add_keys", k);
      if (!key.ok()) {
        Reason(cdl::StrCat(Label(i), ": ", key.status().message()));
        continue;
      }
      std::string id = key->KeyId();
      it->second.keys.emplace(std::move(id), KnownMember::Key{*std::move(key), i});
    }
  }
}

void Verifier::VerifySignatures() {
  // Every record's signatures, once. (Which registrations and rotations are
  // needed is decided later, by MarkSigners from the records the checks use.)
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    Item& item = items_[i];
    if (!item.parsed) continue;
    bool ok = true;
    const auto& sigs = item.rec.signed_record.signatures();
    for (int s = 0; s < sigs.size(); ++s) {
      const auto& sig = sigs[s];
      const KnownMember* m = Member(sig.member());
      std::string where = cdl::StrCat(Label(i), ": signatures[", s, "] by \"", sig.member(), "\"");
      if (m == nullptr) {
        Reason(cdl::StrCat(where, ": the signer is neither a genesis founder nor registered in the passport"));
        ok = false;
        continue;
      }
      auto key = m->keys.find(sig.key_id());
      if (key == m->keys.end()) {
        Reason(cdl::StrCat(where, ": key ", Short(sig.key_id()), " is not a registered key of the signer"));
        ok = false;
        continue;
      }
      if (!VerifyRecordSignature(key->second.key, item.rec.id, sig.signature()).ok()) {
        Reason(cdl::StrCat(where, ": signature does not verify"));
        ok = false;
      }
    }
    item.verified = ok;
  }
}

// Marks the registration (and key rotations) a used record's signers need.
void MarkSigners(const Item& item, std::map<std::string, KnownMember>& members, std::vector<Item>& items) {
  std::vector<const Item*> queue = {&item};
  while (!queue.empty()) {
    const Item* cur = queue.back();
    queue.pop_back();
    for (const auto& sig : cur->rec.signed_record.signatures()) {
      auto m = members.find(sig.member());
      if (m == members.end()) continue;
      auto key = m->second.keys.find(sig.key_id());
      for (int index : {m->second.record, key == m->second.keys.end() ? -1 : key->second.record}) {
        if (index >= 0 && !items[index].used) {
          items[index].used = true;
          queue.push_back(&items[index]);
        }
      }
    }
  }
}

std::optional<StateEntry> Verifier::Status(const std::string& key, const std::string& what, std::string& problem) {
  if (auto cached = status_cache_.find(key); cached != status_cache_.end()) return cached->second;
  auto it = proofs_.find(key);
  if (it == proofs_.end()) {
    problem = cdl::StrCat("no status proof for ", what, " in the passport");
    return std::nullopt;
  }
  const auto& proof = passport_.statuses(it->second);
  if (!proof_used_[it->second]) {
    proof_used_[it->second] = true;
    if (proof.height() != header_.height()) {
      Reason(cdl::StrCat("statuses[", it->second, "] (", what, "): proves height ", proof.height(),
                         ", not the checkpoint's ", header_.height()));
    } else if (auto s = VerifyStateProof(header_.state_root(), key, proof); !s.ok()) {
      Reason(cdl::StrCat("statuses[", it->second, "] (", what, "): ", s.message()));
    } else if (!proof.has_entry()) {
      problem = cdl::StrCat(what, " has no status at checkpoint ", header_.height());
      return std::nullopt;
    } else {
      status_cache_.emplace(key, proof.entry());
      return proof.entry();
    }
  }
  problem = cdl::StrCat("status of ", what, " could not be verified");
  return std::nullopt;
}

void Verifier::CheckSubject() {
  auto it = by_id_.find(passport_.subject());
  if (it == by_id_.end()) {
    Reason(cdl::StrCat("subject: record ", cdl::crypto::HexEncode(passport_.subject()), " is not in the passport"));
    return;
  }
  Item& item = items_[it->second];
  item.used = true;
  MarkSigners(item, members_, items_);
  PassportSubject& s = verdict_.subject;
  s.record_id = item.rec.id;
  s.type = item.rec.type;
  s.author = item.rec.body.author();
  if (item.rec.body.has_product_footprint()) {
    auto pf = ParsePactFootprint(item.rec.body.product_footprint().pact_json());
    if (!pf.ok()) {
      Reason(cdl::StrCat(Label(it->second), ": ", pf.status().message()));
      return;
    }
    s.organisation = pf->company_name;
    s.product = pf->product_name_company.empty() ? pf->product_description : pf->product_name_company;
    s.product_ids = pf->product_ids;
    s.pcf_value = pf->pcf_excluding_biogenic;
    s.pcf_unit = cdl::StrCat("kgCO2e per ", pf->unitary_product_amount, " ", pf->declared_unit);
    s.pact_id = pf->id;
  } else if (item.rec.body.has_disclosure()) {
    const auto& d = item.rec.body.disclosure();
    s.organisation = d.organisation();
    s.period = d.period();
    s.scope1_tco2e = d.scope1_tco2e();
    s.scope2_location_tco2e = d.scope2_location_tco2e();
    s.scope2_market_tco2e = d.scope2_market_tco2e();
    s.scope3_tco2e = d.scope3_tco2e();
  } else {
    Reason(cdl::StrCat("subject: ", Label(it->second), " is neither a product footprint nor a disclosure"));
    return;
  }
  if (!item.verified) return;  // its signature problems are reasons already
  subject_ = it->second;
}

void Verifier::ExplainStatusChange(const StateEntry& entry, PassportCertificate& out) {
  // The record that made the last change, when the exporter included it: its
  // reason text is shown once it matches the entry's reason hash.
  auto it = by_id_.find(entry.changed_by());
  if (entry.status() == cdl::v1::ENTRY_ACTIVE || it == by_id_.end()) return;
  Item& item = items_[it->second];
  const auto& b = item.rec.body;
  std::string reason = b.has_revocation()     ? b.revocation().reason()
                       : b.has_suspension()   ? b.suspension().reason()
                       : b.has_termination()  ? b.termination().reason()
                                              : std::string();
  if (!item.verified || ReasonHash(reason) != entry.reason_hash()) return;
  item.used = true;
  MarkSigners(item, members_, items_);
  out.problems.back() += cdl::StrCat(" by ", b.author(), reason.empty() ? "" : ": ", reason);
}

void Verifier::CheckCertificate(int index) {
  Item& item = items_[index];
  item.used = true;
  MarkSigners(item, members_, items_);
  const auto& c = item.rec.body.certificate();
  PassportCertificate out;
  out.record_id = item.rec.id;
  out.certifier = item.rec.body.author();
  out.standard = c.standard();
  out.assurance = AssuranceName(c.assurance());
  out.materiality_pct = c.materiality_pct();
  out.issued_under = c.jurisdiction();
  out.valid_from_ms = c.valid_from_ms();
  out.valid_until_ms = c.valid_until_ms();
  if (!item.verified) out.problems.push_back("its signature did not verify");

  const KnownMember* certifier = Member(out.certifier);
  if (certifier != nullptr) {
    out.certifier_name = certifier->registration.name();
    out.certifier_jurisdiction = certifier->registration.jurisdiction();
    if (certifier->registration.role() != cdl::v1::ROLE_CERTIFIER) {
      out.problems.push_back(cdl::StrCat("\"", out.certifier, "\" is not registered as a certification body"));
    }
  }

  std::string problem;
  if (auto entry = Status(RecordStateKey(item.rec.id), "the certificate", problem)) {
    out.status = EntryStatusName(entry->status());
    out.valid_until_ms = EffectiveValidUntil(c.valid_until_ms(), *entry);
    if (auto s = verify::CheckCertificate(c, *entry, options_.at_ms); !s.ok()) {
      out.problems.push_back(std::string(s.message()));
      ExplainStatusChange(*entry, out);
    }
  } else {
    out.problems.push_back(problem);
  }
  if (auto entry = Status(MemberStateKey(out.certifier), cdl::StrCat("member ", out.certifier), problem)) {
    if (entry->status() != cdl::v1::ENTRY_ACTIVE) {
      out.problems.push_back(cdl::StrCat("certifier \"", out.certifier, "\" is ", EntryStatusName(entry->status()),
                                         " since ", FormatUtc(entry->changed_ms())));
    }
  } else {
    out.problems.push_back(problem);
  }

  // Accreditations of this certifier that cover the certificate's scope.
  std::vector<StateEntry> accreditation_status;
  std::vector<const cdl::v1::Accreditation*> accreditations;
  accreditation_status.reserve(items_.size());
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    Item& a = items_[i];
    if (!a.parsed || !a.rec.body.has_accreditation()) continue;
    const auto& acc = a.rec.body.accreditation();
    if (!AccreditationCovers(acc, out.certifier, c.standard(), c.jurisdiction())) continue;
    a.used = true;
    MarkSigners(a, members_, items_);
    if (!a.verified) continue;
    const KnownMember* issuer = Member(a.rec.body.author());
    if (issuer == nullptr || !IsAccreditingRole(issuer->registration.role())) {
      Reason(cdl::StrCat(Label(i), ": issued by \"", a.rec.body.author(), "\", which is not an accreditation body"));
      continue;
    }
    if (!std::all_of(acc.jurisdictions().begin(), acc.jurisdictions().end(),
                     [&](const std::string& j) { return j == issuer->registration.jurisdiction(); })) {
      Reason(cdl::StrCat(Label(i), ": accredits outside its issuer's jurisdiction ",
                         issuer->registration.jurisdiction()));
      continue;
    }
    std::string p;
    auto entry = Status(RecordStateKey(a.rec.id), cdl::StrCat("accreditation ", Short(a.rec.id)), p);
    if (!entry) {
      out.problems.push_back(p);
      continue;
    }
    accreditation_status.push_back(*entry);
    accreditations.push_back(&acc);
  }
  std::vector<AccreditationRef> refs;
  for (size_t k = 0; k < accreditations.size(); ++k) refs.push_back({accreditations[k], &accreditation_status[k]});
  if (auto s = CheckAccredited(refs, out.certifier, c.standard(), c.jurisdiction(), options_.at_ms); !s.ok()) {
    out.problems.push_back(std::string(s.message()));
  }

  // Recognition of the issuing jurisdiction in the verifier's.
  const std::string& target = verdict_.jurisdiction;
  std::vector<StateEntry> agreement_status;
  std::vector<const cdl::v1::RecognitionAgreement*> agreements;
  std::vector<int> agreement_items;
  agreement_status.reserve(items_.size());
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
    Item& a = items_[i];
    if (!a.parsed || !a.rec.body.has_recognition_agreement()) continue;
    const auto& ra = a.rec.body.recognition_agreement();
    // Agreements towards the jurisdiction the passport was made for belong
    // in it even when a verifier checks it for another one (e.g. at home).
    bool for_target = AgreementCovers(ra, c.jurisdiction(), target, c.standard());
    if (!for_target && !AgreementCovers(ra, c.jurisdiction(), passport_.jurisdiction(), c.standard())) continue;
    a.used = true;
    MarkSigners(a, members_, items_);
    if (!a.verified) continue;
    const auto& sigs = a.rec.signed_record.signatures();
    bool parties_ok = sigs.size() == 2 && sigs[0].member() == ra.party_a() && sigs[1].member() == ra.party_b();
    for (const auto& [party, jurisdiction] : {std::pair{ra.party_a(), ra.jurisdiction_a()},
                                              std::pair{ra.party_b(), ra.jurisdiction_b()}}) {
      const KnownMember* m = Member(party);
      parties_ok = parties_ok && m != nullptr && IsAccreditingRole(m->registration.role()) &&
                   m->registration.jurisdiction() == jurisdiction;
    }
    if (!parties_ok) {
      Reason(cdl::StrCat(Label(i), ": not signed by both parties as accreditation bodies of their jurisdictions"));
      continue;
    }
    std::string p;
    auto entry = Status(RecordStateKey(a.rec.id), cdl::StrCat("agreement ", Short(a.rec.id)), p);
    if (!entry) {
      if (for_target) out.problems.push_back(p);
      continue;
    }
    if (!for_target) continue;
    agreement_status.push_back(*entry);
    agreements.push_back(&ra);
    agreement_items.push_back(i);
  }
  std::vector<AgreementRef> arefs;
  for (size_t k = 0; k < agreements.size(); ++k) arefs.push_back({agreements[k], &agreement_status[k]});
  if (auto s = CheckRecognised(arefs, c.jurisdiction(), target, c.standard(), options_.at_ms); !s.ok()) {
    out.problems.push_back(std::string(s.message()));
  } else {
    for (size_t k = 0; k < agreements.size(); ++k) {
      if (CheckRecognition(*agreements[k], agreement_status[k], c.jurisdiction(), target, c.standard(),
                           options_.at_ms)
              .ok()) {
        out.recognised_by = cdl::StrCat(agreements[k]->party_a(), " (", agreements[k]->jurisdiction_a(), ") & ",
                                        agreements[k]->party_b(), " (", agreements[k]->jurisdiction_b(), ")");
        break;
      }
    }
  }
  out.counts = out.problems.empty();
  verdict_.certificates.push_back(std::move(out));
}

}  // namespace

std::string EntryStatusName(int status) {
  switch (status) {
    case cdl::v1::ENTRY_ACTIVE: return "active";
    case cdl::v1::ENTRY_SUSPENDED: return "suspended";
    case cdl::v1::ENTRY_REVOKED: return "revoked";
    case cdl::v1::ENTRY_TERMINATED: return "terminated";
    case cdl::v1::ENTRY_SUPERSEDED: return "superseded";
    default: return "unknown";
  }
}

std::string AssuranceName(int assurance) {
  switch (assurance) {
    case cdl::v1::ASSURANCE_LIMITED: return "limited";
    case cdl::v1::ASSURANCE_REASONABLE: return "reasonable";
    default: return "unspecified";
  }
}

std::string EncodePassport(const Passport& passport) {
  return cdl::StrCat(kPassportMagic, Serialize(passport));
}

absl::StatusOr<Passport> DecodePassport(std::string_view bytes) {
  if (bytes.size() > kMaxPassportBytes) {
    return absl::InvalidArgumentError(cdl::StrCat("larger than ", kMaxPassportBytes, " bytes"));
  }
  if (bytes.substr(0, kPassportMagic.size()) != kPassportMagic) {
    return absl::InvalidArgumentError("not a cdl passport (it does not start with \"cdl-passport/v1\")");
  }
  std::string_view body = bytes.substr(kPassportMagic.size());
  Passport passport;
  if (!passport.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::InvalidArgumentError("malformed (not a valid Passport encoding)");
  }
  if (std::string where = FindUnknownField(passport, ""); !where.empty()) {
    return absl::InvalidArgumentError(cdl::StrCat(where, ": unknown field"));
  }
  if (Serialize(passport) != body) {
    return absl::InvalidArgumentError("not in canonical form (re-encoding differs: reordered, repeated or trailing data)");
  }
  if (passport.version() != kPassportVersion) {
    return absl::InvalidArgumentError(cdl::StrCat("version: ", passport.version(), " is not supported (expected ",
                                                  kPassportVersion, ")"));
  }
  if (static_cast<size_t>(passport.records_size()) > kMaxPassportRecords) {
    return absl::InvalidArgumentError(cdl::StrCat("records: more than ", kMaxPassportRecords));
  }
  if (static_cast<size_t>(passport.statuses_size()) > kMaxPassportStatuses) {
    return absl::InvalidArgumentError(cdl::StrCat("statuses: more than ", kMaxPassportStatuses));
  }
  for (int i = 0; i < passport.records_size(); ++i) {
    if (static_cast<size_t>(passport.records(i).inclusion().hashes_size()) > kMaxProofHashes) {
      return absl::InvalidArgumentError(cdl::StrCat("records[", i, "].inclusion.hashes: more than ", kMaxProofHashes));
    }
  }
  if (passport.subject().size() != 32) return absl::InvalidArgumentError("subject: must be a 32-byte record id");
  return passport;
}

PassportVerdict VerifyPassport(const TrustedGenesis& genesis, std::string_view file_bytes,
                               const PassportCheckOptions& options) {
  PassportVerdict verdict;
  verdict.at_ms = options.at_ms;
  Verifier(genesis, options, verdict).Run(file_bytes);
  if (!verdict.valid && verdict.reasons.empty()) verdict.reasons.push_back("no certificate counts");
  return verdict;
}

}  // namespace cdl::verify
