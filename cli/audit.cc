#include "cli/audit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cli/parse.h"
#include "consensus.pb.h"
#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "node/verify/authority.h"
#include "node/verify/decimal.h"
#include "node/verify/pact.h"
#include "node/verify/record.h"

namespace cdl::cli::audit {
namespace {

using cdl::crypto::HexEncode;
using cdl::verify::Decimal;
using nlohmann::json;

// A stored value that is not what the record type promises.
absl::Status BadField(std::string_view type, std::string_view id,
                      std::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(cdl::StrCat(
      type, " ", HexEncode(id), ": ", field, ": ", problem,
      " — the node served a record the ledger would not have accepted"));
}

absl::StatusOr<Decimal> ParseField(std::string_view type,
                                   const LedgerRecord& record,
                                   std::string_view field,
                                   std::string_view text) {
  absl::StatusOr<Decimal> value = Decimal::Parse(text);
  if (!value.ok()) {
    return BadField(type, record.id, field, value.status().message());
  }
  return value;
}

// Rank of a certificate status: lower is better. kNone is "no certificate".
constexpr int kNoneRank = 6;
int Rank(CertificateStatus status) { return static_cast<int>(status); }

std::string_view RankName(int rank) {
  if (rank >= kNoneRank) return "none";
  return CertificateStatusName(static_cast<CertificateStatus>(rank));
}

std::string AssuranceName(cdl::v1::AssuranceLevel level) {
  switch (level) {
    case cdl::v1::ASSURANCE_LIMITED:
      return "limited";
    case cdl::v1::ASSURANCE_REASONABLE:
      return "reasonable";
    default:
      return "";
  }
}

// "" < "limited" < "reasonable".
int AssuranceStrength(std::string_view name) {
  if (name == "reasonable") return 2;
  if (name == "limited") return 1;
  return 0;
}

double Round2(double value) { return std::round(value * 100.0) / 100.0; }

// The threshold in text: "20", "12.5".
std::string ThresholdText(double threshold_pct) {
  return absl::StrFormat("%g", threshold_pct);
}

// A relative change of more than `threshold_pct` percent from `from` to
// `to`, or nullopt. The percentage is +-infinity for a change from zero.
// "Exactly at the threshold" tolerates the rounding of the double ratio.
std::optional<double> Jump(const Decimal& from, const Decimal& to,
                           double threshold_pct) {
  if (from == to) return std::nullopt;
  if (from.IsZero()) {
    return to.IsNegative() ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
  }
  absl::StatusOr<double> change = cdl::verify::RelativeChange(from, to);
  if (!change.ok()) {  // OutOfRange: far beyond any threshold
    return to.Compare(from) > 0 ? std::numeric_limits<double>::infinity()
                                : -std::numeric_limits<double>::infinity();
  }
  const double pct = *change * 100.0;
  const double tolerance = 1e-9 * std::max(1.0, threshold_pct);
  if (std::fabs(pct) <= threshold_pct + tolerance) return std::nullopt;
  return pct;
}

// "rose by 25.00 %" / "fell by 40.00 %" / "rose from 0".
std::string ChangeText(double pct) {
  if (std::isinf(pct)) return "changed from zero";
  return absl::StrFormat("%s by %s %%", pct > 0 ? "rose" : "fell",
                         FormatPercent(std::fabs(pct)));
}

std::string JumpSeverity(double pct, double threshold_pct) {
  return std::fabs(pct) > 2 * threshold_pct ? "major" : "minor";
}

// Which ids among `records` are superseded by another of them.
std::set<std::string> SupersededIds(const std::vector<LedgerRecord>& records) {
  std::set<std::string> out;
  for (const LedgerRecord& r : records) {
    if (r.body.has_disclosure() && !r.body.disclosure().supersedes().empty()) {
      out.insert(r.body.disclosure().supersedes());
    }
    if (r.body.has_product_footprint() &&
        !r.body.product_footprint().supersedes().empty()) {
      out.insert(r.body.product_footprint().supersedes());
    }
  }
  return out;
}

// Current disclosures of each (organisation, period), in ledger order.
using Heads = std::map<std::pair<std::string, std::string>,
                       std::vector<const LedgerRecord*>>;

Heads CurrentDisclosures(const std::vector<LedgerRecord>& disclosures) {
  const std::set<std::string> superseded = SupersededIds(disclosures);
  Heads heads;
  for (const LedgerRecord& r : disclosures) {
    if (!r.body.has_disclosure() || superseded.contains(r.id)) continue;
    const cdl::v1::Disclosure& d = r.body.disclosure();
    heads[{d.organisation(), d.period()}].push_back(&r);
  }
  return heads;
}

// 0 = year, 1 = quarter, 2 = month.
int PeriodLength(std::string_view period) {
  if (period.size() == 4) return 0;
  if (period.size() > 5 && period[5] == 'Q') return 1;
  return 2;
}

}  // namespace

// ---- Periods ----------------------------------------------------------------

absl::StatusOr<int64_t> PeriodEndMs(std::string_view period) {
  if (absl::Status s = cdl::verify::ValidatePeriod("period", period); !s.ok()) {
    return s;
  }
  const int year = std::stoi(std::string(period.substr(0, 4)));
  int next_month = 13;  // a year ends where the next one starts
  if (PeriodLength(period) == 1) {
    next_month = 3 * (period[6] - '0') + 1;
  } else if (PeriodLength(period) == 2) {
    next_month = std::stoi(std::string(period.substr(5, 2))) + 1;
  }
  // CivilMonth normalises month 13 to January of the next year.
  const absl::CivilSecond end(absl::CivilMonth(year, next_month));
  return absl::ToUnixMillis(absl::FromCivil(end, absl::UTCTimeZone()));
}

absl::StatusOr<int64_t> ReportingDeadlineMs(std::string_view period,
                                            int deadline_days) {
  absl::StatusOr<int64_t> end = PeriodEndMs(period);
  if (!end.ok()) return end.status();
  return *end + int64_t{deadline_days} * 24 * 3600 * 1000;
}

absl::StatusOr<std::vector<std::vector<std::string>>> PeriodBreakdown(
    std::string_view period) {
  if (absl::Status s = cdl::verify::ValidatePeriod("period", period); !s.ok()) {
    return s;
  }
  const std::string year(period.substr(0, 4));
  auto month = [&](int m) { return absl::StrFormat("%s-%02d", year, m); };
  std::vector<std::vector<std::string>> levels;
  if (period.size() == 4) {
    levels.push_back({year});
    std::vector<std::string> quarters, months;
    for (int q = 1; q <= 4; ++q) quarters.push_back(cdl::StrCat(year, "-Q", q));
    for (int m = 1; m <= 12; ++m) months.push_back(month(m));
    levels.push_back(std::move(quarters));
    levels.push_back(std::move(months));
  } else if (period[5] == 'Q') {
    const int q = period[6] - '0';
    levels.push_back({std::string(period)});
    levels.push_back({month(3 * q - 2), month(3 * q - 1), month(3 * q)});
  } else {
    levels.push_back({std::string(period)});
  }
  return levels;
}

// ---- Certificates -----------------------------------------------------------

std::string_view CertificateStatusName(CertificateStatus status) {
  switch (status) {
    case CertificateStatus::kActive:
      return "active";
    case CertificateStatus::kNotYetValid:
      return "not-yet-valid";
    case CertificateStatus::kSuspended:
      return "suspended";
    case CertificateStatus::kExpired:
      return "expired";
    case CertificateStatus::kRevoked:
      return "revoked";
    case CertificateStatus::kSuperseded:
      return "superseded";
  }
  return "unknown";
}

absl::StatusOr<CertificateStatus> CertificateStatusAt(
    const cdl::v1::Certificate& certificate, const cdl::v1::StateEntry& state,
    int64_t now_ms) {
  switch (state.status()) {
    case cdl::v1::ENTRY_REVOKED:
      return CertificateStatus::kRevoked;
    case cdl::v1::ENTRY_SUPERSEDED:
      return CertificateStatus::kSuperseded;
    case cdl::v1::ENTRY_SUSPENDED:
    case cdl::v1::ENTRY_ACTIVE:
      break;
    default:
      return absl::InvalidArgumentError(
          cdl::StrCat("status entry: a certificate cannot be ",
                      cdl::v1::EntryStatus_Name(state.status())));
  }
  if (!state.subject_superseded_by().empty()) {
    return CertificateStatus::kSuperseded;
  }
  if (state.status() == cdl::v1::ENTRY_SUSPENDED) {
    return CertificateStatus::kSuspended;
  }
  const int64_t until =
      cdl::verify::EffectiveValidUntil(certificate.valid_until_ms(), state);
  if (until != 0 && now_ms >= until) return CertificateStatus::kExpired;
  if (now_ms < certificate.valid_from_ms()) {
    return CertificateStatus::kNotYetValid;
  }
  return CertificateStatus::kActive;
}

// ---- The park report --------------------------------------------------------

std::string_view CoverageName(Coverage coverage) {
  switch (coverage) {
    case Coverage::kDisclosed:
      return "disclosed";
    case Coverage::kPartial:
      return "partial";
    case Coverage::kMissing:
      return "missing";
  }
  return "unknown";
}

std::string FormatPercent(double value) {
  return absl::StrFormat("%.2f", value);
}

namespace {

// Running exact sum of an optional decimal field.
struct Sum {
  Decimal total;
  bool any = false;
  void Add(const Decimal& value) {
    total = total.Add(value);
    any = true;
  }
  std::string Text() const { return any ? total.ToString() : ""; }
};

struct DisclosureValues {
  std::optional<Decimal> scope1, scope2_location, scope2_market, scope3, energy,
      renewable;
};

absl::StatusOr<DisclosureValues> ParseDisclosure(const LedgerRecord& r) {
  const cdl::v1::Disclosure& d = r.body.disclosure();
  DisclosureValues v;
  struct Field {
    std::string_view name;
    const std::string& text;
    std::optional<Decimal>* out;
  };
  const Field fields[] = {
      {"disclosure.scope1_tco2e", d.scope1_tco2e(), &v.scope1},
      {"disclosure.scope2_location_tco2e", d.scope2_location_tco2e(),
       &v.scope2_location},
      {"disclosure.scope2_market_tco2e", d.scope2_market_tco2e(),
       &v.scope2_market},
      {"disclosure.scope3_tco2e", d.scope3_tco2e(), &v.scope3},
      {"disclosure.energy_mwh", d.energy_mwh(), &v.energy},
      {"disclosure.renewable_share_pct", d.renewable_share_pct(), &v.renewable},
  };
  for (const Field& f : fields) {
    if (f.text.empty()) continue;
    absl::StatusOr<Decimal> value = ParseField("disclosure", r, f.name, f.text);
    if (!value.ok()) return value.status();
    *f.out = *value;
  }
  if (!v.scope1.has_value()) {
    return BadField("disclosure", r.id, "disclosure.scope1_tco2e", "is empty");
  }
  return v;
}

std::string MemberStatusText(
    const std::map<std::string, cdl::v1::EntryStatus>& statuses,
    const std::string& id) {
  auto it = statuses.find(id);
  if (it == statuses.end()) return "";
  switch (it->second) {
    case cdl::v1::ENTRY_ACTIVE:
      return "active";
    case cdl::v1::ENTRY_SUSPENDED:
      return "suspended";
    case cdl::v1::ENTRY_REVOKED:
      return "revoked";
    default:
      return "unknown";
  }
}

}  // namespace

absl::StatusOr<Report> BuildReport(const ReportInput& input) {
  absl::StatusOr<std::vector<std::vector<std::string>>> levels =
      PeriodBreakdown(input.period);
  if (!levels.ok()) return levels.status();

  // Enterprises of the park, by id.
  std::map<std::string, const cdl::v1::MemberRegistration*> enterprises;
  for (const LedgerRecord& r : input.registrations) {
    if (!r.body.has_member_registration()) continue;
    const cdl::v1::MemberRegistration& reg = r.body.member_registration();
    if (reg.role() != cdl::v1::ROLE_ENTERPRISE || reg.park() != input.park) {
      continue;
    }
    enterprises.emplace(reg.member_id(), &reg);
  }

  std::map<std::string, const LedgerRecord*> by_id;
  for (const LedgerRecord& r : input.disclosures) {
    if (r.body.has_disclosure()) by_id[r.id] = &r;
  }
  const Heads heads = CurrentDisclosures(input.disclosures);
  // The first disclosure of each (organisation, period), any version: what
  // decides whether the period was disclosed on time.
  std::map<std::pair<std::string, std::string>, const LedgerRecord*> first;
  for (const LedgerRecord& r : input.disclosures) {
    if (!r.body.has_disclosure()) continue;
    const cdl::v1::Disclosure& d = r.body.disclosure();
    first.try_emplace({d.organisation(), d.period()}, &r);
  }

  // Certificates by subject.
  std::map<std::string, std::vector<CertificateLine>> certificates;
  for (const CertificateRecord& c : input.certificates) {
    if (!c.record.body.has_certificate()) continue;
    const cdl::v1::Certificate& cert = c.record.body.certificate();
    if (!by_id.contains(cert.subject())) continue;
    absl::StatusOr<CertificateStatus> status =
        CertificateStatusAt(cert, c.state, input.now_ms);
    if (!status.ok()) {
      return BadField("certificate", c.record.id, "status",
                      status.status().message());
    }
    CertificateLine line;
    line.id = HexEncode(c.record.id);
    line.certifier = c.record.body.author();
    line.standard = cert.standard();
    line.assurance = AssuranceName(cert.assurance());
    line.status = *status;
    line.valid_until_ms =
        cdl::verify::EffectiveValidUntil(cert.valid_until_ms(), c.state);
    line.subject = HexEncode(cert.subject());
    certificates[cert.subject()].push_back(std::move(line));
  }

  Report report;
  ParkSummary& park = report.park;
  park.park = input.park;
  park.period = input.period;
  park.deadline_days = input.deadline_days;
  Sum totals[5];
  double renewable_weighted = 0;  // Σ energy × share
  double renewable_energy = 0;    // Σ energy

  for (const auto& [id, reg] : enterprises) {
    ReportRow row;
    row.enterprise = id;
    row.name = reg->name();
    row.member_status = MemberStatusText(input.member_status, id);

    // The level to report: the coarsest complete one, else the one with the
    // most periods disclosed (the coarser on a tie).
    int chosen = -1;
    size_t chosen_count = 0;
    bool complete = false;
    for (size_t level = 0; level < levels->size(); ++level) {
      size_t count = 0;
      for (const std::string& period : (*levels)[level]) {
        if (heads.contains({id, period})) ++count;
      }
      if (count == (*levels)[level].size()) {
        chosen = static_cast<int>(level);
        complete = true;
        break;
      }
      if (count > chosen_count) {
        chosen = static_cast<int>(level);
        chosen_count = count;
      }
    }
    if (chosen < 0) {
      row.coverage = Coverage::kMissing;
      ++park.missing;
      report.rows.push_back(std::move(row));
      continue;
    }
    row.coverage = complete ? Coverage::kDisclosed : Coverage::kPartial;
    ++(complete ? park.disclosed : park.partial);

    std::vector<const LedgerRecord*> used;
    for (const std::string& period : (*levels)[chosen]) {
      auto it = heads.find({id, period});
      if (it == heads.end()) continue;
      used.push_back(it->second.back());
      row.periods.push_back(period);
      const LedgerRecord* earliest = first.at({id, period});
      if (earliest->block_time_ms != 0) {
        absl::StatusOr<int64_t> deadline =
            ReportingDeadlineMs(period, input.deadline_days);
        if (!deadline.ok()) return deadline.status();
        if (earliest->block_time_ms > *deadline) {
          constexpr int64_t kDayMs = 24 * 3600 * 1000;
          const int64_t over = earliest->block_time_ms - *deadline;
          row.late.push_back({period, HexEncode(earliest->id), *deadline,
                              earliest->block_time_ms,
                              static_cast<int>((over + kDayMs - 1) / kDayMs)});
        }
      }
      row.disclosure_ids.push_back(HexEncode(it->second.back()->id));
      for (size_t i = 0; i + 1 < it->second.size(); ++i) {
        row.duplicate_ids.push_back(HexEncode(it->second[i]->id));
      }
    }

    Sum sums[5];
    double row_weighted = 0;
    double row_energy = 0;
    int worst_rank = Rank(CertificateStatus::kActive);
    std::optional<int> weakest_assurance;
    for (const LedgerRecord* r : used) {
      absl::StatusOr<DisclosureValues> v = ParseDisclosure(*r);
      if (!v.ok()) return v.status();
      const std::optional<Decimal>* values[5] = {
          &v->scope1, &v->scope2_location, &v->scope2_market, &v->scope3,
          &v->energy};
      for (int f = 0; f < 5; ++f) {
        if (values[f]->has_value()) sums[f].Add(**values[f]);
      }
      if (v->energy.has_value() && v->renewable.has_value()) {
        const double energy = v->energy->ToDouble();
        row_weighted += energy * v->renewable->ToDouble();
        row_energy += energy;
      }

      // The best certificate of this disclosure.
      int best_rank = kNoneRank;
      const CertificateLine* best = nullptr;
      auto certs = certificates.find(r->id);
      if (certs != certificates.end()) {
        for (const CertificateLine& line : certs->second) {
          row.certificates.push_back(line);
          const int rank = Rank(line.status);
          const bool better = best == nullptr || rank < best_rank ||
                              (rank == best_rank &&
                               (AssuranceStrength(line.assurance) >
                                    AssuranceStrength(best->assurance) ||
                                (AssuranceStrength(line.assurance) ==
                                     AssuranceStrength(best->assurance) &&
                                 line.valid_until_ms > best->valid_until_ms)));
          if (better) {
            best = &line;
            best_rank = rank;
          }
        }
      }
      worst_rank = std::max(worst_rank, best_rank);
      if (best != nullptr) {
        const int strength = AssuranceStrength(best->assurance);
        weakest_assurance = weakest_assurance.has_value()
                                ? std::min(*weakest_assurance, strength)
                                : strength;
      }

      // Amendments: the chain of disclosures this one replaced.
      const LedgerRecord* current = r;
      std::set<std::string> seen;
      while (!current->body.disclosure().supersedes().empty() &&
             seen.insert(current->id).second) {
        auto prev = by_id.find(current->body.disclosure().supersedes());
        if (prev == by_id.end()) break;
        row.amendments.push_back(
            {current->body.disclosure().period(), HexEncode(current->id),
             HexEncode(prev->second->id),
             current->body.disclosure().scope1_tco2e(),
             prev->second->body.disclosure().scope1_tco2e()});
        current = prev->second;
      }
    }

    std::string* fields[5] = {&row.scope1_tco2e, &row.scope2_location_tco2e,
                              &row.scope2_market_tco2e, &row.scope3_tco2e,
                              &row.energy_mwh};
    if (used.size() == 1) {
      const cdl::v1::Disclosure& d = used.front()->body.disclosure();
      row.scope1_tco2e = d.scope1_tco2e();
      row.scope2_location_tco2e = d.scope2_location_tco2e();
      row.scope2_market_tco2e = d.scope2_market_tco2e();
      row.scope3_tco2e = d.scope3_tco2e();
      row.energy_mwh = d.energy_mwh();
      row.renewable_share_pct = d.renewable_share_pct();
    } else {
      for (int f = 0; f < 5; ++f) *fields[f] = sums[f].Text();
      if (row_energy > 0) {
        row.renewable_share_pct = FormatPercent(row_weighted / row_energy);
      }
    }
    for (int f = 0; f < 5; ++f) {
      if (sums[f].any) totals[f].Add(sums[f].total);
    }
    renewable_weighted += row_weighted;
    renewable_energy += row_energy;

    row.certification = std::string(RankName(worst_rank));
    if (weakest_assurance.has_value()) {
      row.assurance = *weakest_assurance == 2   ? "reasonable"
                      : *weakest_assurance == 1 ? "limited"
                                                : "";
    }
    if (complete && row.certification == "active") ++park.certified;
    if (!row.late.empty()) ++park.late;
    report.rows.push_back(std::move(row));
  }

  park.enterprises = static_cast<int>(enterprises.size());
  if (park.enterprises > 0) {
    park.coverage_pct = 100.0 * park.disclosed / park.enterprises;
    park.certified_pct = 100.0 * park.certified / park.enterprises;
  }
  // In integers, so that exactly 90 % meets the target.
  park.coverage_target_met =
      park.enterprises > 0 &&
      100 * park.disclosed >= kCoverageTargetPct * park.enterprises;
  std::string* park_fields[5] = {
      &park.scope1_tco2e, &park.scope2_location_tco2e,
      &park.scope2_market_tco2e, &park.scope3_tco2e, &park.energy_mwh};
  for (int f = 0; f < 5; ++f) *park_fields[f] = totals[f].total.ToString();
  if (renewable_energy > 0) {
    park.renewable_share_pct = renewable_weighted / renewable_energy;
    park.renewable_target_met =
        *park.renewable_share_pct + 1e-9 >= kRenewableTargetPct;
  }
  return report;
}

std::string CsvField(std::string_view value) {
  const bool quote =
      value.find_first_of(",\"\r\n") != std::string_view::npos ||
      (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

namespace {

constexpr const char* kCsvColumns[] = {
    "enterprise",
    "name",
    "member_status",
    "coverage",
    "periods",
    "disclosure_ids",
    "scope1_tco2e",
    "scope2_location_tco2e",
    "scope2_market_tco2e",
    "scope3_tco2e",
    "energy_mwh",
    "renewable_share_pct",
    "certification",
    "assurance",
    "certificates",
    "amended_ids",
    "amended_scope1_tco2e",
    "superseded_ids",
    "superseded_scope1_tco2e",
    "duplicate_ids",
    "late",
    "late_periods",
    "days_late",
    "coverage_pct",
    "certified_pct",
    "coverage_target_met",
    "renewable_target_met",
};

void AppendCsvLine(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += CsvField(fields[i]);
  }
  out.push_back('\n');
}

std::string Joined(const std::vector<std::string>& items) {
  return absl::StrJoin(items, "; ");
}

json OrNull(const std::string& value) {
  return value.empty() ? json(nullptr) : json(value);
}

}  // namespace

std::string ReportCsv(const Report& report) {
  std::string out;
  AppendCsvLine(out, std::vector<std::string>(std::begin(kCsvColumns),
                                              std::end(kCsvColumns)));
  for (const ReportRow& row : report.rows) {
    std::vector<std::string> certs, amended, amended_scope1, superseded,
        superseded_scope1, late_periods, days_late;
    for (const LateDisclosure& l : row.late) {
      late_periods.push_back(l.period);
      days_late.push_back(cdl::StrCat(l.days_late));
    }
    for (const CertificateLine& c : row.certificates) {
      certs.push_back(cdl::StrCat(c.id, " ", CertificateStatusName(c.status),
                                  c.assurance.empty() ? "" : " ", c.assurance));
    }
    for (const Amendment& a : row.amendments) {
      amended.push_back(a.record_id);
      amended_scope1.push_back(a.scope1_tco2e);
      superseded.push_back(a.supersedes_id);
      superseded_scope1.push_back(a.superseded_scope1_tco2e);
    }
    AppendCsvLine(out, {row.enterprise,
                        row.name,
                        row.member_status,
                        std::string(CoverageName(row.coverage)),
                        Joined(row.periods),
                        Joined(row.disclosure_ids),
                        row.scope1_tco2e,
                        row.scope2_location_tco2e,
                        row.scope2_market_tco2e,
                        row.scope3_tco2e,
                        row.energy_mwh,
                        row.renewable_share_pct,
                        row.certification,
                        row.assurance,
                        Joined(certs),
                        Joined(amended),
                        Joined(amended_scope1),
                        Joined(superseded),
                        Joined(superseded_scope1),
                        Joined(row.duplicate_ids),
                        row.late.empty() ? "no" : "yes",
                        Joined(late_periods),
                        Joined(days_late),
                        "",
                        "",
                        "",
                        ""});
  }
  const ParkSummary& p = report.park;
  AppendCsvLine(out, {"TOTAL",
                      p.park,
                      "",
                      "",
                      p.period,
                      "",
                      p.scope1_tco2e,
                      p.scope2_location_tco2e,
                      p.scope2_market_tco2e,
                      p.scope3_tco2e,
                      p.energy_mwh,
                      p.renewable_share_pct.has_value()
                          ? FormatPercent(*p.renewable_share_pct)
                          : "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      cdl::StrCat(p.late),
                      "",
                      "",
                      FormatPercent(p.coverage_pct),
                      FormatPercent(p.certified_pct),
                      p.coverage_target_met ? "yes" : "no",
                      p.renewable_target_met ? "yes" : "no"});
  return out;
}

json ReportJson(const Report& report) {
  json rows = json::array();
  for (const ReportRow& row : report.rows) {
    json certs = json::array();
    for (const CertificateLine& c : row.certificates) {
      certs.push_back(
          {{"id", c.id},
           {"certifier", c.certifier},
           {"standard", c.standard},
           {"assurance", OrNull(c.assurance)},
           {"status", std::string(CertificateStatusName(c.status))},
           {"valid_until", c.valid_until_ms == 0
                               ? json(nullptr)
                               : json(FormatTimeMs(c.valid_until_ms))},
           {"subject", c.subject}});
    }
    json late = json::array();
    for (const LateDisclosure& l : row.late) {
      late.push_back({{"period", l.period},
                      {"record_id", l.record_id},
                      {"deadline", FormatTimeMs(l.deadline_ms)},
                      {"committed", FormatTimeMs(l.committed_ms)},
                      {"days_late", l.days_late}});
    }
    json amendments = json::array();
    for (const Amendment& a : row.amendments) {
      amendments.push_back(
          {{"period", a.period},
           {"record_id", a.record_id},
           {"supersedes", a.supersedes_id},
           {"scope1_tco2e", a.scope1_tco2e},
           {"superseded_scope1_tco2e", a.superseded_scope1_tco2e}});
    }
    rows.push_back(
        {{"enterprise", row.enterprise},
         {"name", row.name},
         {"member_status", OrNull(row.member_status)},
         {"coverage", std::string(CoverageName(row.coverage))},
         {"periods", row.periods},
         {"disclosure_ids", row.disclosure_ids},
         {"scope1_tco2e", OrNull(row.scope1_tco2e)},
         {"scope2_location_tco2e", OrNull(row.scope2_location_tco2e)},
         {"scope2_market_tco2e", OrNull(row.scope2_market_tco2e)},
         {"scope3_tco2e", OrNull(row.scope3_tco2e)},
         {"energy_mwh", OrNull(row.energy_mwh)},
         {"renewable_share_pct", OrNull(row.renewable_share_pct)},
         {"certification", OrNull(row.certification)},
         {"assurance", OrNull(row.assurance)},
         {"certificates", certs},
         {"amendments", amendments},
         {"duplicate_ids", row.duplicate_ids},
         {"late", !row.late.empty()},
         {"late_disclosures", late}});
  }
  const ParkSummary& p = report.park;
  json park = {
      {"id", p.park},
      {"period", p.period},
      {"enterprises", p.enterprises},
      {"disclosed", p.disclosed},
      {"partial", p.partial},
      {"missing", p.missing},
      {"certified", p.certified},
      {"late", p.late},
      {"deadline_days", p.deadline_days},
      {"coverage_pct", Round2(p.coverage_pct)},
      {"coverage_target_pct", kCoverageTargetPct},
      {"coverage_target_met", p.coverage_target_met},
      {"certified_pct", Round2(p.certified_pct)},
      {"totals",
       {{"scope1_tco2e", p.scope1_tco2e},
        {"scope2_location_tco2e", p.scope2_location_tco2e},
        {"scope2_market_tco2e", p.scope2_market_tco2e},
        {"scope3_tco2e", p.scope3_tco2e},
        {"energy_mwh", p.energy_mwh}}},
      {"renewable_share_pct", p.renewable_share_pct.has_value()
                                  ? json(Round2(*p.renewable_share_pct))
                                  : json(nullptr)},
      {"renewable_target_pct", kRenewableTargetPct},
      {"renewable_target_met", p.renewable_target_met},
  };
  return json{{"park", park}, {"rows", rows}};
}

// ---- Anomalies --------------------------------------------------------------

cdl::v1::AuditFinding Finding::ToProto() const {
  cdl::v1::AuditFinding out;
  out.set_subject(subject);
  out.set_kind(kind);
  out.set_severity(severity);
  out.set_description(description);
  for (const std::string& id : related) out.add_related(id);
  return out;
}

std::string_view FindingKindName(cdl::v1::FindingKind kind) {
  switch (kind) {
    case cdl::v1::FINDING_ANOMALY:
      return "anomaly";
    case cdl::v1::FINDING_NON_CONFORMITY:
      return "non-conformity";
    case cdl::v1::FINDING_DUPLICATE_DISCLOSURE:
      return "duplicate-disclosure";
    case cdl::v1::FINDING_OUT_OF_ACCREDITATION:
      return "out-of-accreditation";
    case cdl::v1::FINDING_EQUIVOCATION:
      return "equivocation";
    case cdl::v1::FINDING_OTHER:
      return "other";
    default:
      return "unspecified";
  }
}

absl::StatusOr<std::vector<Finding>> FindDisclosureJumps(
    const std::vector<LedgerRecord>& disclosures, double threshold_pct) {
  std::map<std::string, const LedgerRecord*> by_id;
  std::map<std::string, Decimal> scope1;
  for (const LedgerRecord& r : disclosures) {
    if (!r.body.has_disclosure()) continue;
    absl::StatusOr<Decimal> value =
        ParseField("disclosure", r, "disclosure.scope1_tco2e",
                   r.body.disclosure().scope1_tco2e());
    if (!value.ok()) return value.status();
    by_id[r.id] = &r;
    scope1.emplace(r.id, *value);
  }
  const std::string threshold = ThresholdText(threshold_pct);
  std::vector<Finding> findings;
  auto add = [&](const LedgerRecord& from, const LedgerRecord& to, double pct,
                 std::string when) {
    const cdl::v1::Disclosure& a = from.body.disclosure();
    const cdl::v1::Disclosure& b = to.body.disclosure();
    Finding f;
    f.kind = cdl::v1::FINDING_ANOMALY;
    f.severity = JumpSeverity(pct, threshold_pct);
    f.subject = to.id;
    f.related = {from.id};
    f.description =
        cdl::StrCat("scope 1 of ", b.organisation(), " ", ChangeText(pct), " ",
                    when, " (", a.scope1_tco2e(), " -> ", b.scope1_tco2e(),
                    " tCO2e), more than the ", threshold, " % threshold");
    findings.push_back(std::move(f));
  };

  // Versions: each amendment against the disclosure it replaced.
  for (const LedgerRecord& r : disclosures) {
    if (!r.body.has_disclosure()) continue;
    auto prev = by_id.find(r.body.disclosure().supersedes());
    if (prev == by_id.end()) continue;
    std::optional<double> pct =
        Jump(scope1.at(prev->first), scope1.at(r.id), threshold_pct);
    if (pct.has_value()) {
      add(*prev->second, r, *pct,
          cdl::StrCat("for ", r.body.disclosure().period(), " when amended"));
    }
  }

  // Periods: consecutive current disclosures of the same length.
  std::map<std::pair<std::string, int>,
           std::vector<std::pair<std::string, const LedgerRecord*>>>
      series;
  for (const auto& [key, records] : CurrentDisclosures(disclosures)) {
    series[{key.first, PeriodLength(key.second)}].emplace_back(key.second,
                                                               records.back());
  }
  for (const auto& [key, periods] : series) {
    // std::map iteration gave the periods in order within an organisation.
    for (size_t i = 1; i < periods.size(); ++i) {
      const LedgerRecord& from = *periods[i - 1].second;
      const LedgerRecord& to = *periods[i].second;
      std::optional<double> pct =
          Jump(scope1.at(from.id), scope1.at(to.id), threshold_pct);
      if (pct.has_value()) {
        add(from, to, *pct,
            cdl::StrCat("from ", periods[i - 1].first, " to ",
                        periods[i].first));
      }
    }
  }
  return findings;
}

absl::StatusOr<std::vector<Finding>> FindFootprintJumps(
    const std::vector<LedgerRecord>& footprints, double threshold_pct) {
  struct Parsed {
    const LedgerRecord* record;
    size_t position;
    cdl::verify::PactFootprint pact;
    Decimal pcf;
    int64_t start_ms;
  };
  std::vector<Parsed> parsed;
  std::map<std::string, size_t> index_of;
  for (const LedgerRecord& r : footprints) {
    if (!r.body.has_product_footprint()) continue;
    absl::StatusOr<cdl::verify::PactFootprint> pact =
        cdl::verify::ParsePactFootprint(r.body.product_footprint().pact_json());
    if (!pact.ok()) {
      return BadField("product_footprint", r.id, "product_footprint.pact_json",
                      pact.status().message());
    }
    absl::StatusOr<Decimal> pcf =
        ParseField("product_footprint", r, "$.pcf.pCfExcludingBiogenic",
                   pact->pcf_excluding_biogenic);
    if (!pcf.ok()) return pcf.status();
    absl::StatusOr<int64_t> start = ParseTimeMs(pact->reference_period_start);
    if (!start.ok()) {
      return BadField("product_footprint", r.id, "$.pcf.referencePeriodStart",
                      start.status().message());
    }
    index_of[r.id] = parsed.size();
    parsed.push_back({&r, parsed.size(), *std::move(pact), *pcf, *start});
  }

  const std::string threshold = ThresholdText(threshold_pct);
  std::vector<Finding> findings;
  std::set<std::pair<size_t, size_t>> reported;
  auto compare = [&](const Parsed& from, const Parsed& to,
                     std::string_view product, std::string_view when) {
    if (from.pact.declared_unit != to.pact.declared_unit) return;
    if (!reported.insert({from.position, to.position}).second) return;
    std::optional<double> pct = Jump(from.pcf, to.pcf, threshold_pct);
    if (!pct.has_value()) return;
    Finding f;
    f.kind = cdl::v1::FINDING_ANOMALY;
    f.severity = JumpSeverity(*pct, threshold_pct);
    f.subject = to.record->id;
    f.related = {from.record->id};
    f.description = cdl::StrCat(
        "pCfExcludingBiogenic of ", product, " (", to.record->body.author(),
        ") ", ChangeText(*pct), " ", when, " (",
        from.pact.pcf_excluding_biogenic, " -> ",
        to.pact.pcf_excluding_biogenic, " kgCO2e per ", to.pact.declared_unit,
        "), more than the ", threshold, " % threshold");
    findings.push_back(std::move(f));
  };

  // Versions.
  std::set<std::string> superseded;
  for (const Parsed& p : parsed) {
    const std::string& old = p.record->body.product_footprint().supersedes();
    if (old.empty()) continue;
    superseded.insert(old);
    auto prev = index_of.find(old);
    if (prev == index_of.end()) continue;
    const Parsed& from = parsed[prev->second];
    compare(from, p,
            from.pact.product_ids.empty() ? p.pact.id
                                          : from.pact.product_ids.front(),
            "when superseded");
  }

  // Current footprints sharing a product id, in period/version order.
  std::map<std::string, std::vector<const Parsed*>> by_product;
  for (const Parsed& p : parsed) {
    if (superseded.contains(p.record->id)) continue;
    for (const std::string& product : p.pact.product_ids) {
      by_product[product].push_back(&p);
    }
  }
  for (auto& [product, list] : by_product) {
    std::stable_sort(
        list.begin(), list.end(), [](const Parsed* a, const Parsed* b) {
          return std::tie(a->start_ms, a->pact.version, a->position) <
                 std::tie(b->start_ms, b->pact.version, b->position);
        });
    for (size_t i = 1; i < list.size(); ++i) {
      compare(*list[i - 1], *list[i], product,
              cdl::StrCat("from reference period ",
                          list[i - 1]->pact.reference_period_start, " (v",
                          list[i - 1]->pact.version, ") to ",
                          list[i]->pact.reference_period_start, " (v",
                          list[i]->pact.version, ")"));
    }
  }
  return findings;
}

std::vector<Finding> FindDuplicateDisclosures(
    const std::vector<LedgerRecord>& disclosures) {
  std::vector<Finding> findings;
  for (const auto& [key, records] : CurrentDisclosures(disclosures)) {
    for (size_t i = 1; i < records.size(); ++i) {
      Finding f;
      f.kind = cdl::v1::FINDING_DUPLICATE_DISCLOSURE;
      f.severity = "major";
      f.subject = records[i]->id;
      for (size_t j = 0; j < records.size(); ++j) {
        if (j != i) f.related.push_back(records[j]->id);
      }
      f.description = cdl::StrCat(
          key.first, " has ", records.size(), " current disclosures for ",
          key.second, " and none supersedes another (scope 1: ",
          records[i]->body.disclosure().scope1_tco2e(), " here, ",
          records[0]->body.disclosure().scope1_tco2e(),
          " in the first) — the enterprise must amend with --supersedes");
      findings.push_back(std::move(f));
    }
  }
  return findings;
}

std::optional<Finding> CheckIssuedWhileAccredited(
    const IssuedCertificate& issued) {
  const cdl::v1::Certificate& cert = issued.certificate.body.certificate();
  const std::string& certifier = issued.certificate.body.author();
  auto check = [&](const std::vector<AccreditationState>& view) {
    std::vector<cdl::verify::AccreditationRef> refs;
    for (const AccreditationState& a : view) {
      if (!a.record.body.has_accreditation()) continue;
      refs.push_back({&a.record.body.accreditation(), &a.state});
    }
    return cdl::verify::CheckAccredited(refs, certifier, cert.standard(),
                                        cert.jurisdiction(),
                                        issued.block_time_ms);
  };
  absl::Status before = check(issued.before_block);
  if (before.ok() || check(issued.after_block).ok()) return std::nullopt;

  Finding f;
  f.kind = cdl::v1::FINDING_OUT_OF_ACCREDITATION;
  f.severity = "critical";
  f.subject = issued.certificate.id;
  std::set<std::string> related;
  for (const auto* view : {&issued.before_block, &issued.after_block}) {
    for (const AccreditationState& a : *view) {
      if (related.insert(a.record.id).second) f.related.push_back(a.record.id);
    }
  }
  f.description =
      cdl::StrCat("certificate by ", certifier, " for ", cert.standard(),
                  " in ", cert.jurisdiction(), " was accepted at ",
                  cdl::verify::FormatUtc(issued.block_time_ms),
                  " without an accreditation covering it: ", before.message());
  return f;
}

std::vector<Finding> FindEquivocations(const std::vector<LedgerRecord>& evidence) {
  std::vector<Finding> findings;
  for (const LedgerRecord& r : evidence) {
    if (!r.body.has_evidence()) continue;
    const cdl::v1::Evidence& e = r.body.evidence();
    std::string what = "two conflicting signed consensus messages";
    cdl::consensus::v1::EvidenceMessage a;
    if (a.ParseFromString(e.message_a())) {
      if (a.has_proposal()) {
        what = cdl::StrCat("two different proposals for round ", a.proposal().round());
      } else if (a.has_vote()) {
        what = cdl::StrCat("two different votes in round ", a.vote().round());
      }
    }
    Finding f;
    f.kind = cdl::v1::FINDING_EQUIVOCATION;
    f.severity = "critical";
    f.subject = r.id;
    f.description = cdl::StrCat("validator ", e.validator(), " equivocated: it signed ", what,
                                " (reported by validator ", r.body.author(), ", evidence accepted at height ",
                                r.height, ") — its operator must be told and the validator set reviewed");
    findings.push_back(std::move(f));
  }
  return findings;
}

std::string AlreadyRecorded(const std::vector<LedgerRecord>& existing,
                            const Finding& finding) {
  std::multiset<std::string> want(finding.related.begin(),
                                  finding.related.end());
  for (const LedgerRecord& r : existing) {
    if (!r.body.has_audit_finding()) continue;
    const cdl::v1::AuditFinding& f = r.body.audit_finding();
    if (f.subject() != finding.subject || f.kind() != finding.kind) continue;
    if (std::multiset<std::string>(f.related().begin(), f.related().end()) ==
        want) {
      return r.id;
    }
  }
  return "";
}

json FindingJson(const Finding& finding) {
  json related = json::array();
  for (const std::string& id : finding.related) {
    related.push_back(HexEncode(id));
  }
  return json{{"kind", std::string(FindingKindName(finding.kind))},
              {"severity", finding.severity},
              {"subject", HexEncode(finding.subject)},
              {"related", related},
              {"description", finding.description}};
}

}  // namespace cdl::cli::audit
