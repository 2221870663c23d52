// Drives the whole `cdl` command line in-process: flags, exit codes and the
// offline commands. Nothing here needs a running node; "unreachable" cases
// point at a closed loopback port.
#include "cli/app.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cdl::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A node address where nothing listens (port 1 is never ours).
constexpr char kNoNode[] = "127.0.0.1:1";

constexpr char kFootprint[] = R"({
  "id": "3a8e4f2b-5c1d-4e6f-9a7b-1c2d3e4f5a6b",
  "specVersion": "2.0.0",
  "version": 1,
  "created": "2024-03-01T09:32:20Z",
  "status": "Active",
  "companyName": "Acme Steel Co.",
  "companyIds": ["urn:uuid:51131fb5-42f2-4cd9-9a12-5e5e2d3a1a1b"],
  "productDescription": "Hot-rolled steel coil",
  "productIds": ["urn:gtin:4712345678904"],
  "productCategoryCpc": "4121",
  "productNameCompany": "HRC-2mm",
  "comment": "",
  "pcf": {
    "declaredUnit": "kilogram",
    "unitaryProductAmount": "1000.0",
    "pCfExcludingBiogenic": "1850.250",
    "fossilGhgEmissions": "1850.250",
    "fossilCarbonContent": "0",
    "biogenicCarbonContent": "0",
    "characterizationFactors": "AR6",
    "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
    "referencePeriodStart": "2023-01-01T00:00:00Z",
    "referencePeriodEnd": "2024-01-01T00:00:00Z",
    "exemptedEmissionsPercent": 1.5,
    "exemptedEmissionsDescription": "",
    "packagingEmissionsIncluded": false,
    "primaryDataShare": 62.5
  }
})";

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCdl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

// An error is exactly one line on stderr starting with "cdl: ".
void ExpectOneErrorLine(const Result& r) {
  EXPECT_THAT(r.err, StartsWith("cdl: "));
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdl_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    unsetenv("CDL_NODE");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }

  std::string dir_;
};

TEST_F(CliTest, HelpListsCommandsAndExitCodes) {
  Result r = RunCdl({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* command :
       {"keygen", "genesis", "member", "disclose", "footprint", "get", "query",
        "status", "checkpoint", "proof", "verify-proof"}) {
    EXPECT_THAT(r.out, HasSubstr(command));
  }
  EXPECT_THAT(r.out, HasSubstr("Exit codes"));
  EXPECT_THAT(r.out, HasSubstr("CDL_NODE"));
}

TEST_F(CliTest, EveryCommandHasHelpWithJson) {
  for (std::vector<std::string> command :
       std::vector<std::vector<std::string>>{{"keygen"},
                                             {"genesis", "init"},
                                             {"member", "register"},
                                             {"disclose"},
                                             {"footprint", "import"},
                                             {"footprint", "validate"},
                                             {"get"},
                                             {"query"},
                                             {"status"},
                                             {"checkpoint"},
                                             {"proof"},
                                             {"verify-proof"},
                                             {"verify-checkpoint"}}) {
    command.push_back("--help");
    Result r = RunCdl(command);
    EXPECT_EQ(r.code, 0) << command[0];
    EXPECT_THAT(r.out, HasSubstr("--json")) << command[0];
    EXPECT_EQ(r.err, "");
  }
}

TEST_F(CliTest, UsageErrorsExitTwoWithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"keygen"},
           {"keygen", "-o", "x", "--algorithm", "rsa"},
           {"member", "register", "--as", "a", "--key", "k"},
           {"get", "not-hex"},
           {"proof", "abcd"},
           {"query", "--type", "footprint"},
           {"query", "--period", "last year"},
           {"verify-proof", "file.json"},
           {"genesis", "init", "--chain-id", "c", "-o", "d"},
           {"status", "--no-such-flag"},
           {"disclose", "--as", "a", "--key", "k", "--file", "f", "--sequence",
            "-1"},
           {"checkpoint", "--height", "x"}}) {
    Result r = RunCdl(args);
    EXPECT_EQ(r.code, kExitUsage) << testing::PrintToString(args);
    ExpectOneErrorLine(r);
  }
}

