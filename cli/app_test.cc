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

#include "cli/commands.h"
#include "cli/errors.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "node/verify/record.h"

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
        "status", "checkpoint", "proof", "verify-proof", "accredit", "certify",
        "suspend", "revoke", "reinstate", "renew", "terminate", "recognise"}) {
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
                                             {"verify-checkpoint"},
                                             {"accredit"},
                                             {"certify"},
                                             {"suspend"},
                                             {"revoke"},
                                             {"reinstate"},
                                             {"renew"},
                                             {"terminate"},
                                             {"recognise", "create"},
                                             {"recognise", "cosign"},
                                             {"recognise", "submit"}}) {
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

// ---- Mutual certification ---------------------------------------------------

constexpr char kRecordHex[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// Everything `cdl certify` needs, valid, with `overrides` replacing or adding
// flags (a flag mapped to "" is left out).
std::vector<std::string> CertifyArgs(
    const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
  std::vector<std::pair<std::string, std::string>> flags = {
      {"--as", "cn-verify"},           {"--key", key},
      {"--subject", kRecordHex},       {"--standard", "ISO 14067"},
      {"--assurance", "reasonable"},   {"--materiality", "5"},
      {"--valid-until", "2099-12-31"}, {"--statement-hash", kRecordHex},
      {"--jurisdiction", "CN"},        {"--node", kNoNode}};
  for (const auto& [flag, value] : overrides) {
    bool replaced = false;
    for (auto& entry : flags) {
      if (entry.first == flag) {
        entry.second = value;
        replaced = true;
      }
    }
    if (!replaced) flags.emplace_back(flag, value);
  }
  std::vector<std::string> args = {"certify"};
  for (const auto& [flag, value] : flags) {
    if (value.empty()) continue;
    args.push_back(flag);
    args.push_back(value);
  }
  return args;
}

TEST_F(CliTest, CertificationUsageErrorsExitTwoBeforeReadingTheKey) {
  // The key does not exist: each of these must fail on its flags first.
  const std::string key = Path("missing.key");
  const std::vector<std::string> author = {"--as", "a1",     "--key",
                                           key,    "--node", kNoNode};
  auto with_author = [&](std::vector<std::string> args) {
    args.insert(args.end(), author.begin(), author.end());
    return args;
  };
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {with_author({"accredit", "--standard", "ISO 14067", "--jurisdiction",
                    "CN", "--valid-until", "2099-01-01"}),
       "--certifier"},
      {with_author({"accredit", "--certifier", "cn-verify", "--standard",
                    "ISO 14067", "--jurisdiction", "cn", "--valid-until",
                    "2099-01-01"}),
       "--jurisdiction"},
      {with_author({"accredit", "--certifier", "cn-verify", "--standard",
                    "ISO 14067", "--jurisdiction", "CN", "--valid-until",
                    "next year"}),
       "--valid-until"},
      {with_author({"accredit", "--certifier", "cn-verify", "--standard",
                    "ISO 14067", "--jurisdiction", "CN", "--valid-from",
                    "2099-06-01", "--valid-until", "2099-01-01"}),
       "not after --valid-from"},
      {with_author({"accredit", "--certifier", "cn-verify", "--standard",
                    "ISO 14067", "--jurisdiction", "CN", "--valid-until",
                    "2001-01-01"}),
       "already past"},
      {CertifyArgs(key, {{"--assurance", "high"}}), "limited or reasonable"},
      {CertifyArgs(key, {{"--subject", "abcd"}}), "--subject"},
      {CertifyArgs(key, {{"--statement-hash", "xyz"}}), "--statement-hash"},
      {CertifyArgs(key, {{"--statement-hash", ""}}), "--statement FILE"},
      {CertifyArgs(key, {{"--statement", Path("s.pdf")}}), "not both"},
      {CertifyArgs(key, {{"--materiality", "5%"}}), "--materiality"},
      {CertifyArgs(key, {{"--jurisdiction", ""}}), "--jurisdiction"},
      {CertifyArgs(key, {{"--valid-until", ""}}), "--valid-until"},
      {with_author({"suspend", "--reason", "audit"}), "--record ID"},
      {with_author({"revoke", "--record", kRecordHex, "--member", "acme",
                    "--reason", "fraud"}),
       "both given"},
      {with_author({"revoke", "--record", kRecordHex, "--key-id", kRecordHex,
                    "--reason", "fraud"}),
       "--key-id goes with --member"},
      {with_author({"suspend", "--member", "acme", "--key-id", "12", "--reason",
                    "lost"}),
       "--key-id"},
      {with_author({"suspend", "--member", "Acme Steel", "--reason", "x"}),
       "--member"},
      {with_author({"revoke", "--record", "12"}), "--reason"},
      {with_author({"reinstate", "--record", kRecordHex, "--reason", ""}),
       "--reason"},
      {with_author(
           {"renew", "--record", "not-hex", "--valid-until", "2099-01-01"}),
       "--record"},
      {with_author({"renew", "--record", kRecordHex}), "--valid-until"},
      {with_author({"terminate", "--agreement", kRecordHex}), "--reason"},
      {with_author({"terminate", "--agreement", "zz", "--reason", "done"}),
       "--agreement"},
      {{"recognise"}, "recognise"},
      {with_author({"recognise", "create", "--party-b", "acc-eu",
                    "--jurisdiction-a", "CN", "--jurisdiction-b", "EU",
                    "--standard", "ISO 14067", "--direction", "sideways",
                    "--valid-until", "2099-01-01", "-o", Path("a.json")}),
       "a-recognises-b"},
      {with_author({"recognise", "create", "--party-b", "acc-eu",
                    "--jurisdiction-a", "EU", "--jurisdiction-b", "EU",
                    "--standard", "ISO 14067", "--direction", "mutual",
                    "--valid-until", "2099-01-01", "-o", Path("a.json")}),
       "both EU"},
      {with_author({"recognise", "create", "--party-b", "a1",
                    "--jurisdiction-a", "CN", "--jurisdiction-b", "EU",
                    "--standard", "ISO 14067", "--direction", "mutual",
                    "--valid-until", "2099-01-01", "-o", Path("a.json")}),
       "--as itself"},
      {with_author({"recognise", "create", "--party-b", "acc-eu",
                    "--jurisdiction-a", "CN", "--jurisdiction-b", "EU",
                    "--direction", "mutual", "--valid-until", "2099-01-01",
                    "-o", Path("a.json")}),
       "--standard"},
      {{"recognise", "cosign", Path("a.json"), "--as", "acc-eu"}, "--key"},
      {{"recognise", "submit"}, "FILE"},
  };
  for (const Case& c : cases) {
    Result r = RunCdl(c.args);
    EXPECT_EQ(r.code, kExitUsage) << testing::PrintToString(c.args) << r.err;
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr(c.mentions)) << testing::PrintToString(c.args);
    EXPECT_FALSE(std::filesystem::exists(Path("a.json")));
  }
}

