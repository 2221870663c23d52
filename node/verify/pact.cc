#include "node/verify/pact.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "node/verify/decimal.h"

namespace cdl::verify {
namespace {

using Json = nlohmann::ordered_json;

// This Abseil build keeps absl::string_view distinct from std::string_view.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ", "-joined names.
std::string JoinNames(std::span<const std::string_view> names) {
  return absl::StrJoin(names, ", ", [](std::string* out, std::string_view n) { out->append(n); });
}

// Enumerations of the data model (identical in 2.0.0 - 2.3.0).
constexpr std::string_view kDeclaredUnits[] = {"liter",         "kilogram",  "cubic meter",
                                               "kilowatt hour", "megajoule", "ton kilometer",
                                               "square meter"};
constexpr std::string_view kStatuses[] = {"Active", "Deprecated"};
constexpr std::string_view kCharacterizationFactors[] = {"AR6", "AR5"};
constexpr std::string_view kCrossSectoralStandardsUsed[] = {
    "GHG Protocol Product standard", "ISO Standard 14067", "ISO Standard 14044"};
constexpr std::string_view kRuleOperators[] = {"PEF", "EPD International", "Other"};
constexpr std::string_view kRegionsOrSubregions[] = {"Africa",
                                                     "Americas",
                                                     "Asia",
                                                     "Europe",
                                                     "Oceania",
                                                     "Australia and New Zealand",
                                                     "Central Asia",
                                                     "Eastern Asia",
                                                     "Eastern Europe",
                                                     "Latin America and the Caribbean",
                                                     "Melanesia",
                                                     "Micronesia",
                                                     "Northern Africa",
                                                     "Northern America",
                                                     "Northern Europe",
                                                     "Polynesia",
                                                     "South-eastern Asia",
                                                     "Southern Asia",
                                                     "Southern Europe",
                                                     "Sub-Saharan Africa",
                                                     "Western Asia",
                                                     "Western Europe"};
constexpr std::string_view kAssuranceCoverages[] = {"corporate level", "product line", "PCF system",
                                                    "product level"};
constexpr std::string_view kAssuranceLevels[] = {"limited", "reasonable"};
constexpr std::string_view kAssuranceBoundaries[] = {"Gate-to-Gate", "Cradle-to-Gate"};

constexpr std::string_view kDqiIndicators[] = {"technologicalDQR", "temporalDQR", "geographicalDQR",
                                               "completenessDQR", "reliabilityDQR"};

using Names = std::span<const std::string_view>;

bool OneOf(std::string_view value, Names names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

std::string Article(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return absl::StrCat("a ", v.type_name());
  }
}

bool IsIdentifier(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Member(std::string_view path, std::string_view key) {
  if (IsIdentifier(key)) return absl::StrCat(Sv(path), ".", Sv(key));
  return absl::StrCat(Sv(path), "[", QuoteForMessage(key), "]");
}

std::string Element(std::string_view path, size_t index) {
  return absl::StrCat(Sv(path), "[", index, "]");
}

// One line for JSON library messages: "[json.exception.x.y] " dropped, control
// and non-ASCII bytes escaped, length bounded.
std::string CleanLibraryMessage(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    if (size_t end = what.find("] "); end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
  }
  std::string quoted = QuoteForMessage(what.substr(0, 200));
  // Reuse QuoteForMessage's escaping, without the quotes it adds.
  return quoted.substr(1, quoted.size() - 2);
}

// ---------------------------------------------------------------------------
// Scalar syntaxes.

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 4122 textual form, any version, either case.
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

std::string UuidProblem(std::string_view s, bool require_v4) {
  if (!IsUuid(s)) {
    return absl::StrCat(QuoteForMessage(s),
                        " is not a UUID (expected 8-4-4-4-12 hex digits, e.g. "
                        "\"f4b1225a-bd44-4c8e-861d-079e4e1dfd69\")");
  }
  if (require_v4) {
    char variant = static_cast<char>(std::tolower(static_cast<unsigned char>(s[19])));
    if (s[14] != '4' || !(variant == '8' || variant == '9' || variant == 'a' || variant == 'b')) {
      return absl::StrCat(QuoteForMessage(s),
                          " is not a version 4 UUID (PACT footprint ids are random UUIDs: the "
                          "13th hex digit must be 4 and the 17th one of 8, 9, a, b)");
    }
  }
  return "";
}

// RFC 8141: "urn:" NID ":" NSS with optional r-/q-/f-components.
std::string UrnProblem(std::string_view s) {
  std::string bad = absl::StrCat(
      QuoteForMessage(s),
      " is not a URN (expected \"urn:<namespace>:<id>\", e.g. \"urn:gtin:4712345060507\")");
  if (s.size() < 4) return bad;
  for (size_t i = 0; i < 4; ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != "urn:"[i]) return bad;
  }
  std::string_view rest = s.substr(4);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return bad;
  std::string_view nid = rest.substr(0, colon);
  if (nid.size() < 2 || nid.size() > 32 || nid.front() == '-' || nid.back() == '-') return bad;
  for (char c : nid) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return bad;
  }
  std::string_view nss = rest.substr(colon + 1);
  if (nss.empty()) return bad;
  // pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; NSS also
  // allows "/"; "?" and "#" start the optional components, whose characters
  // are pchar, "/" and "?".
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/";
  bool in_components = false;
  for (size_t i = 0; i < nss.size(); ++i) {
    char c = nss[i];
    if (std::isalnum(static_cast<unsigned char>(c)) || kAllowed.find(c) != std::string_view::npos) {
      continue;
    }
    if (c == '%') {
      if (i + 2 >= nss.size() || !IsHex(nss[i + 1]) || !IsHex(nss[i + 2])) return bad;
      i += 2;
      continue;
    }
    if (c == '?' || c == '#') {
      if (i == 0 && !in_components) return bad;
      in_components = true;
      continue;
    }
    return bad;
  }
  return "";
}

// A point in time from a PACT DateTime: seconds since 1970-01-01T00:00:00Z
// and the fraction digits (trailing zeros removed) so that comparisons are
// exact for any number of fraction digits.
struct DateTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string fraction;
  int64_t seconds = 0;
};

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void ComputeSeconds(DateTime& t) {
  t.seconds =
      DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

int CompareDateTime(const DateTime& a, const DateTime& b) {
  if (a.seconds != b.seconds) return a.seconds < b.seconds ? -1 : 1;
  size_t n = std::max(a.fraction.size(), b.fraction.size());
  for (size_t i = 0; i < n; ++i) {
    char ca = i < a.fraction.size() ? a.fraction[i] : '0';
    char cb = i < b.fraction.size() ? b.fraction[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

bool ReadDigits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00|-00:00)" (ISO 8601 / RFC
// 3339 extended format, UTC as PACT requires). Sets `problem` otherwise.
std::optional<DateTime> ParseDateTime(std::string_view s, std::string* problem) {
  const std::string example = "e.g. \"2020-03-01T00:00:00Z\"";
  DateTime t;
  bool shape = s.size() >= 19 && ReadDigits(s, 0, 4, &t.year) && s[4] == '-' &&
               ReadDigits(s, 5, 2, &t.month) && s[7] == '-' && ReadDigits(s, 8, 2, &t.day) &&
               s[10] == 'T' && ReadDigits(s, 11, 2, &t.hour) && s[13] == ':' &&
               ReadDigits(s, 14, 2, &t.minute) && s[16] == ':' && ReadDigits(s, 17, 2, &t.second);
  if (!shape) {
    *problem =
        absl::StrCat(QuoteForMessage(s), " is not an ISO 8601 date-time in UTC (", example, ")");
    return std::nullopt;
  }
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) {
      *problem =
          absl::StrCat(QuoteForMessage(s), " has an empty fraction of a second (", example, ")");
      return std::nullopt;
    }
    t.fraction = std::string(rest.substr(1, n - 1));
    t.fraction.erase(t.fraction.find_last_not_of('0') + 1);
    rest.remove_prefix(n);
  }
  if (rest.empty()) {
    *problem = absl::StrCat(QuoteForMessage(s),
                            " has no time zone; PACT date-times are UTC (end it with \"Z\", ",
                            example, ")");
    return std::nullopt;
  }
  if (rest != "Z" && rest != "+00:00" && rest != "-00:00") {
    bool offset = rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':';
    *problem =
        offset ? absl::StrCat(QuoteForMessage(s),
                              " is not in UTC (convert it and end it with \"Z\", ", example, ")")
               : absl::StrCat(QuoteForMessage(s), " is not an ISO 8601 date-time in UTC (", example,
                              ")");
    return std::nullopt;
  }
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) ||
      t.hour > 23 || t.minute > 59 || t.second > 60) {
    *problem = absl::StrCat(QuoteForMessage(s), " is not a valid calendar date and time");
    return std::nullopt;
  }
  ComputeSeconds(t);
  return t;
}

