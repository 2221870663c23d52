#include "cli/passport_export.h"

#include <algorithm>
#include <set>
#include <utility>

#include "crypto/str_cat.h"
#include "crypto/hash.h"
#include "node/verify/authority.h"
#include "node/verify/passport.h"
#include "node/verify/record.h"
#include "node/verify/state_entry.h"

namespace cdl::cli {
namespace {

using cdl::crypto::HexEncode;
using cdl::verify::ParsedRecord;

std::string Short(std::string_view id) { return HexEncode(id.substr(0, 8)); }

class Builder {
 public:
  Builder(PassportSource& source, std::string jurisdiction)
      : source_(source), jurisdiction_(std::move(jurisdiction)) {}

  absl::StatusOr<ExportedPassport> Build(std::string_view subject_id);

 private:
  // Adds a record (and, transitively, its signers' registrations and key
  // rotations) with its inclusion proof. `required` failures are errors;
  // others become notes and return false.
  absl::StatusOr<bool> Add(const std::string& bytes, bool required, std::string_view what);
  absl::Status AddSigners(const ParsedRecord& rec);
  absl::Status AddStatus(const std::string& key);
  absl::StatusOr<std::vector<ParsedRecord>> Parsed(std::string_view member, std::string_view type);

  PassportSource& source_;
  std::string jurisdiction_;
  ExportedPassport out_;
  cdl::v1::BlockHeader header_;
  std::set<std::string> ids_;
  std::set<std::string> status_keys_;
  std::set<std::string> members_done_;
};

absl::StatusOr<std::vector<ParsedRecord>> Builder::Parsed(std::string_view member, std::string_view type) {
  auto records = source_.Records(member, type);
  if (!records.ok()) return records.status();
  std::vector<ParsedRecord> out;
  for (const auto& bytes : *records) {
    auto rec = cdl::verify::ParseSignedRecord(bytes);
    if (!rec.ok()) {
      return absl::DataLossError(cdl::StrCat("the node returned a malformed ", type, " record: ",
                                              rec.status().message()));
    }
    out.push_back(*std::move(rec));
  }
  return out;
}

absl::StatusOr<bool> Builder::Add(const std::string& bytes, bool required, std::string_view what) {
  auto rec = cdl::verify::ParseSignedRecord(bytes);
  if (!rec.ok()) {
    return absl::DataLossError(cdl::StrCat("the node returned a malformed record (", what, "): ",
                                            rec.status().message()));
  }
  if (ids_.count(rec->id)) return true;
  auto proof = source_.Inclusion(rec->id, header_.ledger_size());
  if (!proof.ok()) {
    if (required) {
      return absl::FailedPreconditionError(cdl::StrCat(what, " ", HexEncode(rec->id), " is not in checkpoint ",
                                                        header_.height(), " yet (", proof.status().message(),
                                                        ") — try again in a moment"));
    }
    out_.notes.push_back(cdl::StrCat("left out ", what, " ", Short(rec->id), ": not in checkpoint ",
                                      header_.height(), " (", proof.status().message(), ")"));
    return false;
  }
  ids_.insert(rec->id);
  cdl::v1::PassportRecord* entry = out_.passport.add_records();
  entry->set_signed_record(bytes);
  *entry->mutable_inclusion() = *std::move(proof);
  if (auto s = AddSigners(*rec); !s.ok()) return s;
  return true;
}

absl::Status Builder::AddSigners(const ParsedRecord& rec) {
  for (const auto& sig : rec.signed_record.signatures()) {
    std::string done_key = cdl::StrCat(sig.member(), "/", sig.key_id());
    if (!members_done_.insert(done_key).second) continue;
    auto member = source_.Member(sig.member());
    if (!member.ok()) return member.status();
    const std::string& reg_id = member->registration_record();
    if (!reg_id.empty()) {
      auto bytes = source_.Record(reg_id);
      if (!bytes.ok()) return bytes.status();
      auto added = Add(*bytes, true, cdl::StrCat("registration of ", sig.member()));
      if (!added.ok()) return added.status();
    }
    bool in_registration = std::any_of(
        member->registration().keys().begin(), member->registration().keys().end(), [&](const auto& info) {
          auto key = cdl::verify::ParsePublicKeyInfo("key", info);
          return key.ok() && key->KeyId() == sig.key_id();
        });
    if (in_registration) continue;
    // The key came with a rotation: include the one that added it.
    auto rotations = Parsed(sig.member(), "key_rotation");
    if (!rotations.ok()) return rotations.status();
    for (const auto& rot : *rotations) {
      if (rot.body.key_rotation().member_id() != sig.member()) continue;
      for (const auto& info : rot.body.key_rotation().add_keys()) {
        auto key = cdl::verify::ParsePublicKeyInfo("key", info);
        if (key.ok() && key->KeyId() == sig.key_id()) {
          auto added = Add(rot.signed_record.SerializeAsString(), true,
                           cdl::StrCat("key rotation of ", sig.member()));
          if (!added.ok()) return added.status();
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Builder::AddStatus(const std::string& key) {
  if (!status_keys_.insert(key).second) return absl::OkStatus();
  auto proof = source_.State(key, header_.height());
  if (!proof.ok()) return proof.status();
  *out_.passport.add_statuses() = *std::move(proof);
  return absl::OkStatus();
}

absl::StatusOr<ExportedPassport> Builder::Build(std::string_view subject_id) {
  auto committed = source_.CommittedHeight();
  if (!committed.ok()) return committed.status();
  auto checkpoint = source_.Checkpoint(*committed);
  if (!checkpoint.ok()) return checkpoint.status();
  if (!header_.ParseFromString(checkpoint->header())) {
    return absl::DataLossError("the node returned a malformed checkpoint header");
  }
  if (header_.height() < *committed) {
    out_.notes.push_back(cdl::StrCat("checkpoint ", header_.height(), " is behind the committed height ", *committed,
                                      "; later changes are not in this passport"));
  }
  out_.height = header_.height();
  out_.time_ms = header_.time_ms();
  cdl::v1::Passport& p = out_.passport;
  p.set_version(cdl::verify::kPassportVersion);
  p.set_jurisdiction(jurisdiction_);
  p.set_subject(std::string(subject_id));
  *p.mutable_checkpoint() = *checkpoint;

  auto subject_bytes = source_.Record(subject_id);
  if (!subject_bytes.ok()) return subject_bytes.status();
  auto subject = cdl::verify::ParseSignedRecord(*subject_bytes);
  if (!subject.ok()) return absl::DataLossError("the node returned a malformed subject record");
  if (!subject->body.has_product_footprint() && !subject->body.has_disclosure()) {
    return absl::InvalidArgumentError(cdl::StrCat("record ", HexEncode(subject_id), " is a ", subject->type,
                                                   ", not a product footprint or disclosure"));
  }
  if (auto added = Add(*subject_bytes, true, "the subject"); !added.ok()) return added.status();

  // Certificates of the subject: indexed under its organisation.
  std::vector<std::string> owners = {subject->body.author()};
  if (subject->body.has_disclosure() && subject->body.disclosure().organisation() != subject->body.author()) {
    owners.push_back(subject->body.disclosure().organisation());
  }
  std::vector<ParsedRecord> certificates;
  std::set<std::string> seen;
  for (const auto& owner : owners) {
    auto found = Parsed(owner, "certificate");
    if (!found.ok()) return found.status();
    for (auto& c : *found) {
      if (c.body.certificate().subject() == subject_id && seen.insert(c.id).second) certificates.push_back(std::move(c));
    }
  }

  std::vector<ParsedRecord> agreements;
  bool agreements_loaded = false;
  for (const auto& cert : certificates) {
    auto added = Add(cert.signed_record.SerializeAsString(), false, "certificate");
    if (!added.ok()) return added.status();
    if (!*added) continue;
    ++out_.certificates;
    const auto& c = cert.body.certificate();
    const std::string& certifier = cert.body.author();
    if (auto s = AddStatus(cdl::verify::RecordStateKey(cert.id)); !s.ok()) return s;
    if (auto s = AddStatus(cdl::verify::MemberStateKey(certifier)); !s.ok()) return s;

    // The record behind a suspension or revocation, so the verifier can show
    // who did it and why.
    const auto& status = out_.passport.statuses();
    for (const auto& proof : status) {
      if (proof.key() != cdl::verify::RecordStateKey(cert.id) || !proof.has_entry()) continue;
      if (proof.entry().status() != cdl::v1::ENTRY_ACTIVE && !proof.entry().changed_by().empty()) {
        auto change = source_.Record(proof.entry().changed_by());
        if (change.ok()) {
          auto rec = cdl::verify::ParseSignedRecord(*change);
          if (rec.ok() && (rec->body.has_revocation() || rec->body.has_suspension())) {
            if (auto a = Add(*change, false, "status change"); !a.ok()) return a.status();
          }
        }
      }
    }

    auto accreditations = Parsed(certifier, "accreditation");
    if (!accreditations.ok()) return accreditations.status();
    for (const auto& a : *accreditations) {
      const auto& acc = a.body.accreditation();
      if (!cdl::verify::AccreditationCovers(acc, certifier, c.standard(), c.jurisdiction())) continue;
      auto in = Add(a.signed_record.SerializeAsString(), false, "accreditation");
      if (!in.ok()) return in.status();
      if (*in) {
        if (auto s = AddStatus(cdl::verify::RecordStateKey(a.id)); !s.ok()) return s;
      }
    }

    if (c.jurisdiction() == jurisdiction_) continue;
    if (!agreements_loaded) {
      auto found = Parsed("", "recognition_agreement");
      if (!found.ok()) return found.status();
      agreements = *std::move(found);
      agreements_loaded = true;
    }
    bool linked = false;
    for (const auto& a : agreements) {
      const auto& ra = a.body.recognition_agreement();
      if (!cdl::verify::AgreementCovers(ra, c.jurisdiction(), jurisdiction_, c.standard())) continue;
      auto in = Add(a.signed_record.SerializeAsString(), false, "recognition agreement");
      if (!in.ok()) return in.status();
      if (*in) {
        linked = true;
        if (auto s = AddStatus(cdl::verify::RecordStateKey(a.id)); !s.ok()) return s;
      }
    }
    if (!linked) {
      out_.notes.push_back(cdl::StrCat("no recognition agreement for ", c.standard(), " links ", c.jurisdiction(),
                                       " and ", jurisdiction_, " in checkpoint ", header_.height(),
                                       ": certificate ", Short(cert.id), " will not count in ", jurisdiction_));
    }
  }
  if (out_.certificates == 0) {
    return absl::FailedPreconditionError(cdl::StrCat(
        "record ", HexEncode(subject_id), " has no certificate in checkpoint ", header_.height(),
        certificates.empty() ? " — a certification body must certify it first ('cdl certify')"
                             : " yet — try again in a moment"));
  }
  return std::move(out_);
}

}  // namespace

absl::StatusOr<ExportedPassport> BuildPassport(PassportSource& source, std::string_view subject_id,
                                               std::string_view jurisdiction) {
  if (subject_id.size() != 32) return absl::InvalidArgumentError("subject: must be a 32-byte record id");
  if (jurisdiction.empty()) return absl::InvalidArgumentError("jurisdiction: must not be empty");
  return Builder(source, std::string(jurisdiction)).Build(subject_id);
}

}  // namespace cdl::cli
