// The regulator audit's figures and checks (cli/audit.h) over hand-built
// records: a known park dataset with exact expected numbers, anomaly cases on
// both sides of the threshold, accreditation views, CSV escaping.
#include "cli/audit.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "consensus.pb.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "node/verify/record.h"

namespace cdl::cli::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kPark[] = "sip-park";
// 2026-07-01T00:00:00Z
constexpr int64_t kNow = 1782864000000;
constexpr int64_t kDay = 24 * 3600 * 1000;

// A 32-byte record id made of one repeated byte.
std::string Id(int n) { return std::string(32, static_cast<char>(n)); }
std::string Hex(int n) { return cdl::crypto::HexEncode(Id(n)); }

LedgerRecord Registration(int id, const std::string& member,
                          const std::string& park, const std::string& name = "",
                          cdl::v1::Role role = cdl::v1::ROLE_ENTERPRISE) {
  LedgerRecord r{Id(id), 1, {}};
  r.body.set_author(park);
  cdl::v1::MemberRegistration* reg = r.body.mutable_member_registration();
  reg->set_member_id(member);
  reg->set_role(role);
  reg->set_park(park);
  reg->set_name(name.empty() ? member : name);
  return r;
}

struct DisclosureSpec {
  std::string organisation;
  std::string period;
  std::string scope1;
  std::string scope2_location;
  std::string scope2_market;
  std::string scope3;
  std::string energy;
  std::string renewable;
  int supersedes = 0;  // id byte, 0 = none
};

LedgerRecord Disclosure(int id, uint64_t height, const DisclosureSpec& s) {
  LedgerRecord r{Id(id), height, {}};
  r.body.set_author(s.organisation);
  cdl::v1::Disclosure* d = r.body.mutable_disclosure();
  d->set_organisation(s.organisation);
  d->set_period(s.period);
  d->set_scope1_tco2e(s.scope1);
  d->set_scope2_location_tco2e(s.scope2_location);
  d->set_scope2_market_tco2e(s.scope2_market);
  d->set_scope3_tco2e(s.scope3);
  d->set_energy_mwh(s.energy);
  d->set_renewable_share_pct(s.renewable);
  d->set_methodology("ISO 14064-1:2018");
  if (s.supersedes != 0) d->set_supersedes(Id(s.supersedes));
  return r;
}

// Scope 1 only, the fields anomaly checks read.
LedgerRecord Scope1(int id, const std::string& organisation,
                    const std::string& period, const std::string& scope1,
                    int supersedes = 0) {
  return Disclosure(
      id, static_cast<uint64_t>(id),
      {organisation, period, scope1, "1", "", "", "", "", supersedes});
}

CertificateRecord Certificate(int id, int subject,
                              cdl::v1::AssuranceLevel assurance,
                              cdl::v1::EntryStatus status,
                              int64_t valid_until_ms = kNow + 365 * kDay) {
  CertificateRecord c{{Id(id), 10, {}}, {}};
  c.record.body.set_author("cn-verify");
  cdl::v1::Certificate* cert = c.record.body.mutable_certificate();
  cert->set_subject(Id(subject));
  cert->set_standard("ISO 14064-3");
  cert->set_assurance(assurance);
  cert->set_valid_until_ms(valid_until_ms);
  cert->set_jurisdiction("CN");
  c.state.set_status(status);
  return c;
}

// ---- Periods ----------------------------------------------------------------

TEST(PeriodBreakdownTest, YearQuarterAndMonth) {
  auto year = PeriodBreakdown("2026");
  ASSERT_TRUE(year.ok()) << year.status();
  ASSERT_THAT(*year, SizeIs(3));
  EXPECT_THAT((*year)[0], ElementsAre("2026"));
  EXPECT_THAT((*year)[1],
              ElementsAre("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"));
  ASSERT_THAT((*year)[2], SizeIs(12));
  EXPECT_EQ((*year)[2].front(), "2026-01");
  EXPECT_EQ((*year)[2].back(), "2026-12");

  auto quarter = PeriodBreakdown("2026-Q3");
  ASSERT_TRUE(quarter.ok());
  EXPECT_THAT(*quarter,
              ElementsAre(ElementsAre("2026-Q3"),
                          ElementsAre("2026-07", "2026-08", "2026-09")));
  auto month = PeriodBreakdown("2026-03");
  ASSERT_TRUE(month.ok());
  EXPECT_THAT(*month, ElementsAre(ElementsAre("2026-03")));

  for (const char* bad : {"", "26", "2026-Q5", "2026-13", "2026-1", "FY26"}) {
    EXPECT_FALSE(PeriodBreakdown(bad).ok()) << bad;
  }
}

// ---- Certificate status -----------------------------------------------------

TEST(CertificateStatusTest, FromEntryAndWindow) {
  cdl::v1::Certificate cert;
  cert.set_valid_from_ms(kNow - 10 * kDay);
  cert.set_valid_until_ms(kNow + 10 * kDay);
  cdl::v1::StateEntry state;
  state.set_status(cdl::v1::ENTRY_ACTIVE);
  auto at = [&](int64_t time) {
    return *CertificateStatusAt(cert, state, time);
  };

  EXPECT_EQ(at(kNow), CertificateStatus::kActive);
  EXPECT_EQ(at(kNow - 11 * kDay), CertificateStatus::kNotYetValid);
  // The window is half-open: at valid_until it has ended.
  EXPECT_EQ(at(kNow + 10 * kDay), CertificateStatus::kExpired);
  // A renewal extends it (the entry's valid_until wins).
  state.set_valid_until_ms(kNow + 20 * kDay);
  EXPECT_EQ(at(kNow + 15 * kDay), CertificateStatus::kActive);

  state.set_status(cdl::v1::ENTRY_SUSPENDED);
  EXPECT_EQ(at(kNow), CertificateStatus::kSuspended);
  state.set_status(cdl::v1::ENTRY_REVOKED);
  EXPECT_EQ(at(kNow), CertificateStatus::kRevoked);
  state.set_status(cdl::v1::ENTRY_ACTIVE);
  state.set_subject_superseded_by(Id(9));
  EXPECT_EQ(at(kNow), CertificateStatus::kSuperseded);

  state.set_status(cdl::v1::ENTRY_TERMINATED);
  EXPECT_FALSE(CertificateStatusAt(cert, state, kNow).ok());
  EXPECT_EQ(CertificateStatusName(CertificateStatus::kExpired), "expired");
}

