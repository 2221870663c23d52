// Exact decimal numbers as PACT and the ledger write them: strings such as
// "12.5" or "-0.003", never binary floating point.
//
// The PACT Technical Specifications (v2.0.0 - v2.3.0, data type "Decimal")
// define a Decimal as "a dotted-decimal number" encoded as a JSON string, with
// the examples "10", "42.12" and "-182.84". This file implements exactly that
// and nothing looser:
//
//   decimal := ["-"] digit+ ["." digit+]
//
// - no "+" sign, no exponent ("1e3"), no thousands separators, no comma as
//   decimal mark, no surrounding or inner whitespace, not empty;
// - a dot must have a digit on both sides ("5." and ".5" are rejected);
// - leading zeros ("007", "00.5") and "-0" are accepted: the specification
//   does not forbid them, and its own examples use forms like "0.0" and
//   "12.0". Trailing fraction zeros are significant to nobody but are kept,
//   because stored values are never rewritten.
//
// All functions are pure and thread-safe.

#ifndef CDL_NODE_VERIFY_DECIMAL_H_
#define CDL_NODE_VERIFY_DECIMAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdl::verify {

// True iff `s` matches the grammar above.
bool IsDecimal(std::string_view s);

// "" if `s` is a decimal (and, unless `allow_negative`, not below zero);
// otherwise one line saying what is wrong with it and how to fix it, starting
// with the quoted value, e.g. `"12,5" is not a decimal (use a dot, e.g.
// "12.5")`. "-0" counts as not negative.
std::string DecimalProblem(std::string_view s, bool allow_negative);

// OkStatus, or InvalidArgument("<field_path>: <DecimalProblem>").
absl::Status ValidateDecimal(std::string_view field_path, std::string_view s, bool allow_negative);

// `value` quoted for an error message: JSON-style escapes, control and
// non-ASCII bytes as \xNN, cut to about 60 characters. Lets validators echo
// untrusted input on one line without corrupting a terminal or a log.
std::string QuoteForMessage(std::string_view value);

// An exact decimal value (sign, digit string and scale) for comparisons and
// sums in audits. Arithmetic never rounds: the scale of a sum is the larger
// scale of its operands, and digits grow as needed (cost is linear in the
// number of digits). Values are immutable; copy freely.
class Decimal {
 public:
  // Zero.
  Decimal() = default;

  // Parses a string that IsDecimal accepts; InvalidArgument (the message is
  // DecimalProblem) otherwise.
  static absl::StatusOr<Decimal> Parse(std::string_view s);

  Decimal Add(const Decimal& other) const;
  Decimal Subtract(const Decimal& other) const;
  Decimal Negate() const;
  Decimal Abs() const;

  // -1, 0 or +1 as *this is less than, equal to or greater than `other`.
  // Exact: "1.50" equals "1.5", "-0" equals "0".
  int Compare(const Decimal& other) const;

  bool IsZero() const { return digits_ == "0"; }
  bool IsNegative() const { return negative_; }

  // Number of digits after the dot ("1.50" -> 2).
  int64_t scale() const { return scale_; }

  // Canonical text in the grammar above: no leading zeros, no "-0", the
  // scale kept ("007.50" -> "7.50", "-0.0" -> "0.0"). Parse(ToString()) is
  // equal to *this. Note that this is not the original text: callers that
  // must store a value byte for byte keep the string they were given.
  std::string ToString() const;

  // Nearest double; +-infinity if the magnitude exceeds the double range.
  double ToDouble() const;

  friend bool operator==(const Decimal& a, const Decimal& b) { return a.Compare(b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return a.Compare(b) < 0; }

 private:
  Decimal(bool negative, std::string digits, int64_t scale);
  // Restores the invariants below after arithmetic.
  void Normalize();

  // Invariants: digits_ is non-empty, ASCII digits, without leading zeros
  // ("0" for zero); zero is never negative; scale_ >= 0.
  // Value = (negative_ ? -1 : 1) * digits_ * 10^-scale_.
  bool negative_ = false;
  std::string digits_ = "0";
  int64_t scale_ = 0;
};

// (to - from) / |from| as a fraction: 0.25 means "25 % higher", -0.5 means
// "half of". Computed from the exact difference, then rounded once to double.
// InvalidArgument when `from` is zero (no relative change is defined);
// OutOfRange when the result does not fit in a double.
absl::StatusOr<double> RelativeChange(const Decimal& from, const Decimal& to);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_DECIMAL_H_
