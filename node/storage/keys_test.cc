#include "node/storage/keys.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace cdl::storage {
namespace {

TEST(KeysTest, U64BigEndianLayoutAndRoundTrip) {
  EXPECT_EQ(EncodeU64BE(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  EXPECT_EQ(EncodeU64BE(0), std::string(8, '\0'));
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, UINT64_MAX}) {
    absl::StatusOr<uint64_t> back = DecodeU64BE(EncodeU64BE(v));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, v);
  }
  std::string appended = "x";
  AppendU64BE(&appended, 7);
  EXPECT_EQ(appended, "x" + EncodeU64BE(7));
}

TEST(KeysTest, U32BigEndianRoundTrip) {
  EXPECT_EQ(EncodeU32BE(0x01020304u), "\x01\x02\x03\x04");
  EXPECT_EQ(*DecodeU32BE(EncodeU32BE(UINT32_MAX)), UINT32_MAX);
}

TEST(KeysTest, DecodeOfWrongSizeIsInvalidArgument) {
  EXPECT_EQ(DecodeU64BE("1234567").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeU64BE("123456789").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeU64BE("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeU32BE("123").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, EncodedOrderIsNumericOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    // Mix full-range values with small ones, where byte-order bugs show.
    uint64_t a = i % 2 ? rng() : rng() % 1000;
    uint64_t b = i % 3 ? rng() : rng() % 1000;
    EXPECT_EQ(a < b, EncodeU64BE(a) < EncodeU64BE(b)) << a << " vs " << b;
  }
}

TEST(KeysTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd(std::string("\0", 1)), "\x01");
  // Every extension of the prefix sorts below the end.
  const std::string p = "r/";
  EXPECT_LT(p + std::string("\xff\xff\xff", 3), PrefixEnd(p));
}

TEST(KeysTest, KeyBuilderOrdersByPartsInTurn) {
  auto key = [](std::string_view author, uint64_t seq) {
    return KeyBuilder("a").AppendString(author).AppendU64(seq).Build();
  };
  EXPECT_LT(key("alice", 2), key("alice", 10));
  EXPECT_LT(key("alice", UINT64_MAX), key("bob00", 0));  // same length: bytewise
  // One author's keys are contiguous: nothing of another author sorts between.
  const std::string start = KeyBuilder("a").AppendString("al").Build();
  const std::string end = PrefixEnd(start);
  EXPECT_LE(start, key("al", 0));
  EXPECT_LT(key("al", UINT64_MAX), end);
  EXPECT_FALSE(key("alice", 0) >= start && key("alice", 0) < end);
  EXPECT_FALSE(key("a", 0) >= start && key("a", 0) < end);
}

TEST(KeysTest, KeyReaderParsesWhatKeyBuilderWrote) {
  const std::string hash(32, '\x5a');
  KeyBuilder builder("t");
  builder.AppendU32(7)
      .AppendString(std::string("x\0y", 3))
      .AppendRaw(hash)
      .AppendU64(99)
      .AppendRaw("tail");
  const std::string key = builder.key();
  KeyReader reader(key);
  ASSERT_TRUE(reader.ExpectPrefix("t").ok());
  EXPECT_EQ(*reader.ReadU32(), 7u);
  EXPECT_EQ(*reader.ReadString(), std::string("x\0y", 3));
  EXPECT_EQ(*reader.ReadRaw(32), hash);
  EXPECT_EQ(*reader.ReadU64(), 99u);
  EXPECT_EQ(reader.rest(), "tail");
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(*reader.ReadRaw(4), "tail");
  EXPECT_TRUE(reader.done());
}

TEST(KeysTest, KeyReaderRejectsShortOrForeignKeys) {
  KeyReader wrong_prefix("zz");
  EXPECT_EQ(wrong_prefix.ExpectPrefix("a").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_prefix.rest(), "zz");

  KeyReader short_u64("1234");
  EXPECT_EQ(short_u64.ReadU64().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(short_u64.rest(), "1234");

  // A length prefix promising more bytes than there are consumes nothing.
  const std::string truncated = EncodeU32BE(10) + "abc";
  KeyReader reader(truncated);
  EXPECT_EQ(reader.ReadString().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.rest(), truncated);
}

}  // namespace
}  // namespace cdl::storage