TEST_F(CliTest, UnreachableNodeExitsThree) {
  Result r = RunCdl({"status", "--node", kNoNode});
  EXPECT_EQ(r.code, kExitNode);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("cannot reach node at 127.0.0.1:1"));
  EXPECT_THAT(r.err, HasSubstr("--node"));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, NodeAddressComesFromTheEnvironment) {
  setenv("CDL_NODE", kNoNode, 1);
  Result r = RunCdl({"query", "--member", "acme"});
  unsetenv("CDL_NODE");
  EXPECT_EQ(r.code, kExitNode);
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
}

TEST_F(CliTest, KeygenWritesAPrivateFileAndAPublicOne) {
  Result r = RunCdl({"keygen", "-a", "ed25519", "-o", Path("k.key"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["algorithm"], "ed25519");
  EXPECT_EQ(out["key_id"].get<std::string>().size(), 64u);
  struct stat st;
  ASSERT_EQ(stat(Path("k.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_TRUE(std::filesystem::exists(Path("k.key.pub")));

  // Never silently replaces a key.
  r = RunCdl({"keygen", "-o", Path("k.key")});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("--force"));
  EXPECT_EQ(RunCdl({"keygen", "-o", Path("k.key"), "--force"}).code, 0);
}

TEST_F(CliTest, GenesisInitWritesKeysAndAValidGenesis) {
  Result r = RunCdl({"genesis", "init", "--chain-id", "cdl-test", "-o",
                     Path("net"), "--validators", "4", "--base-port", "9100",
                     "--founder", "cn-mee:regulator:CN:Ministry of Ecology",
                     "--founder", "sip:park:CN", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["chain_id"], "cdl-test");
  EXPECT_EQ(out["validators"].size(), 4u);
  EXPECT_EQ(out["validators"][3]["address"], "127.0.0.1:9103");
  for (const char* file :
       {"genesis.json", "validator-0.key", "validator-3.key", "cn-mee.key",
        "cn-mee.key.pub", "sip.key", "sip.key.pub"}) {
    EXPECT_TRUE(std::filesystem::exists(Path("net/") + file)) << file;
  }
  std::ifstream in(Path("net/genesis.json"));
  nlohmann::json genesis = nlohmann::json::parse(in);
  EXPECT_EQ(genesis["founders"][0]["member_id"], "cn-mee");
  EXPECT_EQ(genesis["founders"][0]["role"], "ROLE_REGULATOR");
  EXPECT_EQ(genesis["founders"][0]["name"], "Ministry of Ecology");

  // A second run refuses to overwrite the genesis.
  r = RunCdl({"genesis", "init", "--chain-id", "cdl-test", "-o", Path("net"),
              "--founder", "a1:regulator:CN"});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
}

TEST_F(CliTest, GenesisInitRejectsBadFounders) {
  for (const char* founder :
       {"cn-mee:boss:CN", "cn-mee:regulator", "Bad Id:regulator:CN"}) {
    Result r = RunCdl({"genesis", "init", "--chain-id", "c", "-o", Path("g"),
                       "--founder", founder});
    EXPECT_EQ(r.code, kExitUsage) << founder;
    ExpectOneErrorLine(r);
  }
  EXPECT_FALSE(std::filesystem::exists(Path("g/genesis.json")));
}

TEST_F(CliTest, DiscloseChecksItsFileBeforeContactingTheNode) {
  RunCdl({"keygen", "-o", Path("k.key")});
  const std::string file =
      Write("d.json", R"({"period": "2025", "scope_one": "12"})");
  Result r = RunCdl({"disclose", "--as", "acme", "--key", Path("k.key"),
                     "--file", file, "--node", kNoNode});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("\"scope_one\""));

  r = RunCdl({"disclose", "--as", "acme", "--key", Path("missing.key"),
              "--file", Write("ok.json", R"({"period": "2025"})"), "--node",
              kNoNode});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("missing.key"));

  r = RunCdl({"disclose", "--as", "acme", "--key", Path("k.key"), "--file",
              Path("ok.json"), "--node", kNoNode});
  EXPECT_EQ(r.code, kExitNode);
  ExpectOneErrorLine(r);
}

TEST_F(CliTest, RefusesAWorldReadableKey) {
  RunCdl({"keygen", "-o", Path("k.key")});
  chmod(Path("k.key").c_str(), 0644);
  Result r =
      RunCdl({"disclose", "--as", "acme", "--key", Path("k.key"), "--file",
              Write("ok.json", R"({"period": "2025"})"), "--node", kNoNode});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
}

TEST_F(CliTest, FootprintValidateAcceptsAndPrintsAsStored) {
  Result r = RunCdl({"footprint", "validate", Write("pf.json", kFootprint)});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("valid: 1 footprint(s)"));

  // An array and an API response envelope hold several.
  Write("two.json",
        std::string("{\"data\": [") + kFootprint + "," + kFootprint + "]}");
  r = RunCdl({"footprint", "validate", Path("two.json")});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("valid: 2 footprint(s)"));

  r = RunCdl({"footprint", "validate", Path("pf.json"), "--json"});
  ASSERT_EQ(r.code, 0);
  // Decimal strings are kept exactly as written, trailing zeros included.
  EXPECT_THAT(r.out, HasSubstr("\"pCfExcludingBiogenic\":\"1850.250\""));
  EXPECT_THAT(r.out, HasSubstr("\"unitaryProductAmount\":\"1000.0\""));
  nlohmann::json stored = nlohmann::json::parse(r.out);
  ASSERT_TRUE(stored.is_array());
  EXPECT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0]["productNameCompany"], "HRC-2mm");
}

