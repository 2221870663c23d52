#include "node/verify/decimal.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::verify {
namespace {

using ::testing::HasSubstr;

Decimal D(const std::string& s) {
  absl::StatusOr<Decimal> d = Decimal::Parse(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status();
  return d.ok() ? *d : Decimal();
}

TEST(IsDecimalTest, AcceptsThePactGrammar) {
  // The specification's own examples, then forms it does not forbid.
  for (const char* s : {"10", "42.12", "-182.84", "0", "0.0", "12.0", "-1.5", "1.63", "007", "00.5",
                        "-0", "-0.000", "123456789012345678901234567890.000000000000000000001"}) {
    EXPECT_TRUE(IsDecimal(s)) << s;
  }
}

TEST(IsDecimalTest, RejectsEverythingElse) {
  for (const char* s :
       {"",    " 1",    "1 ",    "1 000", "+1",       "1e3",     "1E3",          "-1e-3",
        ".5",  "5.",    "-.5",   "1.2.3", "1,5",      "1,234.5", "--1",          "-",
        ".",   "1_000", "NaN",   "inf",   "Infinity", "0x10",    "\xef\xbc\x91", "\xd9\xa1",
        "1\n", "1\t",   "\"1\"", "12.5kg"}) {
    EXPECT_FALSE(IsDecimal(s)) << s;
  }
  EXPECT_FALSE(IsDecimal(std::string("1\0", 2)));
}

TEST(DecimalProblemTest, SuggestsTheFix) {
  EXPECT_EQ(DecimalProblem("12,5", true), "\"12,5\" is not a decimal (use a dot, e.g. \"12.5\")");
  EXPECT_THAT(DecimalProblem("1,234.5", true),
              HasSubstr("remove the thousands separators, e.g. \"1234.5\""));
  EXPECT_THAT(DecimalProblem("1.5e-3", true), HasSubstr("without an exponent, e.g. \"0.0015\""));
  EXPECT_THAT(DecimalProblem("2E+2", true), HasSubstr("without an exponent, e.g. \"200\""));
  EXPECT_THAT(DecimalProblem("+2", true), HasSubstr("drop the \"+\", e.g. \"2\""));
  EXPECT_THAT(DecimalProblem(" 1.5 ", true), HasSubstr("remove the spaces, e.g. \"1.5\""));
  EXPECT_THAT(DecimalProblem("1 000", true), HasSubstr("without spaces, e.g. \"1000\""));
  EXPECT_THAT(DecimalProblem(".5", true), HasSubstr("both sides of the dot, e.g. \"0.5\""));
  EXPECT_THAT(DecimalProblem("-5.", true), HasSubstr("both sides of the dot, e.g. \"-5.0\""));
  EXPECT_THAT(DecimalProblem("", true), HasSubstr("empty"));
  EXPECT_THAT(DecimalProblem("abc", true), HasSubstr("\"abc\" is not a decimal"));
}

TEST(DecimalProblemTest, Negativity) {
  EXPECT_EQ(DecimalProblem("-1", true), "");
  EXPECT_EQ(DecimalProblem("-1", false), "\"-1\" must not be negative");
  EXPECT_EQ(DecimalProblem("-0.001", false), "\"-0.001\" must not be negative");
  EXPECT_EQ(DecimalProblem("-0", false), "");
  EXPECT_EQ(DecimalProblem("-0.00", false), "");
}

TEST(ValidateDecimalTest, NamesTheFieldOnOneLine) {
  EXPECT_TRUE(ValidateDecimal("x", "1.5", false).ok());
  absl::Status s = ValidateDecimal("$.pcf.pCfExcludingBiogenic", "12,5", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "$.pcf.pCfExcludingBiogenic: \"12,5\" is not a decimal (use a dot, e.g. \"12.5\")");
  EXPECT_EQ(ValidateDecimal("scope1", "-3", false).message(),
            "scope1: \"-3\" must not be negative");
}

TEST(QuoteForMessageTest, EscapesAndTruncates) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForMessage("x\ny\x01\xff"), "\"x\\ny\\x01\\xff\"");
  std::string quoted = QuoteForMessage(std::string(500, 'z'));
  EXPECT_LT(quoted.size(), 80u);
  EXPECT_THAT(quoted, HasSubstr("..."));
}

TEST(DecimalTest, ParseRejectsNonDecimals) {
  absl::StatusOr<Decimal> d = Decimal::Parse("12,5");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("use a dot"));
}

