#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace cdl::crypto {
namespace {

std::string Hex(const std::string& bytes) { return HexEncode(bytes); }

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int exit_pipe_fd = -1;

// OpenSSL's atexit cleanup would free locks that gRPC's threads, which
// outlive main, still take: it must not run when the process exits. Its
// OPENSSL_atexit handlers run exactly when OPENSSL_cleanup does.
TEST(OpenSslTest, IsNotCleanedUpWhenTheProcessExits) {
  ASSERT_EQ(Sha256("x").size(), 32u);  // OpenSSL initialised as in any binary
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    exit_pipe_fd = fds[1];
    OPENSSL_atexit([] { (void)!write(exit_pipe_fd, "c", 1); });
    std::exit(0);
  }
  close(fds[1]);
  char byte = 0;
  ssize_t n = read(fds[0], &byte, 1);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(n, 0) << "OPENSSL_cleanup ran at exit";
}

TEST(Sm3Test, KnownAnswers) {
  // GB/T 32905-2016 appendix A examples 1 and 2.
  EXPECT_EQ(Hex(Sm3("abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string abcd16;
  for (int i = 0; i < 16; ++i) abcd16 += "abcd";
  EXPECT_EQ(Hex(Sm3(abcd16)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(DomainHashTest, IsSha256OfDomainNulData) {
  std::string body("record\0body", 11);
  EXPECT_EQ(DomainHash("cdl/record/v1", body),
            Sha256(std::string("cdl/record/v1") + '\0' + body));
  EXPECT_EQ(DomainHash("cdl/record/v1", body).size(), kHashSize);
  // Different domains never collide on the same data.
  EXPECT_NE(DomainHash("cdl/record/v1", body), DomainHash("cdl/sig/v1", body));
  // The separator keeps (domain, data) splits apart.
  EXPECT_NE(DomainHash("ab", "c"), DomainHash("a", "bc"));
}

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST(HexTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  absl::StatusOr<std::string> back = HexDecode(HexEncode(all));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, all);
}

TEST(HexTest, DecodesUppercase) {
  absl::StatusOr<std::string> got = HexDecode("ABcdEF");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "\xab\xcd\xef");
}

TEST(HexTest, RejectsBadInput) {
  for (const char* bad : {"a", "abc", "zz", "0g", " 00", "00 ", "0x00", "-1"}) {
    absl::StatusOr<std::string> got = HexDecode(bad);
    EXPECT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(HexDecode(std::string("0\0", 2)).ok());
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    absl::StatusOr<std::string> back = Base64Decode(encoded);
    ASSERT_TRUE(back.ok()) << encoded << ": " << back.status();
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64Test, RoundTripsBinary) {
  std::string data;
  for (int len = 0; len < 70; ++len) {
    absl::StatusOr<std::string> back = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(back.ok()) << len;
    EXPECT_EQ(*back, data);
    data.push_back(static_cast<char>(len * 37 + 250));
  }
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST(Base64Test, RejectsNonCanonicalOrMalformed) {
  for (const char* bad :
       {"Zg", "Zg=", "Zm9", "Z===", "====", "=Zm9", "Zg==Zg==", "Zm=v",
        "Zh==",  // unused bits set: not the canonical encoding of "f"
        "Zm9=",  // ditto for "fo"
        "Zm9v\n", " Zm9v", "Zm9-", "Zm9_", "Zm9v===="}) {
    absl::StatusOr<std::string> got = Base64Decode(bad);
    EXPECT_FALSE(got.ok()) << bad;
  }
  absl::StatusOr<std::string> got = Base64Decode(std::string("Zm8\0", 4));
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdl::crypto