// ---- The park report --------------------------------------------------------

// Five enterprises of sip-park and noise the report must ignore:
//   alpha    annual 2026, amended (900 -> 1000.5), active reasonable cert
//   beta     all four quarters of 2026, one quarter with a limited cert
//   gamma    2026-Q1 only (partial), revoked cert; a 2025 disclosure
//   delta    2025 only: missing
//   epsilon  two current 2026 disclosures (duplicate), expired cert
// plus the park's own disclosure, an enterprise of another park, a park
// registration and a certificate of the superseded alpha disclosure.
ReportInput Dataset() {
  ReportInput in;
  in.park = kPark;
  in.period = "2026";
  in.now_ms = kNow;
  in.registrations = {
      Registration(1, "alpha", kPark, "Alpha Steel, \"Ltd\""),
      Registration(2, "beta", kPark),
      Registration(3, "gamma", kPark),
      Registration(4, "delta", kPark),
      Registration(5, "epsilon", kPark),
      Registration(6, "omega", "other-park"),
      Registration(7, "sip-park", "", "", cdl::v1::ROLE_PARK),
  };
  in.member_status = {{"alpha", cdl::v1::ENTRY_ACTIVE},
                      {"gamma", cdl::v1::ENTRY_SUSPENDED}};
  in.disclosures = {
      Disclosure(20, 5,
                 {"alpha", "2026", "900", "200", "150", "3000", "5000", "95"}),
      Disclosure(21, 6, {"beta", "2026-Q1", "10", "1", "", "", "100", "80"}),
      Disclosure(22, 6, {"beta", "2026-Q2", "20", "1", "", "", "100", "90"}),
      Disclosure(23, 6, {"beta", "2026-Q3", "30", "1", "", "", "100", "100"}),
      Disclosure(24, 6, {"beta", "2026-Q4", "40.25", "1", "", "", "100", "70"}),
      Disclosure(25, 6, {"gamma", "2025", "70", "2", "", "", "10", "50"}),
      Disclosure(26, 7, {"gamma", "2026-Q1", "50", "2", "", "", "10", "50"}),
      Disclosure(27, 7, {"delta", "2025", "400", "4", "", "", "", ""}),
      Disclosure(28, 7, {"epsilon", "2026", "5", "3", "", "", "", ""}),
      Disclosure(29, 8, {"epsilon", "2026", "7", "3", "", "", "", ""}),
      Disclosure(30, 8, {kPark, "2026", "99999", "1", "", "", "1", "0"}),
      Disclosure(31, 8, {"omega", "2026", "12345", "1", "", "", "", ""}),
      Disclosure(32, 9,
                 {"alpha", "2026", "1000.5", "200", "150", "3000", "5000", "95",
                  /*supersedes=*/20}),
  };
  in.certificates = {
      Certificate(40, 32, cdl::v1::ASSURANCE_REASONABLE, cdl::v1::ENTRY_ACTIVE),
      Certificate(41, 21, cdl::v1::ASSURANCE_LIMITED, cdl::v1::ENTRY_ACTIVE),
      Certificate(42, 26, cdl::v1::ASSURANCE_LIMITED, cdl::v1::ENTRY_REVOKED),
      Certificate(43, 29, cdl::v1::ASSURANCE_REASONABLE, cdl::v1::ENTRY_ACTIVE,
                  kNow - kDay),
      Certificate(44, 20, cdl::v1::ASSURANCE_LIMITED, cdl::v1::ENTRY_ACTIVE),
  };
  return in;
}

TEST(BuildReportTest, KnownParkGivesExactFigures) {
  absl::StatusOr<Report> report = BuildReport(Dataset());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_THAT(report->rows, SizeIs(5));
  const ReportRow& alpha = report->rows[0];
  const ReportRow& beta = report->rows[1];
  const ReportRow& delta = report->rows[2];
  const ReportRow& epsilon = report->rows[3];
  const ReportRow& gamma = report->rows[4];
  EXPECT_EQ(alpha.enterprise, "alpha");
  EXPECT_EQ(gamma.enterprise, "gamma");

  // alpha: the amendment's values, both scope 1 values, active certificate.
  EXPECT_EQ(alpha.coverage, Coverage::kDisclosed);
  EXPECT_EQ(alpha.member_status, "active");
  EXPECT_THAT(alpha.periods, ElementsAre("2026"));
  EXPECT_THAT(alpha.disclosure_ids, ElementsAre(Hex(32)));
  EXPECT_EQ(alpha.scope1_tco2e, "1000.5");
  EXPECT_EQ(alpha.scope2_location_tco2e, "200");
  EXPECT_EQ(alpha.scope2_market_tco2e, "150");
  EXPECT_EQ(alpha.scope3_tco2e, "3000");
  EXPECT_EQ(alpha.energy_mwh, "5000");
  EXPECT_EQ(alpha.renewable_share_pct, "95");
  EXPECT_EQ(alpha.certification, "active");
  EXPECT_EQ(alpha.assurance, "reasonable");
  ASSERT_THAT(alpha.certificates, SizeIs(1));  // not the superseded one's
  EXPECT_EQ(alpha.certificates[0].id, Hex(40));
  ASSERT_THAT(alpha.amendments, SizeIs(1));
  EXPECT_EQ(alpha.amendments[0].record_id, Hex(32));
  EXPECT_EQ(alpha.amendments[0].supersedes_id, Hex(20));
  EXPECT_EQ(alpha.amendments[0].scope1_tco2e, "1000.5");
  EXPECT_EQ(alpha.amendments[0].superseded_scope1_tco2e, "900");

  // beta: four quarters summed exactly, renewable share energy-weighted.
  EXPECT_EQ(beta.coverage, Coverage::kDisclosed);
  EXPECT_EQ(beta.member_status, "");
  EXPECT_THAT(beta.periods,
              ElementsAre("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"));
  EXPECT_EQ(beta.scope1_tco2e, "100.25");
  EXPECT_EQ(beta.scope2_location_tco2e, "4");
  EXPECT_EQ(beta.scope2_market_tco2e, "");
  EXPECT_EQ(beta.energy_mwh, "400");
  EXPECT_EQ(beta.renewable_share_pct, "85.00");
  EXPECT_EQ(beta.certification, "none");  // Q2..Q4 have no certificate
  EXPECT_EQ(beta.assurance, "limited");

  EXPECT_EQ(delta.coverage, Coverage::kMissing);
  EXPECT_THAT(delta.disclosure_ids, IsEmpty());
  EXPECT_EQ(delta.scope1_tco2e, "");
  EXPECT_EQ(delta.certification, "");

  // epsilon: the later of two unlinked disclosures, the other one named.
  EXPECT_EQ(epsilon.coverage, Coverage::kDisclosed);
  EXPECT_EQ(epsilon.scope1_tco2e, "7");
  EXPECT_THAT(epsilon.duplicate_ids, ElementsAre(Hex(28)));
  EXPECT_EQ(epsilon.certification, "expired");

  EXPECT_EQ(gamma.coverage, Coverage::kPartial);
  EXPECT_EQ(gamma.member_status, "suspended");
  EXPECT_THAT(gamma.periods, ElementsAre("2026-Q1"));
  EXPECT_EQ(gamma.scope1_tco2e, "50");
  EXPECT_EQ(gamma.certification, "revoked");

  const ParkSummary& park = report->park;
  EXPECT_EQ(park.enterprises, 5);
  EXPECT_EQ(park.disclosed, 3);
  EXPECT_EQ(park.partial, 1);
  EXPECT_EQ(park.missing, 1);
  EXPECT_EQ(park.certified, 1);
  EXPECT_DOUBLE_EQ(park.coverage_pct, 60.0);
  EXPECT_FALSE(park.coverage_target_met);
  EXPECT_DOUBLE_EQ(park.certified_pct, 20.0);
  EXPECT_EQ(park.scope1_tco2e, "1157.75");  // 1000.5 + 100.25 + 7 + 50
  EXPECT_EQ(park.scope2_location_tco2e, "209");
  EXPECT_EQ(park.scope2_market_tco2e, "150");
  EXPECT_EQ(park.scope3_tco2e, "3000");
  EXPECT_EQ(park.energy_mwh, "5410");
  // (5000*95 + 100*(80+90+100+70) + 10*50) / 5410 = 509500 / 5410
  ASSERT_TRUE(park.renewable_share_pct.has_value());
  EXPECT_NEAR(*park.renewable_share_pct, 94.17744916820702, 1e-9);
  EXPECT_TRUE(park.renewable_target_met);
}