// `t` plus `years` calendar years; 29 February moves to 1 March in a common
// year (the later, more permissive reading of "+ 3 years").
DateTime AddYears(DateTime t, int years) {
  t.year += years;
  if (t.month == 2 && t.day == 29 && !IsLeapYear(t.year)) {
    t.month = 3;
    t.day = 1;
  }
  ComputeSeconds(t);
  return t;
}

std::string FormatDateTime(const DateTime& t) {
  auto two = [](int v) { return absl::StrCat(v < 10 ? "0" : "", v); };
  std::string year = absl::StrCat(t.year);
  year.insert(0, year.size() < 4 ? 4 - year.size() : 0, '0');
  return absl::StrCat(year, "-", two(t.month), "-", two(t.day), "T", two(t.hour), ":",
                      two(t.minute), ":", two(t.second), t.fraction.empty() ? "" : ".", t.fraction,
                      "Z");
}

// ---------------------------------------------------------------------------
// Field checks. Each reports into the issue list and returns the value when
// it is present and well-formed.

enum class Need { kOptional, kRequired };

enum class Sign { kAny, kNonNegative, kPositive, kNonPositive };

class Checker {
 public:
  Checker(std::vector<PactIssue>* issues, PactRules rules, std::string spec_version)
      : issues_(issues), rules_(rules), spec_version_(std::move(spec_version)) {}

  PactRules rules() const { return rules_; }

  void Add(std::string path, std::string message) {
    issues_->push_back({std::move(path), std::move(message)});
  }

  // Why a property introduced as mandatory by a later version is required.
  std::string Since(std::string_view version) const {
    return absl::StrCat("required by PACT ", Sv(version), " and later; specVersion is ",
                        QuoteForMessage(spec_version_));
  }

  // The property `key` of `obj`, or nullptr (reported when `need` says so).
  const Json* Get(const Json& obj, std::string_view path, std::string_view key, Need need,
                  std::string_view why = "required") {
    auto it = obj.find(std::string(key));
    if (it != obj.end()) return &*it;
    if (need == Need::kRequired) Add(Member(path, key), absl::StrCat("is missing (", Sv(why), ")"));
    return nullptr;
  }

  const std::string* String(const Json& obj, std::string_view path, std::string_view key, Need need,
                            bool non_empty, std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return nullptr;
    if (!v->is_string()) {
      Add(Member(path, key), absl::StrCat("must be a string, not ", Article(*v)));
      return nullptr;
    }
    const std::string& s = v->get_ref<const std::string&>();
    if (non_empty && s.empty()) {
      Add(Member(path, key), "must not be empty");
      return nullptr;
    }
    return &s;
  }

  const std::string* Enum(const Json& obj, std::string_view path, std::string_view key, Need need,
                          Names allowed, std::string_view what, std::string_view why = "required") {
    const std::string* s = String(obj, path, key, need, /*non_empty=*/false, why);
    if (s == nullptr) return nullptr;
    if (!OneOf(*s, allowed)) {
      Add(Member(path, key), absl::StrCat(QuoteForMessage(*s), " is not ", Sv(what),
                                          " (use one of: ", JoinNames(allowed), ")"));
      return nullptr;
    }
    return s;
  }