TEST(DecimalTest, ToStringIsCanonicalAndKeepsScale) {
  EXPECT_EQ(D("007.50").ToString(), "7.50");
  EXPECT_EQ(D("-0.0").ToString(), "0.0");
  EXPECT_EQ(D("-0").ToString(), "0");
  EXPECT_EQ(D("0.05").ToString(), "0.05");
  EXPECT_EQ(D("-182.84").ToString(), "-182.84");
  EXPECT_EQ(D("000").ToString(), "0");
  EXPECT_EQ(D("1.50").scale(), 2);
  EXPECT_FALSE(D("-0").IsNegative());
  EXPECT_TRUE(D("0.000").IsZero());
  for (const char* s : {"7.50", "0.05", "-182.84", "123456789.000000001"}) {
    EXPECT_EQ(D(D(s).ToString()).ToString(), s);
  }
}

TEST(DecimalTest, CompareIsExact) {
  EXPECT_EQ(D("1.50").Compare(D("1.5")), 0);
  EXPECT_TRUE(D("1.50") == D("1.5"));
  EXPECT_EQ(D("-0").Compare(D("0.000")), 0);
  EXPECT_LT(D("-1").Compare(D("0")), 0);
  EXPECT_LT(D("-2").Compare(D("-1")), 0);
  EXPECT_GT(D("0.1").Compare(D("0.09")), 0);
  EXPECT_GT(D("10").Compare(D("9.999999999999999999999")), 0);
  EXPECT_LT(D("0.000000000000000000001").Compare(D("0.00000000000000000001")), 0);
  EXPECT_TRUE(D("99") < D("100"));
  // Beyond double precision.
  EXPECT_LT(D("12345678901234567890.1").Compare(D("12345678901234567890.2")), 0);
  EXPECT_GT(D("-12345678901234567890.1").Compare(D("-12345678901234567890.2")), 0);
}

TEST(DecimalTest, AddAndSubtractAreExact) {
  EXPECT_EQ(D("0.1").Add(D("0.2")).ToString(), "0.3");
  EXPECT_TRUE(D("0.1").Add(D("0.2")) == D("0.3"));
  EXPECT_EQ(D("1.5").Add(D("-1.5")).ToString(), "0.0");
  EXPECT_FALSE(D("1.5").Add(D("-1.5")).IsNegative());
  EXPECT_EQ(D("-1").Add(D("0.25")).ToString(), "-0.75");
  EXPECT_EQ(D("999.99").Add(D("0.01")).ToString(), "1000.00");
  EXPECT_EQ(D("1").Subtract(D("0.001")).ToString(), "0.999");
  EXPECT_EQ(D("-2.5").Subtract(D("-2.5")).ToString(), "0.0");
  EXPECT_EQ(D("0.001").Subtract(D("1")).ToString(), "-0.999");
  EXPECT_EQ(D("123456789012345678901234567890").Add(D("987654321098765432109876543210")).ToString(),
            "1111111110111111111011111111100");
  EXPECT_EQ(D("5").Negate().ToString(), "-5");
  EXPECT_EQ(D("-5.25").Abs().ToString(), "5.25");
  // A long exact sum: 0.1 added ten thousand times is exactly 1000.0.
  Decimal sum;
  for (int i = 0; i < 10000; ++i) sum = sum.Add(D("0.1"));
  EXPECT_EQ(sum.ToString(), "1000.0");
}

TEST(DecimalTest, ToDouble) {
  EXPECT_EQ(D("12.5").ToDouble(), 12.5);
  EXPECT_EQ(D("-0.25").ToDouble(), -0.25);
  EXPECT_EQ(D("0").ToDouble(), 0.0);
  EXPECT_DOUBLE_EQ(D("0.1").ToDouble(), 0.1);
  EXPECT_TRUE(std::isinf(D("1" + std::string(400, '0')).ToDouble()));
  EXPECT_EQ(D("0." + std::string(400, '0') + "1").ToDouble(), 0.0);
}

TEST(RelativeChangeTest, Fractions) {
  EXPECT_DOUBLE_EQ(*RelativeChange(D("100"), D("125")), 0.25);
  EXPECT_DOUBLE_EQ(*RelativeChange(D("100"), D("50")), -0.5);
  EXPECT_DOUBLE_EQ(*RelativeChange(D("1.63"), D("1.63")), 0.0);
  EXPECT_DOUBLE_EQ(*RelativeChange(D("-4"), D("-2")), 0.5);
  EXPECT_DOUBLE_EQ(*RelativeChange(D("0.1"), D("0.3")), 2.0);
  // Magnitudes beyond the double range still give the right ratio.
  std::string zeros(500, '0');
  EXPECT_DOUBLE_EQ(*RelativeChange(D("1" + zeros), D("2" + zeros)), 1.0);
}

TEST(RelativeChangeTest, Errors) {
  EXPECT_EQ(RelativeChange(D("0.00"), D("1")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RelativeChange(D("0." + std::string(500, '0') + "1"), D("1")).status().code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace cdl::verify