TEST_F(CliTest, CertificationWritersGoToTheNodeOnceTheFlagsAreRight) {
  RunCdl({"keygen", "-o", Path("k.key")});
  const std::string key = Path("k.key");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"accredit", "--as", "acc-cn", "--key", key, "--certifier",
            "cn-verify", "--standard", "ISO 14067", "--standard", "ISO 14064-3",
            "--jurisdiction", "CN", "--valid-from", "2026-01-01",
            "--valid-until", "2099-01-01T00:00:00Z", "--node", kNoNode},
           CertifyArgs(key, {{"--assurance", "LIMITED"}}),
           {"suspend", "--as", "reg-cn", "--key", key, "--member", "acme",
            "--key-id", kRecordHex, "--reason", "lost laptop", "--node",
            kNoNode},
           {"revoke", "--as", "reg-cn", "--key", key, "--record", kRecordHex,
            "--reason", "fraud", "--node", kNoNode},
           {"reinstate", "--as", "reg-cn", "--key", key, "--member", "acme",
            "--reason", "cleared", "--node", kNoNode},
           {"renew", "--as", "acc-cn", "--key", key, "--record", kRecordHex,
            "--valid-until", "2099-01-01", "--node", kNoNode},
           {"terminate", "--as", "acc-cn", "--key", key, "--agreement",
            kRecordHex, "--reason", "superseded", "--node", kNoNode},
           {"recognise",
            "create",
            "--as",
            "acc-cn",
            "--key",
            key,
            "--party-b",
            "acc-eu",
            "--jurisdiction-a",
            "CN",
            "--jurisdiction-b",
            "EU",
            "--standard",
            "ISO 14067",
            "--direction",
            "b_recognizes_a",
            "--valid-until",
            "2099-01-01",
            "-o",
            Path("agreement.json"),
            "--node",
            kNoNode}}) {
    Result r = RunCdl(args);
    EXPECT_EQ(r.code, kExitNode) << testing::PrintToString(args) << r.err;
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
  }
  // Nothing is written when the node cannot be asked for the sequence.
  EXPECT_FALSE(std::filesystem::exists(Path("agreement.json")));
}