TEST(BuildReportTest, CoverageTargetMetAtExactlyNinetyPercent) {
  ReportInput in;
  in.park = kPark;
  in.period = "2026";
  in.now_ms = kNow;
  for (int i = 0; i < 10; ++i) {
    const std::string member = "e" + std::to_string(i);
    in.registrations.push_back(Registration(1 + i, member, kPark));
    if (i < 9) {
      in.disclosures.push_back(Disclosure(
          20 + i, 5, {member, "2026", "1", "1", "", "", "10", "90"}));
    }
  }
  absl::StatusOr<Report> report = BuildReport(in);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_DOUBLE_EQ(report->park.coverage_pct, 90.0);
  EXPECT_TRUE(report->park.coverage_target_met);
  EXPECT_TRUE(report->park.renewable_target_met);
  EXPECT_EQ(report->park.certified, 0);

  in.disclosures.pop_back();
  report = BuildReport(in);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->park.coverage_target_met);
}

TEST(BuildReportTest, MonthsCountWhenTheyCoverTheYear) {
  ReportInput in;
  in.park = kPark;
  in.period = "2026";
  in.now_ms = kNow;
  in.registrations = {Registration(1, "alpha", kPark)};
  for (int m = 1; m <= 12; ++m) {
    std::string period = (m < 10 ? "2026-0" : "2026-") + std::to_string(m);
    in.disclosures.push_back(
        Disclosure(20 + m, 5, {"alpha", period, "0.1", "1", "", "", "", ""}));
  }
  absl::StatusOr<Report> report = BuildReport(in);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows[0].coverage, Coverage::kDisclosed);
  EXPECT_EQ(report->rows[0].scope1_tco2e, "1.2");
  EXPECT_EQ(report->park.energy_mwh, "0");
  EXPECT_FALSE(report->park.renewable_share_pct.has_value());
  EXPECT_FALSE(report->park.renewable_target_met);

  in.disclosures.pop_back();  // December missing: partial
  report = BuildReport(in);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->rows[0].coverage, Coverage::kPartial);
  EXPECT_EQ(report->rows[0].scope1_tco2e, "1.1");
}

TEST(BuildReportTest, ABadStoredValueNamesTheRecordAndField) {
  ReportInput in = Dataset();
  in.disclosures[1].body.mutable_disclosure()->set_energy_mwh("12,5");
  absl::StatusOr<Report> report = BuildReport(in);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr(Hex(21)));
  EXPECT_THAT(report.status().message(), HasSubstr("disclosure.energy_mwh"));

  in = Dataset();
  in.period = "2026-Q9";
  EXPECT_FALSE(BuildReport(in).ok());
}

TEST(ReportCsvTest, HeaderRowsAndTotalLine) {
  absl::StatusOr<Report> report = BuildReport(Dataset());
  ASSERT_TRUE(report.ok());
  const std::string csv = ReportCsv(*report);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  ASSERT_THAT(lines, SizeIs(8));  // header, 5 rows, TOTAL, "" after the last \n
  EXPECT_EQ(lines[7], "");
  EXPECT_EQ(lines[0],
            "enterprise,name,member_status,coverage,periods,disclosure_ids,"
            "scope1_tco2e,scope2_location_tco2e,scope2_market_tco2e,"
            "scope3_tco2e,energy_mwh,renewable_share_pct,certification,"
            "assurance,certificates,amended_ids,amended_scope1_tco2e,"
            "superseded_ids,superseded_scope1_tco2e,duplicate_ids,"
            "late,late_periods,days_late,coverage_pct,certified_pct,coverage_target_met,"
            "renewable_target_met");
  EXPECT_EQ(lines[1],
            "alpha,\"Alpha Steel, \"\"Ltd\"\"\",active,disclosed,2026," +
                Hex(32) + ",1000.5,200,150,3000,5000,95,active,reasonable," +
                Hex(40) + " active reasonable," + Hex(32) + ",1000.5," +
                Hex(20) + ",900,,no,,,,,,");
  EXPECT_EQ(lines[2].substr(0, 37), "beta,beta,,disclosed,2026-Q1; 2026-Q2");
  EXPECT_EQ(lines[3], "delta,delta,,missing,,,,,,,,,,,,,,,,,no,,,,,,");
  EXPECT_EQ(lines[6],
            "TOTAL,sip-park,,,2026,,1157.75,209,150,3000,5410,94.18,,,,,,,,,"
            "0,,,60.00,20.00,no,yes");
}

