#include "node/verify/authority.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "crypto/hash.h"
#include "crypto/str_cat.h"

namespace cdl::verify {
namespace {

using cdl::v1::StateEntry;

absl::Status Fail(std::string message) { return absl::FailedPreconditionError(std::move(message)); }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

template <typename Strings>
bool Contains(const Strings& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == value; });
}

template <typename Strings>
std::string Join(const Strings& list) {
  std::string out;
  for (const auto& s : list) out = out.empty() ? s : cdl::StrCat(out, ", ", s);
  return out;
}

// "<what> suspended since T" etc., or "" when ACTIVE.
std::string StatusProblem(std::string_view what, const StateEntry& status) {
  std::string at = FormatUtc(status.changed_ms());
  switch (status.status()) {
    case cdl::v1::ENTRY_ACTIVE: return "";
    case cdl::v1::ENTRY_SUSPENDED: return cdl::StrCat(what, " suspended since ", at);
    case cdl::v1::ENTRY_REVOKED: return cdl::StrCat(what, " revoked at ", at);
    case cdl::v1::ENTRY_TERMINATED: return cdl::StrCat(what, " terminated at ", at);
    case cdl::v1::ENTRY_SUPERSEDED: return cdl::StrCat(what, " superseded at ", at);
    default: return cdl::StrCat(what, " has no valid status");
  }
}

// "<what> not valid before T" / "<what> expired at T", or "" inside the window.
std::string WindowProblem(std::string_view what, int64_t from, int64_t until, int64_t time_ms) {
  if (time_ms < from) return cdl::StrCat(what, " not valid before ", FormatUtc(from), " (checked at ", FormatUtc(time_ms), ")");
  if (until != 0 && time_ms >= until) {
    return cdl::StrCat(what, " expired at ", FormatUtc(until), " (checked at ", FormatUtc(time_ms), ")");
  }
  return "";
}


}  // namespace

bool AccreditationCovers(const cdl::v1::Accreditation& a, std::string_view certifier, std::string_view standard,
                         std::string_view jurisdiction) {
  return a.certifier() == certifier && Contains(a.standards(), standard) && Contains(a.jurisdictions(), jurisdiction);
}

bool AgreementCovers(const cdl::v1::RecognitionAgreement& ra, std::string_view j1, std::string_view j2,
                     std::string_view standard) {
  bool between = j1 != j2 && ((ra.jurisdiction_a() == j1 && ra.jurisdiction_b() == j2) ||
                              (ra.jurisdiction_a() == j2 && ra.jurisdiction_b() == j1));
  return between && Contains(ra.standards(), standard);
}

std::string FormatUtc(int64_t ms) {
  int64_t secs = FloorDiv(ms, 1000);
  int millis = static_cast<int>(ms - secs * 1000);
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible
  // Low-Level Date Algorithms").
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day), static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  std::string out = buf;
  if (millis != 0) {
    std::snprintf(buf, sizeof(buf), ".%03d", millis);
    out += buf;
  }
  return out + "Z";
}

int64_t EffectiveValidUntil(int64_t record_valid_until_ms, const StateEntry& status) {
  return status.valid_until_ms() != 0 ? status.valid_until_ms() : record_valid_until_ms;
}