TEST_F(CliTest, FootprintValidateNamesEveryBadFieldByPath) {
  std::string text = kFootprint;
  text.replace(text.find("\"kilogram\""), 10, "\"kg\"");
  text.replace(text.find("\"1850.250\""), 10, "\"1,850.25\"");
  Result r = RunCdl({"footprint", "validate", Write("bad.json", text)});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.out, HasSubstr("$.pcf.declaredUnit"));
  EXPECT_THAT(r.out, HasSubstr("$.pcf.pCfExcludingBiogenic"));
  ExpectOneErrorLine(r);

  r = RunCdl({"footprint", "validate", Path("bad.json"), "--json"});
  EXPECT_EQ(r.code, kExitInvalid);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["valid"], false);
  EXPECT_GE(out["issues"].size(), 2u);

  r = RunCdl({"footprint", "validate", Path("nope.json")});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
}

TEST_F(CliTest, FootprintImportRefusesInvalidFilesBeforeSubmitting) {
  RunCdl({"keygen", "-o", Path("k.key")});
  std::string text = kFootprint;
  text.replace(text.find("\"pcf\""), 5, "\"pcx\"");
  Result r =
      RunCdl({"footprint", "import", "--as", "acme", "--key", Path("k.key"),
              "--file", Write("bad.json", text), "--node", kNoNode});
  EXPECT_EQ(r.code, kExitInvalid);  // not 3: the node was never asked
  EXPECT_THAT(r.out, HasSubstr("$.pcf"));
  EXPECT_THAT(r.err, HasSubstr("nothing was submitted"));
}

TEST_F(CliTest, VerifyProofReportsInvalidBundles) {
  ASSERT_EQ(RunCdl({"genesis", "init", "--chain-id", "c1", "-o", Path("g"),
                    "--founder", "reg:regulator:CN"})
                .code,
            0);
  const std::string genesis = Path("g/genesis.json");

  Result r =
      RunCdl({"verify-proof", Write("empty.json", "{}"), "--genesis", genesis});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.out, StartsWith("INVALID: "));
  ExpectOneErrorLine(r);

  r = RunCdl({"verify-proof", Write("junk.json", "not json"), "--genesis",
              genesis, "--json"});
  EXPECT_EQ(r.code, kExitInvalid);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["valid"], false);
  EXPECT_FALSE(out["reasons"].empty());

  r = RunCdl({"verify-proof", Path("missing.json"), "--genesis", genesis});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.out, Not(HasSubstr("VALID")));
  ExpectOneErrorLine(r);

  r = RunCdl(
      {"verify-proof", Path("empty.json"), "--genesis", Path("nope.json")});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.err, HasSubstr("genesis"));

  r = RunCdl({"verify-checkpoint", Path("empty.json"), "--genesis", genesis});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.out, StartsWith("INVALID: "));
}

}  // namespace
}  // namespace cdl::cli