TEST(ReportJsonTest, HasRowsAndPark) {
  absl::StatusOr<Report> report = BuildReport(Dataset());
  ASSERT_TRUE(report.ok());
  nlohmann::json j = ReportJson(*report);
  ASSERT_TRUE(j["rows"].is_array());
  EXPECT_EQ(j["rows"].size(), 5u);
  EXPECT_EQ(j["rows"][0]["name"], "Alpha Steel, \"Ltd\"");
  EXPECT_EQ(j["rows"][0]["amendments"][0]["superseded_scope1_tco2e"], "900");
  EXPECT_TRUE(j["rows"][2]["scope1_tco2e"].is_null());
  EXPECT_EQ(j["rows"][4]["certificates"][0]["status"], "revoked");
  const nlohmann::json& park = j["park"];
  EXPECT_EQ(park["id"], "sip-park");
  EXPECT_EQ(park["coverage_pct"], 60.0);
  EXPECT_EQ(park["coverage_target_met"], false);
  EXPECT_EQ(park["renewable_share_pct"], 94.18);
  EXPECT_EQ(park["renewable_target_met"], true);
  EXPECT_EQ(park["totals"]["scope1_tco2e"], "1157.75");
  EXPECT_EQ(park["missing"], 1);
}

// ---- Reporting deadlines ----------------------------------------------------

int64_t Utc(int year, int month, int day, int hour = 0) {
  return absl::ToUnixMillis(absl::FromCivil(
      absl::CivilSecond(year, month, day, hour, 0, 0), absl::UTCTimeZone()));
}

TEST(DeadlineTest, PeriodEndAndDeadline) {
  EXPECT_EQ(*PeriodEndMs("2026"), Utc(2027, 1, 1));
  EXPECT_EQ(*PeriodEndMs("2026-Q1"), Utc(2026, 4, 1));
  EXPECT_EQ(*PeriodEndMs("2026-Q2"), Utc(2026, 7, 1));
  EXPECT_EQ(*PeriodEndMs("2026-Q4"), Utc(2027, 1, 1));
  EXPECT_EQ(*PeriodEndMs("2026-02"), Utc(2026, 3, 1));
  EXPECT_EQ(*PeriodEndMs("2026-12"), Utc(2027, 1, 1));
  EXPECT_EQ(*ReportingDeadlineMs("2025", 120), Utc(2026, 5, 1));
  EXPECT_EQ(*ReportingDeadlineMs("2025-Q2", 120), Utc(2025, 10, 29));
  EXPECT_EQ(*ReportingDeadlineMs("2025", 0), Utc(2026, 1, 1));
  EXPECT_FALSE(PeriodEndMs("2026-Q5").ok());
  EXPECT_FALSE(ReportingDeadlineMs("26", 120).ok());
}

// Period 2025, deadline 120 days after each period's end (2025 -> 2026-05-01,
// 2025-Q1 -> 2025-07-30, Q2 -> 2025-10-29, Q3 -> 2026-01-29, Q4 -> 2026-05-01).
ReportInput LateDataset() {
  ReportInput in;
  in.park = kPark;
  in.period = "2025";
  in.now_ms = kNow;
  in.registrations = {
      Registration(1, "on-time", kPark), Registration(2, "late-1ms", kPark),
      Registration(3, "late-10d", kPark), Registration(4, "quarters", kPark),
      Registration(5, "unknown", kPark), Registration(6, "missing", kPark)};
  auto at = [](LedgerRecord r, int64_t ms) {
    r.block_time_ms = ms;
    return r;
  };
  const int64_t deadline = Utc(2026, 5, 1);
  in.disclosures = {
      // Exactly at the deadline is on time; its late amendment changes nothing.
      at(Disclosure(20, 5, {"on-time", "2025", "10", "1", "", "", "", ""}),
         deadline),
      at(Disclosure(21, 6, {"late-1ms", "2025", "20", "1", "", "", "", ""}),
         deadline + 1),
      // The first disclosure decides, not the on-time-looking amendment
      // (ledger order) nor the later one.
      at(Disclosure(22, 7, {"late-10d", "2025", "30", "1", "", "", "", ""}),
         deadline + 10 * kDay),
      at(Disclosure(23, 8,
                    {"late-10d", "2025", "31", "1", "", "", "", "", 22}),
         deadline + 40 * kDay),
      at(Disclosure(24, 9,
                    {"on-time", "2025", "11", "1", "", "", "", "", 20}),
         deadline + 50 * kDay),
      at(Disclosure(30, 10, {"quarters", "2025-Q1", "1", "1", "", "", "", ""}),
         Utc(2025, 7, 29)),
      at(Disclosure(31, 11, {"quarters", "2025-Q2", "1", "1", "", "", "", ""}),
         Utc(2025, 11, 8)),
      at(Disclosure(32, 12, {"quarters", "2025-Q3", "1", "1", "", "", "", ""}),
         Utc(2026, 1, 29)),
      at(Disclosure(33, 13, {"quarters", "2025-Q4", "1", "1", "", "", "", ""}),
         Utc(2026, 5, 3, 12)),
      Disclosure(40, 14, {"unknown", "2025", "5", "1", "", "", "", ""}),
  };
  return in;
}