  std::optional<Decimal> DecimalValue(const Json& obj, std::string_view path, std::string_view key,
                                      Need need, Sign sign, std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return std::nullopt;
    std::string field = Member(path, key);
    if (v->is_number()) {
      Add(field,
          absl::StrCat("must be a decimal string such as \"", v->dump(), "\", not the JSON number ",
                       v->dump(), " (PACT keeps decimals exact as strings)"));
      return std::nullopt;
    }
    if (!v->is_string()) {
      Add(field, absl::StrCat("must be a decimal string such as \"12.5\", not ", Article(*v)));
      return std::nullopt;
    }
    const std::string& s = v->get_ref<const std::string&>();
    if (std::string problem = DecimalProblem(s, /*allow_negative=*/true); !problem.empty()) {
      Add(field, problem);
      return std::nullopt;
    }
    absl::StatusOr<Decimal> d = Decimal::Parse(s);
    if (!d.ok()) return std::nullopt;  // unreachable: DecimalProblem accepted it
    switch (sign) {
      case Sign::kAny:
        break;
      case Sign::kNonNegative:
        if (d->IsNegative()) {
          Add(field, absl::StrCat(QuoteForMessage(s), " must not be negative"));
          return std::nullopt;
        }
        break;
      case Sign::kPositive:
        if (d->IsNegative() || d->IsZero()) {
          Add(field, absl::StrCat(QuoteForMessage(s), " must be greater than 0"));
          return std::nullopt;
        }
        break;
      case Sign::kNonPositive:
        if (!d->IsNegative() && !d->IsZero()) {
          Add(field, absl::StrCat(QuoteForMessage(s),
                                  " must be 0 or negative (a withdrawal is written as a "
                                  "negative number, e.g. \"-1.5\")"));
          return std::nullopt;
        }
        break;
    }
    return *d;
  }

  // A JSON number in [lo, hi].
  std::optional<double> Number(const Json& obj, std::string_view path, std::string_view key,
                               Need need, double lo, double hi, std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return std::nullopt;
    std::string field = Member(path, key);
    if (v->is_string()) {
      Add(field,
          absl::StrCat("must be a JSON number between ", lo, " and ", hi, ", not the string ",
                       QuoteForMessage(v->get_ref<const std::string&>())));
      return std::nullopt;
    }
    if (!v->is_number()) {
      Add(field, absl::StrCat("must be a number between ", lo, " and ", hi, ", not ", Article(*v)));
      return std::nullopt;
    }
    double d = v->get<double>();
    if (!(d >= lo && d <= hi)) {
      Add(field, absl::StrCat(v->dump(), " is out of range (must be between ", lo, " and ", hi,
                              " inclusive)"));
      return std::nullopt;
    }
    return d;
  }

  std::optional<bool> Bool(const Json& obj, std::string_view path, std::string_view key, Need need,
                           std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Add(Member(path, key), absl::StrCat("must be true or false, not ", Article(*v)));
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<DateTime> Time(const Json& obj, std::string_view path, std::string_view key,
                               Need need) {
    const std::string* s = String(obj, path, key, need, /*non_empty=*/false);
    if (s == nullptr) return std::nullopt;
    std::string problem;
    std::optional<DateTime> t = ParseDateTime(*s, &problem);
    if (!t) Add(Member(path, key), problem);
    return t;
  }

  const Json* Object(const Json& obj, std::string_view path, std::string_view key, Need need,
                     std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      Add(Member(path, key), absl::StrCat("must be an object, not ", Article(*v)));
      return nullptr;
    }
    return v;
  }

  const Json* Array(const Json& obj, std::string_view path, std::string_view key, Need need,
                    bool non_empty, std::string_view why = "required") {
    const Json* v = Get(obj, path, key, need, why);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      Add(Member(path, key), absl::StrCat("must be an array, not ", Article(*v)));
      return nullptr;
    }
    if (non_empty && v->empty()) {
      Add(Member(path, key), "must not be an empty array");
      return nullptr;
    }
    return v;
  }

  // A set of strings: each element a string for which `problem` returns "",
  // no duplicates. Returns the valid elements.
  template <typename ProblemFn>
  std::vector<std::string> StringSet(const Json& obj, std::string_view path, std::string_view key,
                                     Need need, bool non_empty, ProblemFn problem,
                                     std::string_view why = "required") {
    std::vector<std::string> values;
    const Json* arr = Array(obj, path, key, need, non_empty, why);
    if (arr == nullptr) return values;
    std::string base = Member(path, key);
    std::map<std::string_view, size_t> seen;  // value -> first index
    for (size_t i = 0; i < arr->size(); ++i) {
      const Json& e = (*arr)[i];
      std::string at = Element(base, i);
      if (!e.is_string()) {
        Add(at, absl::StrCat("must be a string, not ", Article(e)));
        continue;
      }
      const std::string& s = e.get_ref<const std::string&>();
      if (std::string p = problem(s); !p.empty()) {
        Add(at, p);
        continue;
      }
      auto [first, inserted] = seen.emplace(s, i);
      if (!inserted) {
        Add(at, absl::StrCat(QuoteForMessage(s), " repeats ", Element(base, first->second),
                             " (this is a set: list each value once)"));
        continue;
      }
      values.push_back(s);
    }
    return values;
  }

 private:
  std::vector<PactIssue>* issues_;
  PactRules rules_;
  std::string spec_version_;
};

