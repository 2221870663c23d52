// Regulator audits over records fetched from the ledger: the park report of
// `cdl audit report` and the checks of `cdl audit anomalies`.
//
// Pure functions over records the caller has already fetched (Query,
// GetStateProof, GetCheckpoint): no I/O and no node, so every figure and
// finding can be tested with a known dataset. The caller passes accepted
// records only (the ledger's query indexes hold nothing else), in ledger
// order; "later" below always means later in that order.
//
// Money-like quantities stay exact: disclosed values are shown as written and
// totals are exact decimal sums (node/verify/decimal.h). Shares (coverage,
// renewable share) are ratios, computed in double and printed with two
// decimals.
//
// Errors: a record that does not hold what its type promises (a disclosure
// whose scope1_tco2e is not a decimal, a footprint whose PACT JSON does not
// parse, ...) is InvalidArgument naming the record (hex id) and the field;
// the ledger validated both, so this means the node served something else.
#ifndef CDL_CLI_AUDIT_H_
#define CDL_CLI_AUDIT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "records.pb.h"
#include "state.pb.h"

namespace cdl::cli::audit {

// Targets the parks track (share of enterprises with a disclosure for the
// period; energy-weighted renewable share). A share meets a target when it is
// at least the target.
inline constexpr double kCoverageTargetPct = 90.0;
inline constexpr double kRenewableTargetPct = 90.0;

// One accepted record as a query returned it, decoded.
struct LedgerRecord {
  std::string id;       // 32 raw bytes
  uint64_t height = 0;  // block that accepted it
  cdl::v1::RecordBody body;
  int64_t block_time_ms = 0;  // time of that block; 0 = unknown
};

// ---- Periods ----------------------------------------------------------------

// The reporting periods that make up `period`, coarsest first, each level
// covering the whole period:
//   "2026"    -> {{"2026"}, {"2026-Q1".."2026-Q4"}, {"2026-01".."2026-12"}}
//   "2026-Q2" -> {{"2026-Q2"}, {"2026-04", "2026-05", "2026-06"}}
//   "2026-03" -> {{"2026-03"}}
// InvalidArgument for anything cdl::verify::ValidatePeriod refuses.
absl::StatusOr<std::vector<std::vector<std::string>>> PeriodBreakdown(
    std::string_view period);

// ---- Reporting deadlines ----------------------------------------------------
//
// A disclosure is due `deadline_days` days after its period ends: the
// deadline of "2026" is 2027-01-01T00:00:00Z + deadline_days days, of
// "2026-Q1" 2026-04-01 + deadline_days days, of "2026-03" likewise. The time
// that counts is the block time of the block that committed the disclosure
// (the ledger's clock, not the claimed `created`). A period is disclosed late
// when the first disclosure of it (by ledger order; later amendments and
// duplicates do not move it) committed after its deadline; exactly at the
// deadline is on time.
inline constexpr int kDefaultDeadlineDays = 120;

// The first instant after `period` (UTC), in Unix ms. InvalidArgument for
// anything cdl::verify::ValidatePeriod refuses.
absl::StatusOr<int64_t> PeriodEndMs(std::string_view period);
// PeriodEndMs(period) + deadline_days days.
absl::StatusOr<int64_t> ReportingDeadlineMs(std::string_view period,
                                            int deadline_days);

// ---- Certificates -----------------------------------------------------------

enum class CertificateStatus {
  kActive,       // ACTIVE and inside its validity window
  kNotYetValid,  // ACTIVE, window not started
  kSuspended,
  kExpired,  // ACTIVE, window ended (renewals included)
  kRevoked,
  kSuperseded,  // its subject was superseded: it no longer counts
};
// "active", "not-yet-valid", "suspended", "expired", "revoked", "superseded".
std::string_view CertificateStatusName(CertificateStatus status);

// The status of `certificate` at `now_ms` given its current state entry
// (node/verify/state_entry.h). InvalidArgument for an entry status that a
// certificate cannot have (terminated, unspecified).
absl::StatusOr<CertificateStatus> CertificateStatusAt(
    const cdl::v1::Certificate& certificate, const cdl::v1::StateEntry& state,
    int64_t now_ms);

// A certificate record with its current state entry.
struct CertificateRecord {
  LedgerRecord record;  // payload: certificate
  cdl::v1::StateEntry state;
};

// ---- The park report --------------------------------------------------------

struct ReportInput {
  std::string park;
  std::string period;  // as PeriodBreakdown accepts
  int64_t now_ms = 0;  // certificate status is judged at this time
  int deadline_days = kDefaultDeadlineDays;  // see "Reporting deadlines"
  // member_registration records of the park (enterprises admitted into it);
  // registrations of other roles or parks are ignored.
  std::vector<LedgerRecord> registrations;
  // The park's disclosures, any period, in ledger order. Those of other
  // organisations than the registered enterprises (the park's own) and
  // periods outside `period` are ignored.
  std::vector<LedgerRecord> disclosures;
  // Certificates whose subject may be one of those disclosures; others are
  // ignored.
  std::vector<CertificateRecord> certificates;
  // Current member status by member id ("" in the report when absent).
  std::map<std::string, cdl::v1::EntryStatus> member_status;
};

struct CertificateLine {
  std::string id;  // hex
  std::string certifier;
  std::string standard;
  std::string assurance;  // "limited", "reasonable" or ""
  CertificateStatus status = CertificateStatus::kActive;
  int64_t valid_until_ms = 0;  // effective, renewals included
  std::string subject;         // hex id of the certified disclosure
};

// A disclosure that supersedes another: both scope 1 values.
struct Amendment {
  std::string period;
  std::string record_id;      // hex, the newer disclosure
  std::string supersedes_id;  // hex, the one it replaced
  std::string scope1_tco2e;
  std::string superseded_scope1_tco2e;
};

// A period of a report row whose first disclosure came after its deadline.
struct LateDisclosure {
  std::string period;
  std::string record_id;  // hex: the first disclosure of that period
  int64_t deadline_ms = 0;
  int64_t committed_ms = 0;  // block time
  int days_late = 0;         // whole days after the deadline, rounded up
};

enum class Coverage {
  kDisclosed,  // the whole period: an annual disclosure, all 4 quarters or
               // all 12 months (coarsest complete level wins)
  kPartial,    // some quarters or months only
  kMissing,    // nothing for the period
};
// "disclosed", "partial", "missing".
std::string_view CoverageName(Coverage coverage);

struct ReportRow {
  std::string enterprise;  // member id
  std::string name;
  std::string member_status;  // "active", "suspended", "revoked" or ""
  Coverage coverage = Coverage::kMissing;
  // The latest non-superseded disclosure of each period used, coarsest
  // complete level first (else the level with the most periods disclosed).
  std::vector<std::string> periods;
  std::vector<std::string> disclosure_ids;  // hex, same order
  // As disclosed for one disclosure; exact sums over several (quarters,
  // months). "" when none of them disclosed the value.
  std::string scope1_tco2e;
  std::string scope2_location_tco2e;
  std::string scope2_market_tco2e;
  std::string scope3_tco2e;
  std::string energy_mwh;
  // As disclosed for one disclosure; energy-weighted ("%.2f") over several.
  std::string renewable_share_pct;
  // "active" when every disclosure used has an active certificate;
  // otherwise the worst of each disclosure's best certificate status, or
  // "none" when a disclosure used has no certificate ("" when missing).
  std::string certification;
  // Weakest assurance among each disclosure's best certificate.
  std::string assurance;
  std::vector<CertificateLine> certificates;
  std::vector<Amendment> amendments;  // newest first, per period
  // Other current disclosures of the same period without a supersede link
  // (the latest one is used; see FindDuplicateDisclosures).
  std::vector<std::string> duplicate_ids;  // hex
  // Each period in `periods` that was disclosed late, in the same order.
  // Disclosures with an unknown block time are not judged.
  std::vector<LateDisclosure> late;
};

struct ParkSummary {
  std::string park;
  std::string period;
  int enterprises = 0;
  int disclosed = 0;
  int partial = 0;
  int missing = 0;
  int certified = 0;         // disclosed and certification "active"
  int late = 0;              // enterprises with at least one late period
  int deadline_days = kDefaultDeadlineDays;
  double coverage_pct = 0;   // disclosed / enterprises
  double certified_pct = 0;  // certified / enterprises
  bool coverage_target_met = false;
  // Exact sums over the rows that disclosed the value ("0" when none did).
  std::string scope1_tco2e = "0";
  std::string scope2_location_tco2e = "0";
  std::string scope2_market_tco2e = "0";
  std::string scope3_tco2e = "0";
  std::string energy_mwh = "0";
  // Σ energy × share / Σ energy over every disclosure used that states both;
  // unset when none does (the target is then not met).
  std::optional<double> renewable_share_pct;
  bool renewable_target_met = false;
};

struct Report {
  ParkSummary park;
  std::vector<ReportRow> rows;  // one per enterprise, by member id
};

absl::StatusOr<Report> BuildReport(const ReportInput& input);

// The report as CSV: a header row, one row per enterprise, then one row whose
// enterprise column is "TOTAL" and name column the park, with the park's
// totals, energy-weighted renewable share and, in the last four columns
// (empty on enterprise rows), coverage_pct, certified_pct,
// coverage_target_met and renewable_target_met ("yes"/"no"). The columns
// late ("yes"/"no"; on the TOTAL row the number of late enterprises),
// late_periods and days_late (same order) come after duplicate_ids. Fields are
// quoted as RFC 4180 says (CsvField); lines end in "\n". Lists inside a
// field (periods, ids, certificates) are joined with "; ".
std::string ReportCsv(const Report& report);
// {"park": {...summary...}, "rows": [...]}.
nlohmann::json ReportJson(const Report& report);

// One CSV field: quoted (with inner quotes doubled) when it holds a comma,
// quote, CR or LF, or starts or ends with a space; as is otherwise.
std::string CsvField(std::string_view value);

// "66.67": two decimals, for shares in percent.
std::string FormatPercent(double value);

// ---- Anomalies --------------------------------------------------------------

// What a regulator may sign and submit as an AuditFinding.
struct Finding {
  cdl::v1::FindingKind kind = cdl::v1::FINDING_UNSPECIFIED;
  std::string severity;              // "info" | "minor" | "major" | "critical"
  std::string subject;               // raw record id the finding is about
  std::vector<std::string> related;  // raw ids of the other records involved
  std::string description;