TEST(LateDisclosureTest, FirstDisclosureAfterTheDeadlineIsLate) {
  absl::StatusOr<Report> report = BuildReport(LateDataset());
  ASSERT_TRUE(report.ok()) << report.status();
  std::map<std::string, const ReportRow*> rows;
  for (const ReportRow& row : report->rows) rows[row.enterprise] = &row;
  ASSERT_THAT(rows, SizeIs(6));
  EXPECT_THAT(rows["on-time"]->late, IsEmpty());
  EXPECT_THAT(rows["unknown"]->late, IsEmpty());
  EXPECT_THAT(rows["missing"]->late, IsEmpty());
  EXPECT_EQ(rows["missing"]->coverage, Coverage::kMissing);

  ASSERT_THAT(rows["late-1ms"]->late, SizeIs(1));
  EXPECT_EQ(rows["late-1ms"]->late[0].period, "2025");
  EXPECT_EQ(rows["late-1ms"]->late[0].record_id, Hex(21));
  EXPECT_EQ(rows["late-1ms"]->late[0].deadline_ms, Utc(2026, 5, 1));
  EXPECT_EQ(rows["late-1ms"]->late[0].days_late, 1);  // rounded up

  ASSERT_THAT(rows["late-10d"]->late, SizeIs(1));
  EXPECT_EQ(rows["late-10d"]->late[0].record_id, Hex(22));  // not the amendment
  EXPECT_EQ(rows["late-10d"]->late[0].days_late, 10);
  EXPECT_EQ(rows["late-10d"]->scope1_tco2e, "31");  // values are the amendment's

  const ReportRow& q = *rows["quarters"];
  EXPECT_EQ(q.coverage, Coverage::kDisclosed);
  ASSERT_THAT(q.late, SizeIs(2));
  EXPECT_EQ(q.late[0].period, "2025-Q2");
  EXPECT_EQ(q.late[0].deadline_ms, Utc(2025, 10, 29));
  EXPECT_EQ(q.late[0].committed_ms, Utc(2025, 11, 8));
  EXPECT_EQ(q.late[0].days_late, 10);
  EXPECT_EQ(q.late[1].period, "2025-Q4");
  EXPECT_EQ(q.late[1].days_late, 3);  // 2.5 days

  EXPECT_EQ(report->park.late, 3);
  EXPECT_EQ(report->park.deadline_days, 120);

  // CSV: late, late_periods, days_late after duplicate_ids; TOTAL counts.
  const std::string csv = ReportCsv(*report);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  ASSERT_THAT(lines, SizeIs(9));  // header, 6 rows (by id), TOTAL, ""
  EXPECT_THAT(lines[1], ::testing::StartsWith("late-10d,"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(",yes,2025,10,,,,"));
  EXPECT_THAT(lines[2], ::testing::EndsWith(",yes,2025,1,,,,"));
  EXPECT_THAT(lines[4], ::testing::StartsWith("on-time,"));
  EXPECT_THAT(lines[4], ::testing::EndsWith(",no,,,,,,"));
  EXPECT_THAT(lines[5], ::testing::StartsWith("quarters,"));
  EXPECT_THAT(lines[5],
              ::testing::EndsWith(",yes,2025-Q2; 2025-Q4,10; 3,,,,"));
  // 71 = 11 (on-time's amendment) + 20 + 31 + 4 quarters of 1 + 5; 5 of 6
  // enterprises disclosed; 3 were late.
  EXPECT_EQ(lines[7],
            "TOTAL,sip-park,,,2025,,71,8,0,0,0,,,,,,,,,,3,,,83.33,0.00,no,no");

  // JSON: per row and for the park.
  nlohmann::json j = ReportJson(*report);
  EXPECT_EQ(j["park"]["late"], 3);
  EXPECT_EQ(j["park"]["deadline_days"], 120);
  const nlohmann::json& quarters = j["rows"][4];
  EXPECT_EQ(quarters["enterprise"], "quarters");
  EXPECT_EQ(quarters["late"], true);
  ASSERT_EQ(quarters["late_disclosures"].size(), 2u);
  EXPECT_EQ(quarters["late_disclosures"][0],
            (nlohmann::json{{"period", "2025-Q2"},
                            {"record_id", Hex(31)},
                            {"deadline", "2025-10-29T00:00:00.000Z"},
                            {"committed", "2025-11-08T00:00:00.000Z"},
                            {"days_late", 10}}));
  EXPECT_EQ(j["rows"][3]["enterprise"], "on-time");
  EXPECT_EQ(j["rows"][3]["late"], false);
  EXPECT_TRUE(j["rows"][3]["late_disclosures"].empty());
}

TEST(LateDisclosureTest, DeadlineDaysMoveTheDeadline) {
  ReportInput in = LateDataset();
  in.deadline_days = 0;  // due when the period ends: all of them are late
  absl::StatusOr<Report> report = BuildReport(in);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->park.late, 4);
  EXPECT_EQ(report->rows[3].enterprise, "on-time");
  ASSERT_THAT(report->rows[3].late, SizeIs(1));
  EXPECT_EQ(report->rows[3].late[0].days_late, 120);  // 2026-01-01 -> 2026-05-01
  EXPECT_THAT(report->rows[4].late, SizeIs(4));       // every quarter

  in.deadline_days = 200;  // nothing is late any more
  report = BuildReport(in);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->park.late, 0);
}

TEST(CsvFieldTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain text"), "plain text");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField("padded "), "\"padded \"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
}

// ---- Anomalies: scope 1 jumps -----------------------------------------------

TEST(DisclosureJumpsTest, BetweenConsecutivePeriodsAboveTheThresholdOnly) {
  std::vector<LedgerRecord> records = {
      Scope1(1, "alpha", "2025", "1000"),
      Scope1(2, "alpha", "2026", "1250"),  // +25 %
      Scope1(3, "beta", "2025", "1000"),
      Scope1(4, "beta", "2026", "1200"),  // exactly +20 %: no finding
      Scope1(5, "gamma", "2025", "1000"),
      Scope1(6, "gamma", "2026", "1200.1"),  // +20.01 %
      Scope1(7, "delta", "2025", "1000"),
      Scope1(8, "delta", "2026", "500"),  // -50 %
  };
  auto findings = FindDisclosureJumps(records, 20);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_THAT(*findings, SizeIs(3));
  const Finding& alpha = (*findings)[0];
  EXPECT_EQ(alpha.kind, cdl::v1::FINDING_ANOMALY);
  EXPECT_EQ(alpha.severity, "minor");
  EXPECT_EQ(alpha.subject, Id(2));
  EXPECT_THAT(alpha.related, ElementsAre(Id(1)));
  EXPECT_EQ(alpha.description,
            "scope 1 of alpha rose by 25.00 % from 2025 to 2026 (1000 -> "
            "1250 tCO2e), more than the 20 % threshold");
  EXPECT_EQ((*findings)[1].subject, Id(8));
  EXPECT_THAT((*findings)[1].description, HasSubstr("fell by 50.00 %"));
  EXPECT_EQ((*findings)[1].severity, "major");  // more than twice 20 %
  EXPECT_EQ((*findings)[2].subject, Id(6));
  EXPECT_THAT((*findings)[2].description, HasSubstr("rose by 20.01 %"));

  // A higher threshold keeps only the big fall.
  findings = FindDisclosureJumps(records, 30);
  ASSERT_TRUE(findings.ok());
  ASSERT_THAT(*findings, SizeIs(1));
  EXPECT_EQ((*findings)[0].subject, Id(8));
}

