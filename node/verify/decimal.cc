#include "node/verify/decimal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace cdl::verify {
namespace {

// This Abseil build keeps absl::string_view distinct from std::string_view.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits a string IsDecimal accepts into sign, integer digits and fraction
// digits.
struct DecimalParts {
  bool negative;
  std::string_view integer;
  std::string_view fraction;
};

DecimalParts Split(std::string_view s) {
  DecimalParts parts{false, s, {}};
  if (!parts.integer.empty() && parts.integer.front() == '-') {
    parts.negative = true;
    parts.integer.remove_prefix(1);
  }
  if (size_t dot = parts.integer.find('.'); dot != std::string_view::npos) {
    parts.fraction = parts.integer.substr(dot + 1);
    parts.integer = parts.integer.substr(0, dot);
  }
  return parts;
}

// "1e-3" -> "0.001" when the text is a decimal mantissa with a small integer
// exponent; "" otherwise. Only used to suggest a fix.
std::string ExpandExponent(std::string_view s) {
  size_t e = s.find_first_of("eE");
  if (e == std::string_view::npos) return "";
  std::string_view mantissa = s.substr(0, e);
  std::string_view exponent = s.substr(e + 1);
  if (!mantissa.empty() && mantissa.front() == '+') mantissa.remove_prefix(1);
  if (!exponent.empty() && exponent.front() == '+') exponent.remove_prefix(1);
  int exp = 0;
  auto [ptr, ec] = std::from_chars(exponent.data(), exponent.data() + exponent.size(), exp);
  if (ec != std::errc() || ptr != exponent.data() + exponent.size() || exp < -30 || exp > 30) {
    return "";
  }
  absl::StatusOr<Decimal> m = Decimal::Parse(mantissa);
  if (!m.ok()) return "";
  // Multiply by 10^exp exactly through the text: move the dot.
  std::string canonical = m->ToString();
  DecimalParts parts = Split(canonical);
  std::string digits = absl::StrCat(Sv(parts.integer), Sv(parts.fraction));
  int64_t scale = static_cast<int64_t>(parts.fraction.size()) - exp;
  if (scale < 0) {
    digits.append(static_cast<size_t>(-scale), '0');
    scale = 0;
  }
  if (static_cast<int64_t>(digits.size()) <= scale) {
    digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
  }
  std::string text = digits;
  if (scale > 0) text.insert(text.size() - static_cast<size_t>(scale), 1, '.');
  absl::StatusOr<Decimal> result = Decimal::Parse(absl::StrCat(parts.negative ? "-" : "", text));
  return result.ok() ? result->ToString() : "";
}

// Compares two non-negative magnitudes given as digit strings with scales.
int CompareMagnitude(const std::string& a, int64_t a_scale, const std::string& b, int64_t b_scale) {
  // Integer-part lengths decide unless they are equal (digit strings carry no
  // leading zeros, except the single "0").
  int64_t a_int = static_cast<int64_t>(a.size()) - a_scale;
  int64_t b_int = static_cast<int64_t>(b.size()) - b_scale;
  bool a_zero = a == "0";
  bool b_zero = b == "0";
  if (a_zero || b_zero) return a_zero == b_zero ? 0 : (a_zero ? -1 : 1);
  if (a_int != b_int) return a_int < b_int ? -1 : 1;
  // Same magnitude order: compare digit by digit, padding the shorter
  // fraction with zeros.
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    char ca = i < a.size() ? a[i] : '0';
    char cb = i < b.size() ? b[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

// Digit string of `digits` * 10^(to_scale - scale), to_scale >= scale.
std::string Rescale(const std::string& digits, int64_t scale, int64_t to_scale) {
  std::string out = digits;
  out.append(static_cast<size_t>(to_scale - scale), '0');
  return out;
}

// Sum of two digit strings (same scale).
std::string AddDigits(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(std::max(a.size(), b.size()) + 1);
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int da = i < a.size() ? a[a.size() - 1 - i] - '0' : 0;
    int db = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
    int sum = da + db + carry;
    out.push_back(static_cast<char>('0' + sum % 10));
    carry = sum / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// a - b for digit strings of the same scale with a >= b.
std::string SubtractDigits(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(a.size());
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int da = a[a.size() - 1 - i] - '0' - borrow;
    int db = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
    borrow = da < db ? 1 : 0;
    out.push_back(static_cast<char>('0' + da + borrow * 10 - db));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// |value| as mantissa in [1, 10) and a power of ten; value must not be zero.
std::pair<double, int64_t> MantissaExponent(const Decimal& value) {
  std::string text = value.Abs().ToString();
  DecimalParts parts = Split(text);
  std::string digits = absl::StrCat(Sv(parts.integer), Sv(parts.fraction));
  size_t first = digits.find_first_not_of('0');
  int64_t exponent = static_cast<int64_t>(parts.integer.size()) - 1 - static_cast<int64_t>(first);
  std::string mantissa = digits.substr(first, 1);
  std::string rest = digits.substr(first + 1, 18);
  if (!rest.empty()) absl::StrAppend(&mantissa, ".", rest);
  double m = 0;
  std::from_chars(mantissa.data(), mantissa.data() + mantissa.size(), m);
  return {m, exponent};
}

}  // namespace

bool IsDecimal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return IsDigits(s);
  return IsDigits(s.substr(0, dot)) && IsDigits(s.substr(dot + 1));
}

std::string DecimalProblem(std::string_view s, bool allow_negative) {
  std::string quoted = QuoteForMessage(s);
  if (IsDecimal(s)) {
    if (!allow_negative && s.front() == '-' &&
        s.find_first_not_of("-0.") != std::string_view::npos) {
      return absl::StrCat(quoted, " must not be negative");
    }
    return "";
  }
  if (s.empty()) return "is an empty string (write a number such as \"12.5\")";
  absl::string_view stripped = absl::StripAsciiWhitespace(Sv(s));
  std::string_view trimmed(stripped.data(), stripped.size());
  if (trimmed.size() != s.size() && IsDecimal(trimmed)) {
    return absl::StrCat(quoted, " is not a decimal (remove the spaces, e.g. ",
                        QuoteForMessage(trimmed), ")");
  }
  if (trimmed.find_first_of(" \t\r\n") != std::string_view::npos &&
      IsDecimal(absl::StrReplaceAll(Sv(trimmed), {{" ", ""}}))) {
    return absl::StrCat(quoted, " is not a decimal (write it without spaces, e.g. ",
                        QuoteForMessage(absl::StrReplaceAll(Sv(trimmed), {{" ", ""}})), ")");
  }
  if (s.front() == '+' && IsDecimal(s.substr(1))) {
    return absl::StrCat(quoted, " is not a decimal (drop the \"+\", e.g. ",
                        QuoteForMessage(s.substr(1)), ")");
  }
  if (s.find(',') != std::string_view::npos) {
    std::string with_dot = absl::StrReplaceAll(Sv(s), {{",", "."}});
    if (IsDecimal(with_dot)) {
      return absl::StrCat(quoted, " is not a decimal (use a dot, e.g. ", QuoteForMessage(with_dot),
                          ")");
    }
    std::string without = absl::StrReplaceAll(Sv(s), {{",", ""}});
    if (IsDecimal(without)) {
      return absl::StrCat(quoted, " is not a decimal (remove the thousands separators, e.g. ",
                          QuoteForMessage(without), ")");
    }
  }
  if (std::string expanded = ExpandExponent(s); !expanded.empty()) {
    return absl::StrCat(quoted, " is not a decimal (write it without an exponent, e.g. ",
                        QuoteForMessage(expanded), ")");
  }
  std::string_view body = s.front() == '-' ? s.substr(1) : s;
  if (!body.empty() && (body.front() == '.' || body.back() == '.')) {
    std::string fixed(s);
    if (body.back() == '.') fixed.push_back('0');
    if (body.front() == '.') fixed.insert(s.front() == '-' ? 1 : 0, 1, '0');
    if (IsDecimal(fixed)) {
      return absl::StrCat(quoted,
                          " is not a decimal (write a digit on both sides of the dot, e.g. ",
                          QuoteForMessage(fixed), ")");
    }
  }
  return absl::StrCat(quoted,
                      " is not a decimal (expected digits with an optional leading \"-\" and at "
                      "most one \".\", e.g. \"12.5\")");
}

absl::Status ValidateDecimal(std::string_view field_path, std::string_view s, bool allow_negative) {
  std::string problem = DecimalProblem(s, allow_negative);
  if (problem.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Sv(field_path), ": ", problem));
}

std::string QuoteForMessage(std::string_view value) {
  constexpr size_t kMaxShown = 60;
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : value) {
    if (shown >= kMaxShown) {
      absl::StrAppend(&out, "...");
      break;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++shown;
  }
  out += "\"";
  return out;
}

Decimal::Decimal(bool negative, std::string digits, int64_t scale)
    : negative_(negative), digits_(std::move(digits)), scale_(scale) {
  Normalize();
}

void Decimal::Normalize() {
  size_t first = digits_.find_first_not_of('0');
  if (first == std::string::npos) {
    digits_.assign(1, '0');
    negative_ = false;
  } else if (first > 0) {
    digits_.erase(0, first);
  }
}

absl::StatusOr<Decimal> Decimal::Parse(std::string_view s) {
  if (!IsDecimal(s)) return absl::InvalidArgumentError(DecimalProblem(s, true));
  DecimalParts parts = Split(s);
  return Decimal(parts.negative, absl::StrCat(Sv(parts.integer), Sv(parts.fraction)),
                 static_cast<int64_t>(parts.fraction.size()));
}

Decimal Decimal::Add(const Decimal& other) const {
  int64_t scale = std::max(scale_, other.scale_);
  std::string a = Rescale(digits_, scale_, scale);
  std::string b = Rescale(other.digits_, other.scale_, scale);
  if (negative_ == other.negative_) return Decimal(negative_, AddDigits(a, b), scale);
  // Opposite signs: subtract the smaller magnitude from the larger.
  int cmp = CompareMagnitude(digits_, scale_, other.digits_, other.scale_);
  if (cmp == 0) return Decimal(false, "0", scale);
  if (cmp > 0) return Decimal(negative_, SubtractDigits(a, b), scale);
  return Decimal(other.negative_, SubtractDigits(b, a), scale);
}

Decimal Decimal::Subtract(const Decimal& other) const { return Add(other.Negate()); }

Decimal Decimal::Negate() const { return Decimal(!negative_, digits_, scale_); }

Decimal Decimal::Abs() const { return Decimal(false, digits_, scale_); }

int Decimal::Compare(const Decimal& other) const {
  if (negative_ != other.negative_) return negative_ ? -1 : 1;
  int cmp = CompareMagnitude(digits_, scale_, other.digits_, other.scale_);
  return negative_ ? -cmp : cmp;
}

std::string Decimal::ToString() const {
  std::string out = negative_ ? "-" : "";
  if (scale_ == 0) return absl::StrCat(out, digits_);
  size_t scale = static_cast<size_t>(scale_);
  if (digits_.size() <= scale) {
    return absl::StrCat(out, "0.", std::string(scale - digits_.size(), '0'), digits_);
  }
  return absl::StrCat(out, digits_.substr(0, digits_.size() - scale), ".",
                      digits_.substr(digits_.size() - scale));
}

double Decimal::ToDouble() const {
  if (IsZero()) return 0.0;
  int64_t exponent = MantissaExponent(*this).second;
  double sign = negative_ ? -1.0 : 1.0;
  if (exponent > std::numeric_limits<double>::max_exponent10 + 1) {
    return sign * std::numeric_limits<double>::infinity();
  }
  if (exponent < std::numeric_limits<double>::min_exponent10 - 20) return sign * 0.0;
  // Let from_chars round the decimal text once, correctly.
  std::string text = ToString();
  std::string_view view = text;
  if (!view.empty() && view.front() == '-') view.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return exponent > 0 ? sign * std::numeric_limits<double>::infinity() : sign * 0.0;
  }
  return sign * value;
}

absl::StatusOr<double> RelativeChange(const Decimal& from, const Decimal& to) {
  if (from.IsZero()) {
    return absl::InvalidArgumentError("relative change from zero is undefined");
  }
  Decimal diff = to.Subtract(from);
  if (diff.IsZero()) return 0.0;
  auto [dm, de] = MantissaExponent(diff);
  auto [fm, fe] = MantissaExponent(from);
  int64_t exponent = de - fe;
  double sign = diff.IsNegative() ? -1.0 : 1.0;
  if (exponent > 400) return absl::OutOfRangeError("relative change is too large for a double");
  if (exponent < -400) return sign * 0.0;
  double result = sign * (dm / fm) * std::pow(10.0, static_cast<double>(exponent));
  if (!std::isfinite(result)) {
    return absl::OutOfRangeError("relative change is too large for a double");
  }
  return result;
}

}  // namespace cdl::verify