absl::Status CheckAccreditation(const cdl::v1::Accreditation& a, const StateEntry& status,
                                std::string_view certifier, std::string_view standard,
                                std::string_view jurisdiction, int64_t time_ms) {
  if (a.certifier() != certifier) {
    return Fail(cdl::StrCat("accreditation is of \"", a.certifier(), "\", not of \"", certifier, "\""));
  }
  std::string what = cdl::StrCat("accreditation of ", certifier, " for ", standard);
  if (!Contains(a.standards(), standard)) {
    return Fail(cdl::StrCat("accreditation of ", certifier, " does not cover standard \"", standard,
                            "\" (it covers ", Join(a.standards()), ")"));
  }
  if (!Contains(a.jurisdictions(), jurisdiction)) {
    return Fail(cdl::StrCat(what, " does not cover jurisdiction ", jurisdiction, " (it covers ",
                            Join(a.jurisdictions()), ")"));
  }
  if (std::string p = StatusProblem(what, status); !p.empty()) return Fail(std::move(p));
  if (std::string p = WindowProblem(cdl::StrCat(what, " in ", jurisdiction), a.valid_from_ms(),
                                    EffectiveValidUntil(a.valid_until_ms(), status), time_ms);
      !p.empty()) {
    return Fail(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status CheckAccredited(std::span<const AccreditationRef> accreditations, std::string_view certifier,
                             std::string_view standard, std::string_view jurisdiction, int64_t time_ms) {
  for (const AccreditationRef& ref : accreditations) {
    if (ref.accreditation == nullptr || ref.status == nullptr) {
      return absl::InvalidArgumentError("accreditation without its record or status");
    }
  }
  std::vector<std::string> reasons;
  for (const AccreditationRef& ref : accreditations) {
    if (!AccreditationCovers(*ref.accreditation, certifier, standard, jurisdiction)) continue;
    absl::Status s = CheckAccreditation(*ref.accreditation, *ref.status, certifier, standard, jurisdiction, time_ms);
    if (s.ok()) return s;
    reasons.emplace_back(s.message());
  }
  if (reasons.empty()) {
    return Fail(cdl::StrCat(certifier, " holds no accreditation for ", standard, " in ", jurisdiction));
  }
  std::string joined;
  for (const auto& r : reasons) joined = joined.empty() ? r : cdl::StrCat(joined, "; ", r);
  return Fail(std::move(joined));
}

absl::Status CheckRecognition(const cdl::v1::RecognitionAgreement& a, const StateEntry& status,
                              std::string_view issuer, std::string_view verifier, std::string_view standard,
                              int64_t time_ms) {
  std::string what = cdl::StrCat("recognition agreement ", a.jurisdiction_a(), "-", a.jurisdiction_b());
  bool forward = a.jurisdiction_a() == issuer && a.jurisdiction_b() == verifier;   // B accepts A's
  bool backward = a.jurisdiction_b() == issuer && a.jurisdiction_a() == verifier;  // A accepts B's
  if (!forward && !backward) {
    return Fail(cdl::StrCat(what, " does not link ", issuer, " to ", verifier));
  }
  bool direction_ok = a.direction() == cdl::v1::DIRECTION_MUTUAL ||
                      (backward && a.direction() == cdl::v1::DIRECTION_A_RECOGNISES_B) ||
                      (forward && a.direction() == cdl::v1::DIRECTION_B_RECOGNISES_A);
  if (!direction_ok) {
    return Fail(cdl::StrCat(what, " is one-way: ", verifier, " does not recognise certificates issued under ",
                            issuer));
  }
  if (!Contains(a.standards(), standard)) {
    return Fail(cdl::StrCat(what, " does not cover standard \"", standard, "\" (it covers ", Join(a.standards()), ")"));
  }
  if (std::string p = StatusProblem(what, status); !p.empty()) return Fail(std::move(p));
  if (std::string p = WindowProblem(what, a.valid_from_ms(), EffectiveValidUntil(a.valid_until_ms(), status), time_ms);
      !p.empty()) {
    return Fail(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status CheckRecognised(std::span<const AgreementRef> agreements, std::string_view issuer,
                             std::string_view verifier, std::string_view standard, int64_t time_ms) {
  if (issuer == verifier) return absl::OkStatus();
  for (const AgreementRef& ref : agreements) {
    if (ref.agreement == nullptr || ref.status == nullptr) {
      return absl::InvalidArgumentError("agreement without its record or status");
    }
  }
  std::vector<std::string> reasons;
  for (const AgreementRef& ref : agreements) {
    absl::Status s = CheckRecognition(*ref.agreement, *ref.status, issuer, verifier, standard, time_ms);
    if (s.ok()) return s;
    reasons.emplace_back(s.message());
  }
  if (reasons.empty()) {
    return Fail(cdl::StrCat("no recognition agreement makes certificates issued under ", issuer, " for ", standard,
                            " count in ", verifier));
  }
  std::string joined;
  for (const auto& r : reasons) joined = joined.empty() ? r : cdl::StrCat(joined, "; ", r);
  return Fail(std::move(joined));
}

absl::Status CheckCertificate(const cdl::v1::Certificate& c, const StateEntry& status, int64_t time_ms) {
  if (!status.subject_superseded_by().empty()) {
    return Fail(cdl::StrCat("certificate no longer applies: its subject ", cdl::crypto::HexEncode(c.subject()),
                            " was superseded by ", cdl::crypto::HexEncode(status.subject_superseded_by())));
  }
  if (std::string p = StatusProblem("certificate", status); !p.empty()) return Fail(std::move(p));
  if (std::string p = WindowProblem(cdl::StrCat("certificate (", c.standard(), ")"), c.valid_from_ms(),
                                    EffectiveValidUntil(c.valid_until_ms(), status), time_ms);
      !p.empty()) {
    return Fail(std::move(p));
  }
  return absl::OkStatus();
}

}  // namespace cdl::verify