TEST(DisclosureJumpsTest, AmendmentsQuartersGapsAndZero) {
  std::vector<LedgerRecord> records = {
      Scope1(1, "alpha", "2026", "100"),
      Scope1(2, "alpha", "2026", "150", /*supersedes=*/1),  // +50 % amended
      Scope1(3, "alpha", "2025", "140"),  // vs the amendment: +7.1 %
      Scope1(4, "beta", "2026-Q1", "100"),
      Scope1(5, "beta", "2026-Q2", "130"),  // +30 %, quarters only
      Scope1(6, "beta", "2026", "1000"),    // a year is not a quarter
      Scope1(7, "gamma", "2023", "10"),
      Scope1(8, "gamma", "2026", "20"),  // nearest earlier period: 2023
      Scope1(9, "delta", "2025", "0"),
      Scope1(10, "delta", "2026", "5"),  // from zero
      Scope1(11, "eps", "2025", "0"),
      Scope1(12, "eps", "2026", "0"),  // no change
  };
  auto findings = FindDisclosureJumps(records, 20);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_THAT(*findings, SizeIs(4));
  EXPECT_EQ((*findings)[0].subject, Id(2));
  EXPECT_THAT((*findings)[0].related, ElementsAre(Id(1)));
  EXPECT_THAT((*findings)[0].description,
              HasSubstr("rose by 50.00 % for 2026 when amended"));
  EXPECT_EQ((*findings)[1].subject, Id(5));
  EXPECT_THAT((*findings)[1].description, HasSubstr("from 2026-Q1 to 2026-Q2"));
  EXPECT_EQ((*findings)[2].subject, Id(10));
  EXPECT_THAT((*findings)[2].description, HasSubstr("changed from zero"));
  EXPECT_EQ((*findings)[2].severity, "major");
  EXPECT_EQ((*findings)[3].subject, Id(8));
  EXPECT_THAT((*findings)[3].description, HasSubstr("from 2023 to 2026"));
}

TEST(DisclosureJumpsTest, ABadValueNamesTheRecord) {
  auto findings = FindDisclosureJumps({Scope1(1, "alpha", "2026", "1e3")}, 20);
  ASSERT_FALSE(findings.ok());
  EXPECT_THAT(findings.status().message(), HasSubstr(Hex(1)));
  EXPECT_THAT(findings.status().message(),
              HasSubstr("disclosure.scope1_tco2e"));
}

// ---- Anomalies: footprints --------------------------------------------------

LedgerRecord Footprint(int id, const std::string& uuid, int version,
                       const std::string& product, const std::string& pcf,
                       const std::string& start, const std::string& end,
                       const std::string& unit = "kilogram",
                       int supersedes = 0) {
  nlohmann::ordered_json fp = {
      {"id", uuid},
      {"specVersion", "2.0.0"},
      {"version", version},
      {"created", "2024-03-01T09:32:20Z"},
      {"status", "Active"},
      {"companyName", "Acme Steel Co."},
      {"companyIds", {"urn:uuid:51131fb5-42f2-4cd9-9a12-5e5e2d3a1a1b"}},
      {"productDescription", "Hot-rolled steel coil"},
      {"productIds", {product}},
      {"productCategoryCpc", "4121"},
      {"productNameCompany", "HRC-2mm"},
      {"comment", ""},
      {"pcf",
       {{"declaredUnit", unit},
        {"unitaryProductAmount", "1000.0"},
        {"pCfExcludingBiogenic", pcf},
        {"fossilGhgEmissions", pcf},
        {"fossilCarbonContent", "0"},
        {"biogenicCarbonContent", "0"},
        {"characterizationFactors", "AR6"},
        {"crossSectoralStandardsUsed", {"GHG Protocol Product standard"}},
        {"referencePeriodStart", start},
        {"referencePeriodEnd", end},
        {"exemptedEmissionsPercent", 1.5},
        {"exemptedEmissionsDescription", ""},
        {"packagingEmissionsIncluded", false},
        {"primaryDataShare", 62.5}}}};
  LedgerRecord r{Id(id), static_cast<uint64_t>(id), {}};
  r.body.set_author("acme-steel");
  r.body.mutable_product_footprint()->set_pact_json(fp.dump());
  if (supersedes != 0) {
    r.body.mutable_product_footprint()->set_supersedes(Id(supersedes));
  }
  return r;
}

constexpr char kGtin[] = "urn:gtin:4712345678904";
constexpr char kY22[] = "2022-01-01T00:00:00Z";
constexpr char kY23[] = "2023-01-01T00:00:00Z";
constexpr char kY24[] = "2024-01-01T00:00:00Z";