TEST_F(CliTest, CertifyHashesTheStatementFile) {
  RunCdl({"keygen", "-o", Path("k.key")});
  Result r = RunCdl(CertifyArgs(
      Path("k.key"),
      {{"--statement-hash", ""}, {"--statement", Path("missing.pdf")}}));
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("missing.pdf"));

  r = RunCdl(CertifyArgs(
      Path("k.key"),
      {{"--statement-hash", ""}, {"--statement", Write("s.pdf", "opinion")}}));
  EXPECT_EQ(r.code, kExitNode);  // read and hashed, then the node is asked
}

// Co-sign files made here directly, as `recognise create` would write them
// (that needs a node for the chain id and sequence).
class RecogniseTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    for (const char* name : {"acc-cn", "acc-eu", "acc-us"}) {
      ASSERT_EQ(RunCdl({"keygen", "-o", Path(std::string(name) + ".key")}).code,
                0);
    }
  }

  std::string Key(const std::string& member) const {
    return Path(member + ".key");
  }

  cdl::v1::SignedRecord SignedByA() const {
    absl::StatusOr<cdl::crypto::PrivateKey> key =
        cdl::crypto::ReadPrivateKeyFile(Key("acc-cn"));
    EXPECT_TRUE(key.ok()) << key.status();
    cdl::v1::RecordBody body;
    body.set_chain_id("cdl-test");
    body.set_author("acc-cn");
    body.set_key_id(key->public_key().KeyId());
    body.set_sequence(3);
    body.set_created_ms(1767225600000);
    auto* a = body.mutable_recognition_agreement();
    a->set_party_a("acc-cn");
    a->set_jurisdiction_a("CN");
    a->set_party_b("acc-eu");
    a->set_jurisdiction_b("EU");
    a->add_standards("ISO 14067");
    a->set_direction(cdl::v1::DIRECTION_MUTUAL);
    a->set_valid_until_ms(4102444800000);
    absl::StatusOr<cdl::v1::SignedRecord> record =
        cdl::verify::SignBody(body, *key);
    EXPECT_TRUE(record.ok()) << record.status();
    return *record;
  }

  std::string WriteCosignFile(const std::string& name,
                              const cdl::v1::SignedRecord& record) const {
    nlohmann::json doc = {
        {"format", kCosignFormat},
        {"record_id",
         cdl::crypto::HexEncode(cdl::verify::RecordId(record.body()))},
        {"signed_record",
         cdl::crypto::Base64Encode(record.SerializeAsString())}};
    return Write(name, doc.dump());
  }
};

TEST_F(RecogniseTest, CosignChecksThePartyAndSignsOnce) {
  const std::string file = WriteCosignFile("agreement.json", SignedByA());
  const std::string id =
      cdl::crypto::HexEncode(cdl::verify::RecordId(SignedByA().body()));

  // Only party_b signs.
  Result r = RunCdl(
      {"recognise", "cosign", file, "--as", "acc-us", "--key", Key("acc-us")});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("\"acc-us\" is not a party"));
  EXPECT_THAT(r.err, HasSubstr("party_b \"acc-eu\""));
  r = RunCdl(
      {"recognise", "cosign", file, "--as", "acc-cn", "--key", Key("acc-cn")});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("is party_a"));

  // A half-signed agreement is refused before the node is contacted (which
  // would exit 3).
  r = RunCdl({"recognise", "submit", file, "--node", kNoNode});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("signed by party_a \"acc-cn\" only"));
  EXPECT_THAT(r.err, HasSubstr("recognise cosign"));

  r = RunCdl({"recognise", "cosign", file, "--as", "acc-eu", "--key",
              Key("acc-eu"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["record_id"], id);
  EXPECT_EQ(out["signed_by"], nlohmann::json::array({"acc-cn", "acc-eu"}));
  EXPECT_EQ(out["complete"], true);
  EXPECT_EQ(out["direction"], "mutual");
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644);

  // The file now holds both signatures, party_b's verifiable with its key.
  std::ifstream in(file);
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["format"], "cdl-cosign/v1");
  EXPECT_EQ(doc["record_id"], id);
  absl::StatusOr<std::string> bytes =
      cdl::crypto::Base64Decode(doc["signed_record"].get<std::string>());
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      cdl::verify::ParseSignedRecord(*bytes);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->signed_record.signatures_size(), 2);
  EXPECT_EQ(record->signed_record.signatures(1).member(), "acc-eu");
  absl::StatusOr<cdl::crypto::PrivateKey> eu =
      cdl::crypto::ReadPrivateKeyFile(Key("acc-eu"));
  ASSERT_TRUE(eu.ok());
  EXPECT_TRUE(cdl::verify::VerifyRecordSignature(
                  eu->public_key(), record->id,
                  record->signed_record.signatures(1).signature())
                  .ok());

  // Never twice.
  r = RunCdl(
      {"recognise", "cosign", file, "--as", "acc-eu", "--key", Key("acc-eu")});
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("already signed by \"acc-eu\""));

  // Complete: submit goes to the node.
  r = RunCdl({"recognise", "submit", file, "--node", kNoNode});
  EXPECT_EQ(r.code, kExitNode);
  ExpectOneErrorLine(r);
}

