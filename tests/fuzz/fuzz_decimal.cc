// Exact decimals (node/verify/decimal.h). Input: text "A" or "A|B": A and B
// are parsed as decimals (B defaults to "1.5"), and A also goes through the
// validators and the message quoting.
//
// Properties:
//   - IsDecimal, DecimalProblem, ValidateDecimal and Decimal::Parse agree;
//     only negative values are refused when negatives are not allowed;
//   - parse -> format -> parse is stable: Parse(ToString()) equals the value,
//     and ToString() is a fixed point with the same scale;
//   - arithmetic is exact: (A + B) - B == A, A - A == 0, -(-A) == A,
//     |A| >= 0, Compare is antisymmetric and agrees with the sign of A - B;
//   - ToDouble and RelativeChange never fail as calls except as documented;
//   - QuoteForMessage output is one printable ASCII line.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/verify/decimal.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using cdl::verify::Decimal;

void CheckValue(const Decimal& d) {
  const std::string text = d.ToString();
  FUZZ_CHECK(cdl::verify::IsDecimal(text), text);
  auto again = Decimal::Parse(text);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(*again == d && again->scale() == d.scale(), "Parse(ToString()) " + text);
  FUZZ_CHECK(again->ToString() == text, "ToString is a fixed point: " + text);
  FUZZ_CHECK(d.Negate().Negate() == d, "double negation");
  FUZZ_CHECK(!d.Abs().IsNegative(), "abs");
  FUZZ_CHECK(d.Subtract(d).IsZero(), "A - A");
  FUZZ_CHECK(d.IsZero() == (d.Compare(Decimal()) == 0), "zero");
  FUZZ_CHECK(d.IsNegative() == (d.Compare(Decimal()) < 0), "sign");
  const double x = d.ToDouble();
  FUZZ_CHECK(!std::isnan(x), "ToDouble is a number");
  FUZZ_CHECK(d.IsZero() || x == 0.0 || (x < 0) == d.IsNegative(), "ToDouble keeps the sign");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t bar = text.find('|');
  const std::string_view a_text = text.substr(0, bar);
  const std::string_view b_text = bar == std::string_view::npos ? "1.5" : text.substr(bar + 1);

  const bool is_decimal = cdl::verify::IsDecimal(a_text);
  const std::string problem = cdl::verify::DecimalProblem(a_text, /*allow_negative=*/true);
  FUZZ_CHECK(problem.empty() == is_decimal, "DecimalProblem agrees with IsDecimal");
  FUZZ_CHECK(cdl::verify::ValidateDecimal("$.x", a_text, true).ok() == is_decimal, "ValidateDecimal");
  const std::string quoted = cdl::verify::QuoteForMessage(a_text);
  for (char c : quoted) FUZZ_CHECK(c >= 0x20 && c < 0x7f, "quoted text is printable ASCII");

  auto a = Decimal::Parse(a_text);
  FUZZ_CHECK(a.ok() == is_decimal, "Parse agrees with IsDecimal");
  if (!a.ok()) return 0;
  const bool non_negative_ok = cdl::verify::DecimalProblem(a_text, /*allow_negative=*/false).empty();
  FUZZ_CHECK(non_negative_ok == !a->IsNegative(), "only negatives are refused");
  CheckValue(*a);

  auto b = Decimal::Parse(b_text);
  if (!b.ok()) return 0;
  CheckValue(*b);
  const Decimal sum = a->Add(*b);
  CheckValue(sum);
  FUZZ_CHECK(sum.Subtract(*b) == *a, "(A + B) - B == A");
  FUZZ_CHECK(sum.scale() == std::max(a->scale(), b->scale()), "scale of a sum");
  FUZZ_CHECK(a->Compare(*b) == -b->Compare(*a), "Compare is antisymmetric");
  const Decimal diff = a->Subtract(*b);
  FUZZ_CHECK(a->Compare(*b) == (diff.IsZero() ? 0 : diff.IsNegative() ? -1 : 1), "Compare agrees with A - B");
  auto change = cdl::verify::RelativeChange(*a, *b);
  if (a->IsZero()) {
    FUZZ_CHECK(!change.ok(), "relative change from zero");
  } else if (change.ok()) {
    FUZZ_CHECK(std::isfinite(*change), "relative change is finite");
  } else {
    FUZZ_CHECK(change.status().code() == absl::StatusCode::kOutOfRange, change.status().ToString());
  }
  return 0;
}