TEST(FootprintJumpsTest, SameProductAcrossPeriodsAndVersions) {
  std::vector<LedgerRecord> records = {
      // 2023 comes first in the ledger but is the later period.
      Footprint(2, "8c5b6a0e-1111-4d2b-9f3a-2b1c0d9e8f70", 1, kGtin, "1.5",
                kY23, kY24),
      Footprint(1, "8c5b6a0e-2222-4d2b-9f3a-2b1c0d9e8f70", 1, kGtin, "1.0",
                kY22, kY23),
      // Another product, a 10 % change: nothing.
      Footprint(3, "8c5b6a0e-3333-4d2b-9f3a-2b1c0d9e8f70", 1, "urn:gtin:1",
                "2.0", kY22, kY23),
      Footprint(4, "8c5b6a0e-4444-4d2b-9f3a-2b1c0d9e8f70", 1, "urn:gtin:1",
                "2.2", kY23, kY24),
      // Another unit is not comparable.
      Footprint(5, "8c5b6a0e-5555-4d2b-9f3a-2b1c0d9e8f70", 1, "urn:gtin:2", "1",
                kY22, kY23, "liter"),
      Footprint(6, "8c5b6a0e-6666-4d2b-9f3a-2b1c0d9e8f70", 1, "urn:gtin:2", "9",
                kY23, kY24, "kilogram"),
      // A superseding version that triples.
      Footprint(7, "8c5b6a0e-7777-4d2b-9f3a-2b1c0d9e8f70", 1, "urn:gtin:3", "1",
                kY22, kY23),
      Footprint(8, "8c5b6a0e-8888-4d2b-9f3a-2b1c0d9e8f70", 2, "urn:gtin:3", "3",
                kY22, kY23, "kilogram", /*supersedes=*/7),
  };
  auto findings = FindFootprintJumps(records, 20);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_THAT(*findings, SizeIs(2));
  EXPECT_EQ((*findings)[0].subject, Id(8));
  EXPECT_THAT((*findings)[0].related, ElementsAre(Id(7)));
  EXPECT_THAT((*findings)[0].description, HasSubstr("when superseded"));
  EXPECT_EQ((*findings)[1].subject, Id(2));
  EXPECT_THAT((*findings)[1].related, ElementsAre(Id(1)));
  EXPECT_THAT((*findings)[1].description,
              HasSubstr("pCfExcludingBiogenic of urn:gtin:4712345678904 "
                        "(acme-steel) rose by 50.00 %"));
}

TEST(FootprintJumpsTest, UnparsableFootprintNamesTheRecord) {
  LedgerRecord bad{Id(9), 9, {}};
  bad.body.mutable_product_footprint()->set_pact_json("{\"id\": 1}");
  auto findings = FindFootprintJumps({bad}, 20);
  ASSERT_FALSE(findings.ok());
  EXPECT_THAT(findings.status().message(), HasSubstr(Hex(9)));
  EXPECT_THAT(findings.status().message(),
              HasSubstr("product_footprint.pact_json"));
}

// ---- Anomalies: duplicates --------------------------------------------------

TEST(DuplicateDisclosuresTest, UnlinkedCurrentDisclosuresOfOnePeriod) {
  std::vector<LedgerRecord> records = {
      Scope1(1, "alpha", "2026", "10"),
      Scope1(2, "alpha", "2026", "11", /*supersedes=*/1),  // linked: fine
      Scope1(3, "beta", "2026", "10"),
      Scope1(4, "beta", "2026", "12"),
      Scope1(5, "beta", "2026", "12"),
      Scope1(6, "beta", "2025", "12"),  // another period
  };
  std::vector<Finding> findings = FindDuplicateDisclosures(records);
  ASSERT_THAT(findings, SizeIs(2));
  EXPECT_EQ(findings[0].kind, cdl::v1::FINDING_DUPLICATE_DISCLOSURE);
  EXPECT_EQ(findings[0].severity, "major");
  EXPECT_EQ(findings[0].subject, Id(4));
  EXPECT_THAT(findings[0].related, ElementsAre(Id(3), Id(5)));
  EXPECT_EQ(findings[1].subject, Id(5));
  EXPECT_THAT(findings[1].related, ElementsAre(Id(3), Id(4)));
  EXPECT_THAT(findings[0].description,
              HasSubstr("beta has 3 current disclosures for 2026"));

  EXPECT_THAT(FindDuplicateDisclosures({records[0], records[1]}), IsEmpty());
}

// ---- Anomalies: accreditation at issue --------------------------------------

AccreditationState Accreditation(int id, const std::string& jurisdiction,
                                 int64_t from_ms, int64_t until_ms,
                                 cdl::v1::EntryStatus status) {
  AccreditationState a{{Id(id), 3, {}}, {}};
  a.record.body.set_author("acc-cn");
  cdl::v1::Accreditation* acc = a.record.body.mutable_accreditation();
  acc->set_certifier("cn-verify");
  acc->add_standards("ISO 14064-3");
  acc->add_jurisdictions(jurisdiction);
  acc->set_valid_from_ms(from_ms);
  acc->set_valid_until_ms(until_ms);
  a.state.set_status(status);
  return a;
}

IssuedCertificate Issued() {
  IssuedCertificate issued;
  issued.certificate =
      Certificate(40, 20, cdl::v1::ASSURANCE_LIMITED, cdl::v1::ENTRY_ACTIVE)
          .record;
  issued.block_time_ms = kNow;
  return issued;
}

TEST(IssuedWhileAccreditedTest, CoveredIsFine) {
  IssuedCertificate issued = Issued();
  AccreditationState ok =
      Accreditation(50, "CN", kNow - kDay, kNow + kDay, cdl::v1::ENTRY_ACTIVE);
  issued.before_block = {ok};
  issued.after_block = {ok};
  EXPECT_FALSE(CheckIssuedWhileAccredited(issued).has_value());

  // Suspended before the block, reinstated in it before the certificate.
  issued.before_block[0].state.set_status(cdl::v1::ENTRY_SUSPENDED);
  EXPECT_FALSE(CheckIssuedWhileAccredited(issued).has_value());
}

TEST(IssuedWhileAccreditedTest, OutsideTheWindowJurisdictionOrWithoutAny) {
  IssuedCertificate issued = Issued();
  AccreditationState expired = Accreditation(
      50, "CN", kNow - 9 * kDay, kNow - kDay, cdl::v1::ENTRY_ACTIVE);
  issued.before_block = {expired};
  issued.after_block = {expired};
  std::optional<Finding> finding = CheckIssuedWhileAccredited(issued);
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->kind, cdl::v1::FINDING_OUT_OF_ACCREDITATION);
  EXPECT_EQ(finding->severity, "critical");
  EXPECT_EQ(finding->subject, Id(40));
  EXPECT_THAT(finding->related, ElementsAre(Id(50)));
  EXPECT_THAT(finding->description, HasSubstr("certificate by cn-verify"));
  EXPECT_THAT(finding->description, HasSubstr("expired"));

  AccreditationState abroad =
      Accreditation(51, "EU", kNow - kDay, kNow + kDay, cdl::v1::ENTRY_ACTIVE);
  issued.before_block = {abroad};
  issued.after_block = {abroad};
  finding = CheckIssuedWhileAccredited(issued);
  ASSERT_TRUE(finding.has_value());
  EXPECT_THAT(finding->description,
              HasSubstr("holds no accreditation for ISO 14064-3 in CN"));

  AccreditationState revoked =
      Accreditation(52, "CN", kNow - kDay, kNow + kDay, cdl::v1::ENTRY_REVOKED);
  issued.before_block = {revoked};
  issued.after_block = {revoked};
  EXPECT_TRUE(CheckIssuedWhileAccredited(issued).has_value());

  issued.before_block.clear();
  issued.after_block.clear();
  finding = CheckIssuedWhileAccredited(issued);
  ASSERT_TRUE(finding.has_value());
  EXPECT_THAT(finding->related, IsEmpty());
  EXPECT_THAT(finding->description, HasSubstr("holds no accreditation"));
}