TEST_F(RecogniseTest, DamagedOrForeignFilesAreRefusedNamingTheFile) {
  const cdl::v1::SignedRecord record = SignedByA();
  const std::string good = WriteCosignFile("good.json", record);
  std::ifstream in(good);
  const nlohmann::json doc = nlohmann::json::parse(in);
  auto variant = [&](const std::string& name, auto mutate) {
    nlohmann::json copy = doc;
    mutate(copy);
    return Write(name, copy.dump());
  };
  const std::vector<std::string> files = {
      Path("missing.json"),
      Write("text.json", "not json"),
      variant("format.json",
              [](nlohmann::json& d) { d["format"] = "cdl-cosign/v0"; }),
      variant("extra.json", [](nlohmann::json& d) { d["note"] = "hi"; }),
      variant("base64.json",
              [](nlohmann::json& d) { d["signed_record"] = "@@@@"; }),
      variant("id.json",
              [](nlohmann::json& d) { d["record_id"] = kRecordHex; }),
      variant("junk.json",
              [](nlohmann::json& d) { d["signed_record"] = "AAAA"; }),
  };
  for (const std::string& file : files) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"recognise", "cosign", file, "--as",
                                   "acc-eu", "--key", Key("acc-eu")},
          std::vector<std::string>{"recognise", "submit", file, "--node",
                                   kNoNode}}) {
      Result r = RunCdl(args);
      EXPECT_EQ(r.code, kExitInvalid) << file << ": " << r.err;
      ExpectOneErrorLine(r);
      EXPECT_THAT(r.err, HasSubstr(file));
    }
  }

  // A co-sign file of another record type is not an agreement.
  absl::StatusOr<cdl::crypto::PrivateKey> key =
      cdl::crypto::ReadPrivateKeyFile(Key("acc-cn"));
  ASSERT_TRUE(key.ok());
  cdl::v1::RecordBody body;
  body.set_chain_id("cdl-test");
  body.set_author("acc-cn");
  body.set_key_id(key->public_key().KeyId());
  body.set_sequence(1);
  body.mutable_termination()->set_agreement(std::string(32, 'a'));
  body.mutable_termination()->set_reason("done");
  absl::StatusOr<cdl::v1::SignedRecord> other =
      cdl::verify::SignBody(body, *key);
  ASSERT_TRUE(other.ok());
  Result r =
      RunCdl({"recognise", "cosign", WriteCosignFile("other.json", *other),
              "--as", "acc-eu", "--key", Key("acc-eu")});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.err, HasSubstr("not a recognition agreement"));
}

TEST_F(RecogniseTest, CreateNeverReplacesAFileWithoutForce) {
  const std::string existing = Write("agreement.json", "keep me");
  std::vector<std::string> args = {"recognise",
                                   "create",
                                   "--as",
                                   "acc-cn",
                                   "--key",
                                   Key("acc-cn"),
                                   "--party-b",
                                   "acc-eu",
                                   "--jurisdiction-a",
                                   "CN",
                                   "--jurisdiction-b",
                                   "EU",
                                   "--standard",
                                   "ISO 14067",
                                   "--direction",
                                   "mutual",
                                   "--valid-until",
                                   "2099-01-01",
                                   "-o",
                                   existing,
                                   "--node",
                                   kNoNode};
  Result r = RunCdl(args);
  EXPECT_EQ(r.code, kExitInvalid);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("--force"));
  args.push_back("--force");
  r = RunCdl(args);
  EXPECT_EQ(r.code, kExitNode);  // allowed now; the node is asked next
  std::ifstream in(existing);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "keep me");
}

}  // namespace
}  // namespace cdl::cli