std::string NonEmptyProblem(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

// ---------------------------------------------------------------------------
// CarbonFootprint.

struct CarbonFootprintFacts {
  std::optional<DateTime> reference_period_end;
};

// The reference period "includes the beginning of calendar year 2025 or
// later" exactly when it ends after 2025-01-01T00:00:00Z (the end excludes).
bool RequiresPost2024Fields(const std::optional<DateTime>& reference_period_end) {
  if (!reference_period_end) return false;
  DateTime boundary;
  boundary.year = 2025;
  boundary.month = 1;
  boundary.day = 1;
  ComputeSeconds(boundary);
  return CompareDateTime(*reference_period_end, boundary) > 0;
}

void CheckDqi(Checker& c, const Json& dqi, std::string_view path, Need need, std::string_view why) {
  c.Number(dqi, path, "coveragePercent", need, 0, 100, why);
  for (std::string_view indicator : kDqiIndicators) {
    c.Number(dqi, path, indicator, need, 1, 3, why);
  }
}

void CheckAssurance(Checker& c, const Json& assurance, std::string_view path) {
  // `assurance` came with the 2.0.1 drafts, released in 2.1.0.
  if (c.rules() == PactRules::k2_0) {
    c.Bool(assurance, path, "assurance", Need::kOptional);
  } else {
    c.Bool(assurance, path, "assurance", Need::kRequired, c.Since("2.1.0"));
  }
  c.Enum(assurance, path, "coverage", Need::kOptional, kAssuranceCoverages,
         "an assurance coverage");
  c.Enum(assurance, path, "level", Need::kOptional, kAssuranceLevels, "an assurance level");
  c.Enum(assurance, path, "boundary", Need::kOptional, kAssuranceBoundaries,
         "an assurance boundary");
  c.String(assurance, path, "providerName", Need::kRequired, /*non_empty=*/false);
  c.Time(assurance, path, "completedAt", Need::kOptional);
  c.String(assurance, path, "standardName", Need::kOptional, false);
  c.String(assurance, path, "comments", Need::kOptional, false);
}

void CheckProductOrSectorSpecificRules(Checker& c, const Json& pcf, std::string_view path) {
  const Json* rules = c.Array(pcf, path, "productOrSectorSpecificRules", Need::kOptional,
                              /*non_empty=*/false);
  if (rules == nullptr) return;
  std::string base = Member(path, "productOrSectorSpecificRules");
  for (size_t i = 0; i < rules->size(); ++i) {
    const Json& rule = (*rules)[i];
    std::string at = Element(base, i);
    if (!rule.is_object()) {
      c.Add(at, absl::StrCat("must be an object with operator and ruleNames, not ", Article(rule)));
      continue;
    }
    const std::string* op =
        c.Enum(rule, at, "operator", Need::kRequired, kRuleOperators, "a rule operator");
    c.StringSet(rule, at, "ruleNames", Need::kRequired, /*non_empty=*/true, NonEmptyProblem);
    if (op == nullptr) continue;
    if (*op == "Other") {
      c.String(rule, at, "otherOperatorName", Need::kRequired, /*non_empty=*/true,
               "required when operator is \"Other\"");
    } else if (rule.contains("otherOperatorName")) {
      c.Add(Member(at, "otherOperatorName"),
            absl::StrCat("must not be defined when operator is ", QuoteForMessage(*op),
                         " (only with operator \"Other\")"));
    }
  }
}

CarbonFootprintFacts CheckCarbonFootprint(Checker& c, const Json& pcf, std::string_view path) {
  CarbonFootprintFacts facts;
  const bool v2_1 = c.rules() != PactRules::k2_0;
  const bool v2_2 = c.rules() == PactRules::k2_2 || c.rules() == PactRules::k2_3;
  const bool v2_3 = c.rules() == PactRules::k2_3;

  // Whether the "O*" properties are mandatory depends on the reference period;
  // read it quietly first (its problems are reported in table order below).
  std::optional<DateTime> end_peek;
  if (auto it = pcf.find("referencePeriodEnd"); it != pcf.end() && it->is_string()) {
    std::string ignored;
    end_peek = ParseDateTime(it->get_ref<const std::string&>(), &ignored);
  }
  const bool post2024 = RequiresPost2024Fields(end_peek);
  const Need o_star = post2024 ? Need::kRequired : Need::kOptional;
  const std::string o_star_why =
      post2024 ? absl::StrCat("required because the reference period ends ",
                              FormatDateTime(*end_peek), ", i.e. includes 2025 or later")
               : "";

  c.Enum(pcf, path, "declaredUnit", Need::kRequired, kDeclaredUnits, "a PACT declared unit");
  c.DecimalValue(pcf, path, "unitaryProductAmount", Need::kRequired, Sign::kPositive);
  if (v2_3) c.DecimalValue(pcf, path, "productMassPerDeclaredUnit", Need::kOptional, Sign::kAny);
  c.DecimalValue(pcf, path, "pCfExcludingBiogenic", Need::kRequired, Sign::kNonNegative);
  c.DecimalValue(pcf, path, "pCfIncludingBiogenic", o_star, Sign::kAny, o_star_why);
  c.DecimalValue(pcf, path, "fossilGhgEmissions", Need::kRequired, Sign::kNonNegative);
  c.DecimalValue(pcf, path, "fossilCarbonContent", Need::kRequired, Sign::kNonNegative);
  c.DecimalValue(pcf, path, "biogenicCarbonContent", Need::kRequired, Sign::kNonNegative);
  c.DecimalValue(pcf, path, "dLucGhgEmissions", o_star, Sign::kNonNegative, o_star_why);
  c.DecimalValue(pcf, path, "landManagementGhgEmissions", o_star, Sign::kAny, o_star_why);
  c.DecimalValue(pcf, path, "otherBiogenicGhgEmissions", o_star, Sign::kNonNegative, o_star_why);
  c.DecimalValue(pcf, path, "iLucGhgEmissions", Need::kOptional, Sign::kNonNegative);
  c.DecimalValue(pcf, path, "biogenicCarbonWithdrawal", o_star, Sign::kNonPositive, o_star_why);
  c.DecimalValue(pcf, path, "aircraftGhgEmissions", Need::kOptional, Sign::kNonNegative);
  c.Enum(pcf, path, "characterizationFactors", Need::kRequired, kCharacterizationFactors,
         "an IPCC characterization factor version");
  if (v2_2) {
    c.StringSet(
        pcf, path, "ipccCharacterizationFactorsSources", Need::kRequired, /*non_empty=*/true,
        [](const std::string& s) -> std::string {
          bool ok =
              s.size() > 2 && s.compare(0, 2, "AR") == 0 &&
              std::all_of(s.begin() + 2, s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
          return ok ? ""
                    : absl::StrCat(QuoteForMessage(s),
                                   " is not an IPCC assessment report (expected \"AR\" and "
                                   "a number, e.g. \"AR6\")");
        },
        c.Since("2.2.0"));
  }
  c.StringSet(pcf, path, "crossSectoralStandardsUsed", Need::kRequired, /*non_empty=*/false,
              [](const std::string& s) -> std::string {
                if (OneOf(s, kCrossSectoralStandardsUsed)) return "";
                return absl::StrCat(QuoteForMessage(s),
                                    " is not a cross-sectoral standard (use one of: ",
                                    JoinNames(kCrossSectoralStandardsUsed), ")");
              });
  if (v2_3) {
    c.StringSet(pcf, path, "crossSectoralStandards", Need::kRequired, /*non_empty=*/true,
                NonEmptyProblem, c.Since("2.3.0"));
  }
  CheckProductOrSectorSpecificRules(c, pcf, path);
  c.String(pcf, path, "biogenicAccountingMethodology", o_star, /*non_empty=*/true, o_star_why);
  // Marked optional in 2.0.0 by mistake; mandatory from the 2.0.1 drafts on
  // (released in 2.1.0).
  if (v2_1) {
    c.String(pcf, path, "boundaryProcessesDescription", Need::kRequired, false, c.Since("2.1.0"));
  } else {
    c.String(pcf, path, "boundaryProcessesDescription", Need::kOptional, false);
  }
  std::optional<DateTime> start = c.Time(pcf, path, "referencePeriodStart", Need::kRequired);
  facts.reference_period_end = c.Time(pcf, path, "referencePeriodEnd", Need::kRequired);
  if (start && facts.reference_period_end &&
      CompareDateTime(*facts.reference_period_end, *start) <= 0) {
    c.Add(Member(path, "referencePeriodEnd"),
          absl::StrCat(QuoteForMessage(FormatDateTime(*facts.reference_period_end)),
                       " must be after referencePeriodStart (", FormatDateTime(*start),
                       "); the end is excluded from the period"));
  }

  // Geography: at most one property sets the scope (none means global).
  c.String(pcf, path, "geographyCountrySubdivision", Need::kOptional, false);
  if (auto it = pcf.find("geographyCountrySubdivision"); it != pcf.end() && it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    bool ok = s.size() >= 4 && s.size() <= 6 && std::isupper(static_cast<unsigned char>(s[0])) &&
              std::isupper(static_cast<unsigned char>(s[1])) && s[2] == '-' &&
              std::all_of(s.begin() + 3, s.end(), [](char ch) {
                return std::isupper(static_cast<unsigned char>(ch)) || (ch >= '0' && ch <= '9');
              });
    if (!ok) {
      c.Add(Member(path, "geographyCountrySubdivision"),
            absl::StrCat(QuoteForMessage(s),
                         " is not an ISO 3166-2 subdivision code (e.g. \"US-NY\", \"FR-89\")"));
    }
  }
  if (const std::string* cc = c.String(pcf, path, "geographyCountry", Need::kOptional, false)) {
    bool ok = cc->size() == 2 && std::isupper(static_cast<unsigned char>((*cc)[0])) &&
              std::isupper(static_cast<unsigned char>((*cc)[1]));
    if (!ok) {
      c.Add(Member(path, "geographyCountry"),
            absl::StrCat(QuoteForMessage(*cc),
                         " is not an ISO 3166-1 alpha-2 country code (two capital letters, "
                         "e.g. \"FR\")"));
    }
  }
  c.Enum(pcf, path, "geographyRegionOrSubregion", Need::kOptional, kRegionsOrSubregions,
         "a UN M49 region or subregion");
  int geographies = static_cast<int>(pcf.contains("geographyRegionOrSubregion")) +
                    static_cast<int>(pcf.contains("geographyCountry")) +
                    static_cast<int>(pcf.contains("geographyCountrySubdivision"));
  if (geographies > 1) {
    c.Add(std::string(path),
          absl::StrCat("defines ", geographies,
                       " of geographyRegionOrSubregion, geographyCountry and "
                       "geographyCountrySubdivision; define at most one (the footprint's "
                       "geographic scope; none means global)"));
  }

  if (const Json* sources = c.Array(pcf, path, "secondaryEmissionFactorSources", Need::kOptional,
                                    /*non_empty=*/true)) {
    std::string base = Member(path, "secondaryEmissionFactorSources");
    for (size_t i = 0; i < sources->size(); ++i) {
      const Json& source = (*sources)[i];
      std::string at = Element(base, i);
      if (!source.is_object()) {
        c.Add(at, absl::StrCat("must be an object with name and version, not ", Article(source)));
        continue;
      }
      c.String(source, at, "name", Need::kRequired, /*non_empty=*/true);
      c.String(source, at, "version", Need::kRequired, /*non_empty=*/true);
    }
  }
  c.Number(pcf, path, "exemptedEmissionsPercent", Need::kRequired, 0, 5);
  c.String(pcf, path, "exemptedEmissionsDescription", Need::kRequired, false);
  std::optional<bool> packaging = c.Bool(pcf, path, "packagingEmissionsIncluded", Need::kRequired);
  c.DecimalValue(pcf, path, "packagingGhgEmissions", Need::kOptional, Sign::kNonNegative);
  if (packaging && !*packaging && pcf.contains("packagingGhgEmissions")) {
    c.Add(Member(path, "packagingGhgEmissions"),
          "must not be defined when packagingEmissionsIncluded is false");
  }
  c.String(pcf, path, "allocationRulesDescription", Need::kOptional, false);
  c.String(pcf, path, "uncertaintyAssessmentDescription", Need::kOptional, false);
  c.Number(pcf, path, "primaryDataShare", o_star, 0, 100, o_star_why);
  if (const Json* dqi = c.Object(pcf, path, "dqi", o_star, o_star_why)) {
    CheckDqi(c, *dqi, Member(path, "dqi"), o_star, o_star_why);
  }
  if (!post2024 && !pcf.contains("primaryDataShare") && !pcf.contains("dqi")) {
    c.Add(std::string(path),
          "defines neither primaryDataShare nor dqi; at least one of them is required");
  }
  if (const Json* assurance = c.Object(pcf, path, "assurance", Need::kOptional)) {
    CheckAssurance(c, *assurance, Member(path, "assurance"));
  }
  return facts;
}

// ---------------------------------------------------------------------------
// ProductFootprint.

void CheckValidityPeriod(Checker& c, const Json& obj, std::string_view path,
                         const std::optional<DateTime>& start, const std::optional<DateTime>& end,
                         const std::optional<DateTime>& reference_end) {
  bool has_start = obj.contains("validityPeriodStart");
  bool has_end = obj.contains("validityPeriodEnd");
  if (has_start != has_end) {
    c.Add(Member(path, has_start ? "validityPeriodEnd" : "validityPeriodStart"),
          "is missing (validityPeriodStart and validityPeriodEnd are defined together)");
    return;
  }
  if (!start || !end) return;
  if (CompareDateTime(*end, *start) <= 0) {
    c.Add(Member(path, "validityPeriodEnd"),
          absl::StrCat(QuoteForMessage(FormatDateTime(*end)),
                       " must be after validityPeriodStart (", FormatDateTime(*start), ")"));
  }
  if (!reference_end) return;
  if (CompareDateTime(*start, *reference_end) < 0) {
    c.Add(Member(path, "validityPeriodStart"),
          absl::StrCat(QuoteForMessage(FormatDateTime(*start)),
                       " must not be before pcf.referencePeriodEnd (",
                       FormatDateTime(*reference_end), ")"));
  }
  DateTime latest = AddYears(*reference_end, 3);
  if (CompareDateTime(*end, latest) > 0) {
    c.Add(Member(path, "validityPeriodEnd"),
          absl::StrCat(QuoteForMessage(FormatDateTime(*end)),
                       " is more than 3 years after pcf.referencePeriodEnd (latest allowed: ",
                       FormatDateTime(latest), ")"));
  }
}

void CheckFootprint(const Json& obj, std::string_view path, std::vector<PactIssue>* issues) {
  if (!obj.is_object()) {
    issues->push_back(
        {std::string(path), absl::StrCat("must be a ProductFootprint object, not ", Article(obj))});
    return;
  }
  // specVersion picks the rules. Without one, the rules common to all 2.x
  // versions still find the other problems; with an unknown one, none apply.
  PactRules rules = PactRules::k2_0;
  std::string spec_version;
  std::string sv_path = Member(path, "specVersion");
  if (auto it = obj.find("specVersion"); it == obj.end()) {
    issues->push_back({sv_path, "is missing (required, e.g. \"2.3.0\")"});
  } else if (!it->is_string()) {
    issues->push_back(
        {sv_path, absl::StrCat("must be a string such as \"2.3.0\", not ", Article(*it))});
  } else {
    spec_version = it->get<std::string>();
    absl::StatusOr<PactRules> r = PactRulesForSpecVersion(spec_version);
    if (!r.ok()) {
      issues->push_back({sv_path, std::string(r.status().message())});
      return;
    }
    rules = *r;
  }
  Checker c(issues, rules, spec_version);

  if (const std::string* id = c.String(obj, path, "id", Need::kRequired, false)) {
    if (std::string p = UuidProblem(*id, /*require_v4=*/true); !p.empty()) {
      c.Add(Member(path, "id"), p);
    }
  }
  c.StringSet(obj, path, "precedingPfIds", Need::kOptional, /*non_empty=*/true,
              [](const std::string& s) { return UuidProblem(s, /*require_v4=*/false); });
  if (const Json* version = c.Get(obj, path, "version", Need::kRequired)) {
    bool ok = version->is_number_unsigned()
                  ? version->get<uint64_t>() <= 2147483647u
                  : version->is_number_integer() && version->get<int64_t>() >= 0 &&
                        version->get<int64_t>() <= 2147483647;
    if (!ok) {
      c.Add(Member(path, "version"),
            absl::StrCat("must be an integer from 0 to 2147483647, not ",
                         version->is_number() ? version->dump() : Article(*version)));
    }
  }
  std::optional<DateTime> created = c.Time(obj, path, "created", Need::kRequired);
  std::optional<DateTime> updated = c.Time(obj, path, "updated", Need::kOptional);
  if (created && updated && CompareDateTime(*updated, *created) <= 0) {
    c.Add(Member(path, "updated"),
          absl::StrCat(QuoteForMessage(FormatDateTime(*updated)), " must be after created (",
                       FormatDateTime(*created), ")"));
  }
  c.Enum(obj, path, "status", Need::kRequired, kStatuses, "a footprint status");
  c.String(obj, path, "statusComment", Need::kOptional, false);
  std::optional<DateTime> validity_start =
      c.Time(obj, path, "validityPeriodStart", Need::kOptional);
  std::optional<DateTime> validity_end = c.Time(obj, path, "validityPeriodEnd", Need::kOptional);
  c.String(obj, path, "companyName", Need::kRequired, /*non_empty=*/true);
  c.StringSet(obj, path, "companyIds", Need::kRequired, /*non_empty=*/true, UrnProblem);
  c.String(obj, path, "productDescription", Need::kRequired, false);
  c.StringSet(obj, path, "productIds", Need::kRequired, /*non_empty=*/true, UrnProblem);
  if (rules == PactRules::k2_3) {
    c.StringSet(obj, path, "productClassifications", Need::kOptional, /*non_empty=*/true,
                UrnProblem);
  }
  c.String(obj, path, "productCategoryCpc", Need::kRequired, /*non_empty=*/true);
  c.String(obj, path, "productNameCompany", Need::kRequired, /*non_empty=*/true);
  c.String(obj, path, "comment", Need::kRequired, false);
  std::optional<DateTime> reference_end;
  if (const Json* pcf = c.Object(obj, path, "pcf", Need::kRequired)) {
    reference_end = CheckCarbonFootprint(c, *pcf, Member(path, "pcf")).reference_period_end;
  }
  if (const Json* extensions = c.Array(obj, path, "extensions", Need::kOptional,
                                       /*non_empty=*/true)) {
    std::string base = Member(path, "extensions");
    for (size_t i = 0; i < extensions->size(); ++i) {
      if (!(*extensions)[i].is_object()) {
        c.Add(Element(base, i),
              absl::StrCat("must be a DataModelExtension object, not ", Article((*extensions)[i])));
      }
    }
  }
  CheckValidityPeriod(c, obj, path, validity_start, validity_end, reference_end);
}

std::string Summarize(const std::vector<PactIssue>& issues) {
  constexpr size_t kShown = 5;
  std::vector<std::string> lines;
  for (size_t i = 0; i < issues.size() && i < kShown; ++i) {
    lines.push_back(FormatPactIssue(issues[i]));
  }
  std::string out = absl::StrJoin(lines, "; ");
  if (issues.size() > kShown) absl::StrAppend(&out, "; and ", issues.size() - kShown, " more");
  return out;
}

std::string StringOr(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> StringsOr(const Json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const Json& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

// Copies the indexed fields of an object that passed validation.
absl::StatusOr<PactFootprint> ExtractValid(const Json& obj) {
  PactFootprint fp;
  fp.id = StringOr(obj, "id");
  fp.spec_version = StringOr(obj, "specVersion");
  const Json& version = obj.at("version");
  fp.version = version.is_number_unsigned() ? static_cast<int64_t>(version.get<uint64_t>())
                                            : version.get<int64_t>();
  fp.created = StringOr(obj, "created");
  fp.updated = StringOr(obj, "updated");
  fp.status = StringOr(obj, "status");
  fp.company_name = StringOr(obj, "companyName");
  fp.product_description = StringOr(obj, "productDescription");
  fp.product_name_company = StringOr(obj, "productNameCompany");
  fp.product_category_cpc = StringOr(obj, "productCategoryCpc");
  const Json& pcf = obj.at("pcf");
  fp.declared_unit = StringOr(pcf, "declaredUnit");
  fp.unitary_product_amount = StringOr(pcf, "unitaryProductAmount");
  fp.pcf_excluding_biogenic = StringOr(pcf, "pCfExcludingBiogenic");
  fp.pcf_including_biogenic = StringOr(pcf, "pCfIncludingBiogenic");
  fp.reference_period_start = StringOr(pcf, "referencePeriodStart");
  fp.reference_period_end = StringOr(pcf, "referencePeriodEnd");
  fp.geography_country = StringOr(pcf, "geographyCountry");
  fp.geography_region_or_subregion = StringOr(pcf, "geographyRegionOrSubregion");
  fp.geography_country_subdivision = StringOr(pcf, "geographyCountrySubdivision");
  fp.company_ids = StringsOr(obj, "companyIds");
  fp.product_ids = StringsOr(obj, "productIds");
  fp.preceding_pf_ids = StringsOr(obj, "precedingPfIds");
  fp.canonical_json = obj.dump();
  return fp;
}

// Checks the structure of the raw text before a DOM is built: nesting depth
// (stopping at once), duplicate keys (all reported, with paths) and JSON
// syntax, including UTF-8 validity of strings.
class StructureScanner : public nlohmann::json_sax<Json> {
 public:
  explicit StructureScanner(std::vector<PactIssue>* issues) : issues_(issues) {}

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool string(string_t&) override { return Scalar(); }
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override { return Open(/*array=*/false); }
  bool start_array(std::size_t) override { return Open(/*array=*/true); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& key) override {
    Frame& top = frames_.back();
    top.key = key;
    if (!top.keys.insert(key).second) {
      issues_->push_back(
          {Member(top.path, key), absl::StrCat("duplicate key ", QuoteForMessage(key),
                                               " (each property may appear only once)")});
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    issues_->push_back({"$", absl::StrCat("is not valid JSON: ", CleanLibraryMessage(ex.what()),
                                          " (byte ", position, ")")});
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    size_t next_index = 0;
    std::string path;
    std::string key;
    std::set<std::string> keys;
  };

  // Path of the value now starting; advances the parent's array index.
  std::string ChildPath() {
    if (frames_.empty()) return "$";
    Frame& top = frames_.back();
    if (top.array) return Element(top.path, top.next_index++);
    return Member(top.path, top.key);
  }

  bool Scalar() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().next_index;
    return true;
  }

  bool Open(bool array) {
    std::string path = ChildPath();
    if (frames_.size() >= static_cast<size_t>(kMaxPactJsonDepth)) {
      issues_->push_back({path, absl::StrCat("nests arrays/objects deeper than ", kMaxPactJsonDepth,
                                             " levels (refused)")});
      return false;
    }
    Frame frame;
    frame.array = array;
    frame.path = std::move(path);
    frames_.push_back(std::move(frame));
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  std::vector<PactIssue>* issues_;
  std::vector<Frame> frames_;
};

// Size check, structure scan and DOM parse. Returns nullopt (with issues) when
// the text cannot be used.
std::optional<Json> ParseJsonText(std::string_view text, std::vector<PactIssue>* issues) {
  if (text.size() > kMaxPactDocumentBytes) {
    issues->push_back({"$", absl::StrCat("the input is ", text.size(), " bytes; the limit is ",
                                         kMaxPactDocumentBytes, " bytes (1 MiB)")});
    return std::nullopt;
  }
  // nlohmann's lexer takes a raw NUL byte for the end of the input and would
  // silently ignore whatever follows it; JSON text never contains one.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    issues->push_back({"$", absl::StrCat("is not valid JSON: raw NUL byte (byte ", nul, ")")});
    return std::nullopt;
  }
  StructureScanner scanner(issues);
  size_t before = issues->size();
  bool ok = Json::sax_parse(text.begin(), text.end(), &scanner);
  if (!ok || issues->size() != before) return std::nullopt;
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    issues->push_back({"$", "is not valid JSON"});
    return std::nullopt;
  }
  return doc;
}

void AddFootprint(const Json& obj, const std::string& path, PactParseResult* result) {
  std::vector<PactIssue> issues = ValidateFootprint(obj, path);
  if (!issues.empty()) {
    result->issues.insert(result->issues.end(), std::make_move_iterator(issues.begin()),
                          std::make_move_iterator(issues.end()));
    return;
  }
  absl::StatusOr<PactFootprint> fp = ExtractValid(obj);
  if (!fp.ok()) {
    result->issues.push_back({path, std::string(fp.status().message())});
    return;
  }
  result->footprints.push_back(*std::move(fp));
}

void AddFootprints(const Json& arr, const std::string& path, PactParseResult* result) {
  if (arr.empty()) {
    result->issues.push_back({path, "is an empty array; expected at least one ProductFootprint"});
    return;
  }
  for (size_t i = 0; i < arr.size(); ++i) AddFootprint(arr[i], Element(path, i), result);
}

void CapIssues(std::vector<PactIssue>* issues) {
  if (issues->size() <= kMaxPactIssues) return;
  size_t more = issues->size() - kMaxPactIssues;
  issues->resize(kMaxPactIssues);
  issues->push_back({"$", absl::StrCat(more, " more problems not shown")});
}

}  // namespace

std::string FormatPactIssue(const PactIssue& issue) {
  return absl::StrCat(issue.path, ": ", issue.message);
}

absl::StatusOr<PactRules> PactRulesForSpecVersion(std::string_view spec_version) {
  // major.minor.patch with an optional -YYYYMMDD draft suffix (the pattern of
  // the specification's OpenAPI schema: ^\d+\.\d+\.\d+(-\d{8})?$).
  int parts[3] = {0, 0, 0};
  std::string_view rest = spec_version;
  bool ok = true;
  for (int i = 0; i < 3 && ok; ++i) {
    size_t n = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    ok = n > 0 && n <= 9 &&
         std::from_chars(rest.data(), rest.data() + n, parts[i]).ec == std::errc();
    rest.remove_prefix(n);
    if (ok && i < 2) {
      ok = !rest.empty() && rest.front() == '.';
      if (ok) rest.remove_prefix(1);
    }
  }
  if (ok && !rest.empty()) {
    ok = rest.size() == 9 && rest.front() == '-' &&
         std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(QuoteForMessage(spec_version), " is not a version string like \"2.3.0\""));
  }
  if (parts[0] == 2 && parts[1] >= 0 && parts[1] <= 3) {
    static constexpr PactRules kRules[] = {PactRules::k2_0, PactRules::k2_1, PactRules::k2_2,
                                           PactRules::k2_3};
    return kRules[parts[1]];
  }
  return absl::InvalidArgumentError(
      absl::StrCat(QuoteForMessage(spec_version),
                   " is not a PACT version this validator knows (it applies the rules of "
                   "2.0.x, 2.1.x, 2.2.x and 2.3.x)"));
}

std::vector<PactIssue> ValidateFootprint(const nlohmann::ordered_json& obj,
                                         std::string_view path_prefix) {
  std::vector<PactIssue> issues;
  try {
    CheckFootprint(obj, path_prefix.empty() ? "$" : path_prefix, &issues);
  } catch (const std::exception& e) {
    // Only allocation failures can get here; report rather than crash.
    issues.push_back({std::string(path_prefix),
                      absl::StrCat("could not be checked: ", CleanLibraryMessage(e.what()))});
  }
  return issues;
}

absl::StatusOr<PactFootprint> ExtractFootprint(const nlohmann::ordered_json& obj) {
  std::vector<PactIssue> issues = ValidateFootprint(obj, "$");
  if (!issues.empty()) return absl::InvalidArgumentError(Summarize(issues));
  try {
    return ExtractValid(obj);
  } catch (const std::exception& e) {
    // dump() refuses strings that are not UTF-8 (only possible for objects
    // built in code, never for parsed text).
    return absl::InvalidArgumentError(
        absl::StrCat("$: cannot be stored: ", CleanLibraryMessage(e.what())));
  }
}

PactParseResult ParsePactDocument(std::string_view text) {
  PactParseResult result;
  try {
    std::optional<Json> doc = ParseJsonText(text, &result.issues);
    if (doc) {
      if (doc->is_object() && doc->contains("data") && !doc->contains("specVersion")) {
        const Json& data = (*doc)["data"];
        if (data.is_object() && data.contains("pfs") && !data.contains("specVersion")) {
          // A PF Response Event (CloudEvent) carrying the footprints in data.pfs.
          const Json& pfs = data["pfs"];
          if (pfs.is_array()) {
            AddFootprints(pfs, "$.data.pfs", &result);
          } else {
            result.issues.push_back(
                {"$.data.pfs",
                 absl::StrCat("must be an array of ProductFootprint objects, not ", Article(pfs))});
          }
        } else if (data.is_object()) {
          AddFootprint(data, "$.data", &result);
        } else if (data.is_array()) {
          AddFootprints(data, "$.data", &result);
        } else {
          result.issues.push_back(
              {"$.data", absl::StrCat("must be a ProductFootprint object or an array of them, "
                                      "not ",
                                      Article(data))});
        }
      } else if (doc->is_object()) {
        AddFootprint(*doc, "$", &result);
      } else if (doc->is_array()) {
        AddFootprints(*doc, "$", &result);
      } else {
        result.issues.push_back(
            {"$", absl::StrCat("must be a ProductFootprint object, an array of them or a PACT "
                               "API response {\"data\": ...}, not ",
                               Article(*doc))});
      }
    }
  } catch (const std::exception& e) {
    result.issues.push_back(
        {"$", absl::StrCat("could not be read: ", CleanLibraryMessage(e.what()))});
  }
  CapIssues(&result.issues);
  return result;
}

absl::StatusOr<PactFootprint> ParsePactFootprint(std::string_view text) {
  std::vector<PactIssue> issues;
  try {
    std::optional<Json> doc = ParseJsonText(text, &issues);
    if (doc && !doc->is_object()) {
      issues.push_back(
          {"$", absl::StrCat("must be one ProductFootprint object, not ", Article(*doc))});
    } else if (doc) {
      issues = ValidateFootprint(*doc, "$");
      if (issues.empty()) return ExtractValid(*doc);
    }
  } catch (const std::exception& e) {
    issues.push_back({"$", absl::StrCat("could not be read: ", CleanLibraryMessage(e.what()))});
  }
  return absl::InvalidArgumentError(Summarize(issues));
}

}  // namespace cdl::verify