// ---- Submitting
// ---------------------------------------------------------------

TEST(AlreadyRecordedTest, SameSubjectKindAndRelatedSet) {
  Finding f;
  f.kind = cdl::v1::FINDING_ANOMALY;
  f.subject = Id(2);
  f.related = {Id(1), Id(3)};
  f.severity = "minor";
  f.description = "scope 1 rose";
  LedgerRecord recorded{Id(90), 20, {}};
  *recorded.body.mutable_audit_finding() = f.ToProto();
  // Order of related ids and the wording do not matter.
  recorded.body.mutable_audit_finding()->clear_related();
  recorded.body.mutable_audit_finding()->add_related(Id(3));
  recorded.body.mutable_audit_finding()->add_related(Id(1));
  recorded.body.mutable_audit_finding()->set_description("other words");
  LedgerRecord other = recorded;
  other.id = Id(91);
  other.body.mutable_audit_finding()->set_kind(
      cdl::v1::FINDING_DUPLICATE_DISCLOSURE);

  EXPECT_EQ(AlreadyRecorded({other, recorded}, f), Id(90));
  EXPECT_EQ(AlreadyRecorded({other}, f), "");
  f.related = {Id(1)};
  EXPECT_EQ(AlreadyRecorded({recorded}, f), "");
}

TEST(FindingTest, ProtoAndJson) {
  Finding f;
  f.kind = cdl::v1::FINDING_DUPLICATE_DISCLOSURE;
  f.severity = "major";
  f.subject = Id(2);
  f.related = {Id(1)};
  f.description = "two disclosures";
  cdl::v1::AuditFinding proto = f.ToProto();
  EXPECT_EQ(proto.subject(), Id(2));
  EXPECT_EQ(proto.kind(), cdl::v1::FINDING_DUPLICATE_DISCLOSURE);
  ASSERT_EQ(proto.related_size(), 1);
  EXPECT_EQ(proto.related(0), Id(1));
  nlohmann::json j = FindingJson(f);
  EXPECT_EQ(j["kind"], "duplicate-disclosure");
  EXPECT_EQ(j["subject"], Hex(2));
  EXPECT_EQ(j["related"][0], Hex(1));
}

TEST(EquivocationTest, EachEvidenceRecordIsACriticalFindingToSign) {
  auto evidence = [](int id, const std::string& reporter, const std::string& accused, bool proposal) {
    LedgerRecord r{Id(id), 40, {}};
    r.body.set_author(reporter);
    cdl::consensus::v1::EvidenceMessage a, b;
    if (proposal) {
      a.mutable_proposal()->set_round(17);
      b.mutable_proposal()->set_round(17);
      b.mutable_proposal()->set_block_id("other");
    } else {
      a.mutable_vote()->set_round(9);
      b.mutable_vote()->set_round(9);
      b.mutable_vote()->set_block_id("other");
    }
    r.body.mutable_evidence()->set_validator(accused);
    r.body.mutable_evidence()->set_message_a(a.SerializeAsString());
    r.body.mutable_evidence()->set_message_b(b.SerializeAsString());
    return r;
  };
  std::vector<LedgerRecord> records = {evidence(7, "val-1", "val-4", true), evidence(8, "val-2", "val-3", false),
                                       Registration(9, "acme", kPark)};
  std::vector<Finding> findings = FindEquivocations(records);
  ASSERT_THAT(findings, SizeIs(2));
  EXPECT_EQ(findings[0].kind, cdl::v1::FINDING_EQUIVOCATION);
  EXPECT_EQ(findings[0].severity, "critical");
  EXPECT_EQ(findings[0].subject, Id(7));
  EXPECT_THAT(findings[0].related, IsEmpty());
  EXPECT_THAT(findings[0].description, HasSubstr("validator val-4 equivocated"));
  EXPECT_THAT(findings[0].description, HasSubstr("two different proposals for round 17"));
  EXPECT_THAT(findings[0].description, HasSubstr("reported by validator val-1"));
  EXPECT_THAT(findings[1].description, HasSubstr("two different votes in round 9"));
  EXPECT_EQ(FindingKindName(findings[1].kind), "equivocation");

  // What the regulator signs and submits: an AuditFinding about the evidence,
  // which the stateless checks accept.
  cdl::v1::AuditFinding proto = findings[0].ToProto();
  EXPECT_EQ(proto.kind(), cdl::v1::FINDING_EQUIVOCATION);
  EXPECT_EQ(proto.subject(), Id(7));
  cdl::verify::ParsedRecord parsed;
  parsed.body.set_chain_id("c");
  parsed.body.set_author("reg-cn");
  parsed.body.set_key_id(std::string(32, 'k'));
  parsed.body.set_sequence(1);
  *parsed.body.mutable_audit_finding() = proto;
  auto* sig = parsed.signed_record.add_signatures();
  sig->set_member("reg-cn");
  sig->set_key_id(std::string(32, 'k'));
  sig->set_signature("s");
  parsed.type = "audit_finding";
  EXPECT_TRUE(cdl::verify::CheckStateless(parsed, "c").ok()) << cdl::verify::CheckStateless(parsed, "c");

  // Recorded already: the same subject and kind.
  LedgerRecord recorded{Id(30), 41, {}};
  *recorded.body.mutable_audit_finding() = proto;
  EXPECT_EQ(AlreadyRecorded({recorded}, findings[0]), Id(30));
  EXPECT_EQ(AlreadyRecorded({recorded}, findings[1]), "");
}

}  // namespace
}  // namespace cdl::cli::audit