  cdl::v1::AuditFinding ToProto() const;
};

// "anomaly", "duplicate-disclosure", "out-of-accreditation", ...
std::string_view FindingKindName(cdl::v1::FindingKind kind);

// (a) Scope 1 of the same organisation changing by more than
// `threshold_pct` percent (|new - old| / old; a change from 0 to anything
// else counts; exactly at the threshold does not):
//   - between a disclosure and the one it supersedes (versions), and
//   - between the current disclosures of consecutive periods of the same
//     length (2025 -> 2026, 2026-Q1 -> 2026-Q2, 2025-12 -> 2026-01; the
//     nearest earlier period disclosed is compared when one is skipped).
// Subject is the later disclosure, related the earlier one. Severity
// "major" above twice the threshold, else "minor".
absl::StatusOr<std::vector<Finding>> FindDisclosureJumps(
    const std::vector<LedgerRecord>& disclosures, double threshold_pct);

// (a) A product footprint's pCfExcludingBiogenic changing by more than
// `threshold_pct` percent between a footprint and the one it supersedes, and
// between the current footprints that share a PACT product id (ordered by
// referencePeriodStart, then PACT version, then ledger order) with the same
// declared unit. A pair that shares several product ids is reported once.
absl::StatusOr<std::vector<Finding>> FindFootprintJumps(
    const std::vector<LedgerRecord>& footprints, double threshold_pct);

// (c) Two different disclosures of the same organisation and period that are
// both current (neither supersedes the other, directly or through a chain).
// One finding per extra one: subject the later, related every other current
// one. Severity "major".
std::vector<Finding> FindDuplicateDisclosures(
    const std::vector<LedgerRecord>& disclosures);

// An accreditation record with its state entry at some height.
struct AccreditationState {
  LedgerRecord record;  // payload: accreditation
  cdl::v1::StateEntry state;
};

// A certificate and what its certifier held when it was accepted.
struct IssuedCertificate {
  LedgerRecord certificate;
  int64_t block_time_ms = 0;  // time of the block that accepted it
  // The certifier's accreditations accepted before the certificate, with
  // their entries as of the block before (the state the ledger checked
  // against), and with their entries as of the certificate's own block.
  // Two views because a block may change an accreditation before or after
  // the certificate; it was accredited if either view says so.
  std::vector<AccreditationState> before_block;
  std::vector<AccreditationState> after_block;
};

// (b) A FINDING_OUT_OF_ACCREDITATION ("critical") when neither view shows an
// accreditation of the certificate's author covering its standard and
// jurisdiction at its block time (cdl::verify::CheckAccredited); nullopt when
// one does. The ledger refuses such certificates, so a finding means the
// ledger's rules were broken.
std::optional<Finding> CheckIssuedWhileAccredited(
    const IssuedCertificate& issued);

// (d) Equivocation evidence: one FINDING_EQUIVOCATION ("critical") per
// Evidence record on the ledger (the ledger accepted it only after checking
// both signed consensus messages, and stores one per equivocation). Subject
// is the Evidence record; the description names the accused validator, the
// round and kind of the conflicting messages, and the reporting validator.
// Evidence is chain-wide: validators belong to no park.
std::vector<Finding> FindEquivocations(const std::vector<LedgerRecord>& evidence);

// The id (raw) of an AuditFinding in `existing` that records the same thing
// as `finding` (same subject, kind and set of related records), or "".
std::string AlreadyRecorded(const std::vector<LedgerRecord>& existing,
                            const Finding& finding);

// A finding as JSON: kind, severity, subject, related (hex), description.
nlohmann::json FindingJson(const Finding& finding);

}  // namespace cdl::cli::audit

#endif  // CDL_CLI_AUDIT_H_
