#include "cli/app.h"

#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/audit_commands.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/passport_commands.h"

namespace cdl::cli {
namespace {

constexpr char kFooter[] =
    "Exit codes: 0 success; 1 verification failed, record rejected or invalid "
    "input; 2 usage error; 3 node unreachable, timed out or failed.\n"
    "Environment: CDL_NODE=HOST:PORT is the default for --node "
    "(otherwise 127.0.0.1:7400).\n"
    "Ids and hashes are printed and accepted as lowercase hex. Run "
    "'cdl COMMAND --help' for a command's flags.";

// Everything the flags fill in; one per invocation.
struct Flags {
  std::string node;
  bool json = false;
  KeygenOptions keygen;
  GenesisInitOptions genesis_init;
  MemberRegisterOptions member_register;
  DiscloseOptions disclose;
  FootprintImportOptions footprint_import;
  FootprintValidateOptions footprint_validate;
  GetOptions get;
  QueryOptions query;
  WatchOptions watch;
  CheckpointOptions checkpoint;
  ProofOptions proof;
  VerifyProofOptions verify_proof;
  VerifyProofOptions verify_checkpoint;
  AccreditOptions accredit;
  CertifyOptions certify;
  StatusChangeOptions suspend;
  StatusChangeOptions revoke;
  StatusChangeOptions reinstate;
  RenewOptions renew;
  TerminateOptions terminate;
  RecogniseCreateOptions recognise_create;
  RecogniseCosignOptions recognise_cosign;
  RecogniseSubmitOptions recognise_submit;
  PassportExportOptions passport_export;
  PassportVerifyOptions passport_verify;
  PassportQrOptions passport_qr;
  AuditFlags audit;
  // --sequence of a record writer; copied into its AuthorOptions only when
  // given on the command line.
  uint64_t sequence = 0;
};

void AddJson(CLI::App* app, Flags& flags) {
  app->add_flag("--json", flags.json,
                "Print one machine-readable JSON document on stdout");
}

void AddNode(CLI::App* app, Flags& flags) {
  app->add_option("--node", flags.node,
                  "Node to talk to, HOST:PORT (default $CDL_NODE or "
                  "127.0.0.1:7400)");
}

// --as, --key and --sequence of the member who signs a record as its author.
// Returns the --sequence option so the caller can tell whether it was given.
CLI::Option* AddSigner(CLI::App* app, AuthorOptions& author, Flags& flags) {
  app->add_option("--as", author.as,
                  "Member id of the author who signs the record")
      ->required();
  app->add_option("--key", author.key_file,
                  "The author's private key file (PKCS#8 PEM, mode 0600)")
      ->required();
  return app
      ->add_option("--sequence", flags.sequence,
                   "Use this sequence number instead of asking the node "
                   "(skips the member and key look-up)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            uint64_t n = 0;
            if (absl::SimpleAtoi(value, &n) && n >= 1) return "";
            return "must be a whole number of at least 1";
          },
          "UINT>=1"));
}

// --no-wait and --wait-seconds of a command that submits a record.
void AddWait(CLI::App* app, bool& no_wait, int& wait_seconds) {
  app->add_flag("--no-wait", no_wait,
                "Return once the node admitted the record (ADMITTED), without "
                "waiting for its block to commit");
  app->add_option("--wait-seconds", wait_seconds,
                  "How long to wait for the final receipt")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

// Flags shared by every record-writing command. Returns the --sequence
// option so the caller can tell whether it was given.
CLI::Option* AddAuthor(CLI::App* app, AuthorOptions& author, Flags& flags) {
  CLI::Option* sequence = AddSigner(app, author, flags);
  AddWait(app, author.no_wait, author.wait_seconds);
  AddNode(app, flags);
  AddJson(app, flags);
  return sequence;
}

using Action = std::function<absl::Status(const Context&)>;

// Makes `run(options)` the action of `app`, a command with AddAuthor's or
// AddSigner's flags, copying --sequence into options.author when given.
template <typename Options>
void SetAuthorAction(CLI::App* app, CLI::Option* sequence, Options& options,
                     Flags& flags, Action& action,
                     absl::Status (*run)(const Context&, const Options&)) {
  app->callback([sequence, &options, &flags, &action, run] {
    if (sequence->count() > 0) options.author.sequence = flags.sequence;
    action = [run, &options](const Context& ctx) { return run(ctx, options); };
  });
}

constexpr char kValidFromHelp[] =
    "Start of validity: RFC 3339 time or date, e.g. 2026-01-01 (default: "
    "from its acceptance)";
constexpr char kValidUntilHelp[] =
    "End of validity: RFC 3339 time or date, e.g. 2028-12-31T23:59:59Z";

// `cdl suspend`, `cdl revoke`, `cdl reinstate`.
void AddStatusChange(CLI::App& app, const char* name, const char* description,
                     StatusChangeKind kind, StatusChangeOptions& options,
                     Flags& flags, Action& action) {
  options.kind = kind;
  CLI::App* command = app.add_subcommand(name, description);
  CLI::Option* sequence = AddAuthor(command, options.author, flags);
  command->add_option("--record", options.record,
                      "Record id of the certificate, accreditation or "
                      "recognition agreement");
  command->add_option("--member", options.member,
                      "Member id (instead of --record)");
  command->add_option("--key-id", options.key_id,
                      "With --member: the member's key (64 hex digits) "
                      "instead of the member itself");
  command
      ->add_option("--reason", options.reason,
                   "Why; recorded on the ledger with the status change")
      ->required();
  SetAuthorAction(command, sequence, options, flags, action, &RunStatusChange);
}

// The deepest subcommand that was selected, for "see --help" hints.
std::string CommandPath(CLI::App& app) {
  std::vector<std::string> names;
  CLI::App* current = &app;
  while (!current->get_subcommands().empty()) {
    current = current->get_subcommands().front();
    names.push_back(current->get_name());
  }
  return absl::StrJoin(names, " ");
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  Flags flags;
  Action action;

  CLI::App app(
      "cdl — client of the Carbon Disclosure Ledger: keys, genesis, members, "
      "disclosures, PACT footprints, mutual certification, queries and "
      "offline proofs.",
      "cdl");
  AddNode(&app, flags);
  AddJson(&app, flags);

  // ---- keygen
  CLI::App* keygen = app.add_subcommand(
      "keygen",
      "Generate a signing key pair: FILE (private, 0600) and FILE.pub");
  keygen
      ->add_option("-a,--algorithm", flags.keygen.algorithm,
                   "ecdsa-p256, ed25519 or sm2")
      ->capture_default_str();
  keygen
      ->add_option("-o,--output", flags.keygen.output,
                   "Private key file to write (the public key goes to "
                   "FILE.pub)")
      ->required();
  keygen->add_flag("--force", flags.keygen.force, "Replace existing files");
  AddJson(keygen, flags);
  keygen->callback([&] {
    action = [&](const Context& ctx) { return RunKeygen(ctx, flags.keygen); };
  });

  // ---- genesis init
  CLI::App* genesis =
      app.add_subcommand("genesis", "Create a new ledger's genesis");
  genesis->require_subcommand(1);
  CLI::App* genesis_init = genesis->add_subcommand(
      "init",
      "Write DIR/genesis.json with N validators and the founding members, and "
      "their keys (DIR/validator-K.key, DIR/ID.key + .pub)");
  genesis_init
      ->add_option("--chain-id", flags.genesis_init.chain_id,
                   "Chain id, e.g. cdl-test")
      ->required();
  genesis_init
      ->add_option("-o,--output-dir", flags.genesis_init.output_dir,
                   "Directory to write into (created if missing)")
      ->required();
  genesis_init
      ->add_option("--validators", flags.genesis_init.validators,
                   "Number of validators (3f+1 tolerates f faulty)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  genesis_init
      ->add_option("--base-port", flags.genesis_init.base_port,
                   "Validator K's peer address is 127.0.0.1:(P+K)")
      ->capture_default_str();
  genesis_init
      ->add_option("--founder", flags.genesis_init.founders,
                   "Founding member ID:ROLE:JURISDICTION[:NAME], repeatable; "
                   "roles: regulator, accreditor, certifier, park, enterprise")
      ->required();
  genesis_init
      ->add_option("-a,--algorithm", flags.genesis_init.algorithm,
                   "Key algorithm: ecdsa-p256, ed25519 or sm2")
      ->capture_default_str();
  genesis_init->add_flag("--force", flags.genesis_init.force,
                         "Replace existing files");
  genesis_init->add_flag("--tls", flags.genesis_init.tls,
                         "Also write a cluster CA and validator mTLS "
                         "certificates (validator-K.crt, ca.pem)");
  AddJson(genesis_init, flags);
  genesis_init->callback([&] {
    action = [&](const Context& ctx) {
      return RunGenesisInit(ctx, flags.genesis_init);
    };
  });

  // ---- member register
  CLI::App* member = app.add_subcommand("member", "Manage members");
  member->require_subcommand(1);
  CLI::App* member_register = member->add_subcommand(
      "register",
      "Register a member (signed by a regulator, or by a park for its own "
      "enterprises)");
  MemberRegisterOptions& reg = flags.member_register;
  CLI::Option* reg_sequence = AddAuthor(member_register, reg.author, flags);
  member_register->add_option("--id", reg.id, "New member id, e.g. acme-steel")
      ->required();
  member_register
      ->add_option("--role", reg.role,
                   "regulator, accreditor, certifier, park or enterprise")
      ->required();
  member_register
      ->add_option("--jurisdiction", reg.jurisdiction,
                   "ISO 3166-1 alpha-2 code or a union code such as EU")
      ->required();
  member_register->add_option("--park", reg.park,
                              "For an enterprise: the admitting park's id");
  member_register->add_option("--name", reg.name, "Display name");
  member_register
      ->add_option("--member-key", reg.member_keys,
                   "The member's public key file (PEM, e.g. FILE.pub from "
                   "'cdl keygen'); repeatable")
      ->required();
  member_register->add_option("--valid-from", reg.valid_from,
                              "RFC 3339 time (default: its block time)");
  member_register->add_option("--valid-until", reg.valid_until,
                              "RFC 3339 time (default: no end)");
  member_register->callback([&] {
    if (reg_sequence->count() > 0) reg.author.sequence = flags.sequence;
    action = [&](const Context& ctx) { return RunMemberRegister(ctx, reg); };
  });

  // ---- disclose
  CLI::App* disclose = app.add_subcommand(
      "disclose", "Submit an organisational GHG disclosure from a JSON file");
  CLI::Option* disclose_sequence =
      AddAuthor(disclose, flags.disclose.author, flags);
  disclose
      ->add_option("-f,--file", flags.disclose.file,
                   "JSON object with the Disclosure fields of records.proto "
                   "(snake_case): period, scope1_tco2e, scope2_location_tco2e, "
                   "scope2_market_tco2e, scope3_tco2e, energy_mwh, "
                   "renewable_share_pct, methodology, evidence_hashes (hex), "
                   "supersedes (hex), organisation (default: --as); decimals "
                   "as strings")
      ->required();
  disclose->add_option("--supersedes", flags.disclose.supersedes,
                       "Record id of the disclosure this one replaces");
  disclose->callback([&] {
    if (disclose_sequence->count() > 0) {
      flags.disclose.author.sequence = flags.sequence;
    }
    action = [&](const Context& ctx) {
      return RunDisclose(ctx, flags.disclose);
    };
  });

  // ---- footprint import / validate
  CLI::App* footprint =
      app.add_subcommand("footprint", "PACT v2 product carbon footprints");
  footprint->require_subcommand(1);
  CLI::App* footprint_import = footprint->add_subcommand(
      "import",
      "Validate a PACT v2 file (one ProductFootprint, an array, or "
      "{\"data\": ...}) and submit each footprint as a record");
  CLI::Option* import_sequence =
      AddAuthor(footprint_import, flags.footprint_import.author, flags);
  footprint_import
      ->add_option("-f,--file", flags.footprint_import.file,
                   "PACT v2 JSON file")
      ->required();
  footprint_import->add_option(
      "--supersedes", flags.footprint_import.supersedes,
      "Record id of the footprint this one replaces (one-footprint files)");
  footprint_import->callback([&] {
    if (import_sequence->count() > 0) {
      flags.footprint_import.author.sequence = flags.sequence;
    }
    action = [&](const Context& ctx) {
      return RunFootprintImport(ctx, flags.footprint_import);
    };
  });
  CLI::App* footprint_validate = footprint->add_subcommand(
      "validate",
      "Check a PACT v2 file offline: exit 0, or 1 listing each bad field by "
      "JSON path; --json prints the footprints exactly as they would be "
      "stored");
  footprint_validate
      ->add_option("FILE", flags.footprint_validate.file, "PACT v2 JSON file")
      ->required();
  AddJson(footprint_validate, flags);
  footprint_validate->callback([&] {
    action = [&](const Context& ctx) {
      return RunFootprintValidate(ctx, flags.footprint_validate);
    };
  });

  // ---- accredit
  CLI::App* accredit = app.add_subcommand(
      "accredit",
      "Accredit a certifier for standards in your own jurisdiction (by an "
      "accreditor or regulator)");
  AccreditOptions& acc = flags.accredit;
  CLI::Option* accredit_sequence = AddAuthor(accredit, acc.author, flags);
  accredit->add_option("--certifier", acc.certifier, "Certifier's member id")
      ->required();
  accredit
      ->add_option("--standard", acc.standards,
                   "Standard it may certify against, e.g. \"ISO 14067\"; "
                   "repeatable")
      ->required();
  accredit
      ->add_option("--jurisdiction", acc.jurisdictions,
                   "Jurisdiction it may certify in (the author's), e.g. CN; "
                   "repeatable")
      ->required();
  accredit->add_option("--valid-from", acc.valid_from, kValidFromHelp);
  accredit->add_option("--valid-until", acc.valid_until, kValidUntilHelp)
      ->required();
  SetAuthorAction(accredit, accredit_sequence, acc, flags, action,
                  &RunAccredit);

  // ---- certify
  CLI::App* certify = app.add_subcommand(
      "certify",
      "Certify an accepted disclosure or product footprint (by a certifier "
      "accredited for the standard in the subject's jurisdiction)");
  CertifyOptions& cert = flags.certify;
  CLI::Option* certify_sequence = AddAuthor(certify, cert.author, flags);
  certify
      ->add_option("--subject", cert.subject,
                   "Record id of the disclosure or footprint (64 hex digits)")
      ->required();
  certify->add_option("--standard", cert.standard, "e.g. \"ISO 14067\"")
      ->required();
  certify->add_option("--assurance", cert.assurance, "limited or reasonable")
      ->required();
  certify->add_option("--materiality", cert.materiality,
                      "Materiality threshold in percent, a decimal, e.g. 5");
  certify->add_option("--valid-from", cert.valid_from, kValidFromHelp);
  certify->add_option("--valid-until", cert.valid_until, kValidUntilHelp)
      ->required();
  certify->add_option("--statement", cert.statement,
                      "Verification statement file; its SHA-256 is recorded");
  certify->add_option("--statement-hash", cert.statement_hash,
                      "Or the statement's SHA-256 (64 hex digits)");
  certify->add_option("--conditions", cert.conditions,
                      "Conditions or qualifications of the opinion");
  certify
      ->add_option("--jurisdiction", cert.jurisdiction,
                   "Jurisdiction of the accreditation it is issued under "
                   "(the subject organisation's), e.g. CN")
      ->required();
  SetAuthorAction(certify, certify_sequence, cert, flags, action, &RunCertify);

  // ---- suspend / revoke / reinstate
  AddStatusChange(app, "suspend",
                  "Suspend a certificate, accreditation, agreement, member or "
                  "key (ACTIVE -> SUSPENDED)",
                  StatusChangeKind::kSuspend, flags.suspend, flags, action);
  AddStatusChange(app, "revoke",
                  "Revoke a certificate, accreditation, agreement, member or "
                  "key (final)",
                  StatusChangeKind::kRevoke, flags.revoke, flags, action);
  AddStatusChange(app, "reinstate",
                  "Reinstate a suspended certificate, accreditation, "
                  "agreement, member or key",
                  StatusChangeKind::kReinstate, flags.reinstate, flags, action);

  // ---- renew
  CLI::App* renew = app.add_subcommand(
      "renew",
      "Extend an active accreditation (by its issuer) or certificate (by its "
      "certifier)");
  CLI::Option* renew_sequence = AddAuthor(renew, flags.renew.author, flags);
  renew
      ->add_option("--record", flags.renew.record,
                   "Record id of the accreditation or certificate")
      ->required();
  renew
      ->add_option("--valid-until", flags.renew.valid_until,
                   "New end of validity, later than the current one "
                   "(RFC 3339 time or date)")
      ->required();
  SetAuthorAction(renew, renew_sequence, flags.renew, flags, action, &RunRenew);

  // ---- terminate
  CLI::App* terminate = app.add_subcommand(
      "terminate", "End a recognition agreement (by either party; final)");
  CLI::Option* terminate_sequence =
      AddAuthor(terminate, flags.terminate.author, flags);
  terminate
      ->add_option("--agreement", flags.terminate.agreement,
                   "Record id of the recognition agreement")
      ->required();
  terminate
      ->add_option("--reason", flags.terminate.reason,
                   "Why; recorded on the ledger")
      ->required();
  SetAuthorAction(terminate, terminate_sequence, flags.terminate, flags, action,
                  &RunTerminate);

  // ---- recognise create / cosign / submit
  CLI::App* recognise = app.add_subcommand(
      "recognise",
      "Recognition agreements between two accreditors or regulators: party A "
      "creates, party B co-signs, anyone submits");
  recognise->require_subcommand(1);
  CLI::App* recognise_create = recognise->add_subcommand(
      "create",
      "Write an agreement signed by you (party A, --as) to a co-sign file "
      "for party B");
  RecogniseCreateOptions& rc = flags.recognise_create;
  CLI::Option* create_sequence = AddSigner(recognise_create, rc.author, flags);
  recognise_create
      ->add_option("--party-b", rc.party_b, "Member id of the other party")
      ->required();
  recognise_create
      ->add_option("--jurisdiction-a", rc.jurisdiction_a,
                   "Your (party A's) jurisdiction, e.g. CN")
      ->required();
  recognise_create
      ->add_option("--jurisdiction-b", rc.jurisdiction_b,
                   "Party B's jurisdiction, e.g. EU")
      ->required();
  recognise_create
      ->add_option("--standard", rc.standards,
                   "Standard whose certificates are recognised, e.g. "
                   "\"ISO 14067\"; repeatable")
      ->required();
  recognise_create
      ->add_option("--direction", rc.direction,
                   "mutual, a-recognises-b (A accepts certificates issued "
                   "under B) or b-recognises-a")
      ->required();
  recognise_create->add_option("--valid-from", rc.valid_from, kValidFromHelp);
  recognise_create->add_option("--valid-until", rc.valid_until, kValidUntilHelp)
      ->required();
  recognise_create
      ->add_option("-o,--output", rc.output,
                   "Co-sign file to write (JSON, mode 0644)")
      ->required();
  recognise_create->add_flag("--force", rc.force, "Replace an existing file");
  AddNode(recognise_create, flags);
  AddJson(recognise_create, flags);
  SetAuthorAction(recognise_create, create_sequence, rc, flags, action,
                  &RunRecogniseCreate);

  CLI::App* recognise_cosign = recognise->add_subcommand(
      "cosign",
      "Add your signature as party B to a co-sign file (offline; refuses "
      "unless you are its party B)");
  recognise_cosign
      ->add_option("FILE", flags.recognise_cosign.file,
                   "Co-sign file from 'cdl recognise create'")
      ->required();
  recognise_cosign
      ->add_option("--as", flags.recognise_cosign.as,
                   "Your member id: the agreement's party B")
      ->required();
  recognise_cosign
      ->add_option("--key", flags.recognise_cosign.key_file,
                   "Your private key file (PKCS#8 PEM, mode 0600)")
      ->required();
  AddJson(recognise_cosign, flags);
  recognise_cosign->callback([&] {
    action = [&](const Context& ctx) {
      return RunRecogniseCosign(ctx, flags.recognise_cosign);
    };
  });

  CLI::App* recognise_submit = recognise->add_subcommand(
      "submit", "Submit a co-sign file signed by both parties");
  recognise_submit
      ->add_option("FILE", flags.recognise_submit.file,
                   "Co-sign file signed by party A and party B")
      ->required();
  AddWait(recognise_submit, flags.recognise_submit.no_wait,
          flags.recognise_submit.wait_seconds);
  AddNode(recognise_submit, flags);
  AddJson(recognise_submit, flags);
  recognise_submit->callback([&] {
    action = [&](const Context& ctx) {
      return RunRecogniseSubmit(ctx, flags.recognise_submit);
    };
  });

  // ---- passport export / verify / qr
  CLI::App* passport = app.add_subcommand(
      "passport",
      "Green passports: one file proving a certified footprint, verifiable "
      "offline against the genesis alone");
  passport->require_subcommand(1);
  CLI::App* passport_export = passport->add_subcommand(
      "export",
      "Write the passport of a certified footprint (or disclosure) for a "
      "jurisdiction, proven against the latest checkpoint");
  PassportExportOptions& pe = flags.passport_export;
  passport_export
      ->add_option("--footprint,--subject", pe.subject,
                   "Record id of the certified product footprint or disclosure")
      ->required();
  passport_export
      ->add_option("--for-jurisdiction", pe.jurisdiction,
                   "Jurisdiction it will be presented in, e.g. EU")
      ->required();
  passport_export->add_option("-o,--output", pe.output, "Passport file to write")
      ->required();
  passport_export->add_flag("--force", pe.force, "Replace an existing file");
  passport_export->add_option(
      "--wait", pe.wait_seconds,
      "Seconds to wait for a checkpoint that covers the node's committed "
      "height (default 10)");
  AddNode(passport_export, flags);
  AddJson(passport_export, flags);
  passport_export->callback([&] {
    action = [&](const Context& ctx) {
      return RunPassportExport(ctx, flags.passport_export);
    };
  });

  CLI::App* passport_verify = passport->add_subcommand(
      "verify",
      "Check a passport offline: exit 0 and VALID with a summary, or exit 1 "
      "and INVALID with every reason");
  PassportVerifyOptions& pv = flags.passport_verify;
  passport_verify->add_option("FILE", pv.file, "Passport file")->required();
  passport_verify
      ->add_option("--trust", pv.genesis,
                   "genesis.json of the ledger you trust (validators inline)")
      ->required();
  passport_verify->add_option(
      "--jurisdiction", pv.jurisdiction,
      "Your jurisdiction (default: the one the passport was made for)");
  passport_verify->add_option(
      "--at", pv.at,
      "Check validity windows at this time (RFC 3339 or YYYY-MM-DD; default "
      "now)");
  passport_verify->add_option(
      "--max-age", pv.max_age,
      "Reject a passport whose checkpoint is older, e.g. 30d, 12h");
  AddJson(passport_verify, flags);
  passport_verify->callback([&] {
    action = [&](const Context& ctx) {
      return RunPassportVerify(ctx, flags.passport_verify);
    };
  });

  CLI::App* passport_qr = passport->add_subcommand(
      "qr",
      "Write a QR code (SVG or PNG) of a passport, or of a reference pinning "
      "it by hash when it is too large");
  PassportQrOptions& pq = flags.passport_qr;
  passport_qr->add_option("FILE", pq.file, "Passport file")->required();
  passport_qr->add_option("-o,--output", pq.output, "Image to write: NAME.svg or NAME.png")
      ->required();
  passport_qr->add_option(
      "--url", pq.url,
      "Where the full passport can be fetched (put into the reference)");
  AddJson(passport_qr, flags);
  passport_qr->callback([&] {
    action = [&](const Context& ctx) {
      return RunPassportQr(ctx, flags.passport_qr);
    };
  });

  // ---- audit report / anomalies / verify-log / consistency-proof
  AddAuditCommands(app, flags.audit, flags.node, flags.json, action);

  // ---- get
  CLI::App* get = app.add_subcommand(
      "get", "Show a record (decoded body, signatures) and its receipt");
  get->add_option("RECORD_ID", flags.get.record_id, "Record id (64 hex digits)")
      ->required();
  AddNode(get, flags);
  AddJson(get, flags);
  get->callback([&] {
    action = [&](const Context& ctx) { return RunGet(ctx, flags.get); };
  });

  // ---- query
  CLI::App* query = app.add_subcommand(
      "query", "List records by member, type, reporting period or park");
  query->add_option("--member", flags.query.member,
                    "Author or subject organisation");
  query->add_option("--type", flags.query.type,
                    "Record type, e.g. disclosure, product_footprint, "
                    "member_registration");
  query->add_option("--period", flags.query.period,
                    "Reporting period: 2026, 2026-Q1 or 2026-03");
  query->add_option("--park", flags.query.park, "Park member id");
  query->add_option("--limit", flags.query.limit,
                    "Records per page (node default 100, at most 1000)");
  query->add_option("--page-token", flags.query.page_token,
                    "Continue after a previous page");
  query->add_flag("--all", flags.query.all, "Fetch every page");
  query->add_option("--standard", flags.query.standard,
                    "Certificates issued for this standard, e.g. "
                    "\"ISO 14064-3\"");
  query->add_option("--certificate-status", flags.query.certificate_status,
                    "Certificates by current status: active, suspended, "
                    "revoked or expired (active with its validity ended)")
      ->check(CLI::IsMember({"active", "suspended", "revoked", "expired"}));
  AddNode(query, flags);
  AddJson(query, flags);
  query->callback([&] {
    action = [&](const Context& ctx) { return RunQuery(ctx, flags.query); };
  });

  // ---- watch
  CLI::App* watch = app.add_subcommand(
      "watch",
      "Print committed records live, one line each (height, index, type, "
      "record id, author, status); resumes by itself when the stream is "
      "lost; Ctrl-C ends it");
  watch->add_option("--from-height", flags.watch.from_height,
                    "Start with this block, replaying history (default: the "
                    "next block to commit)");
  watch->add_option("--type", flags.watch.type,
                    "Record type, e.g. disclosure, certificate");
  watch->add_option("--member", flags.watch.member,
                    "Author or subject member");
  watch->add_option("--jurisdiction", flags.watch.jurisdiction,
                    "Jurisdiction of the author or subject member, e.g. CN");
  watch->add_option("--park", flags.watch.park, "Park member id");
  watch->add_option("--period", flags.watch.period,
                    "Reporting period: 2026, 2026-Q1 or 2026-03");
  watch->add_flag("--accepted-only", flags.watch.accepted_only,
                  "Leave out records the ledger rejected");
  watch->add_option("--format", flags.watch.format,
                    "text (default) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  AddNode(watch, flags);
  AddJson(watch, flags);
  watch->callback([&] {
    action = [&](const Context& ctx) { return RunWatch(ctx, flags.watch); };
  });

  // ---- status
  CLI::App* status = app.add_subcommand(
      "status", "Show the node's chain, height, ledger size and root");
  AddNode(status, flags);
  AddJson(status, flags);
  status->callback(
      [&] { action = [&](const Context& ctx) { return RunStatus(ctx); }; });

  // ---- checkpoint
  CLI::App* checkpoint = app.add_subcommand(
      "checkpoint",
      "Fetch a checkpoint (block header + commit certificate), the cosigned "
      "ledger head");
  checkpoint->add_option("--height", flags.checkpoint.height,
                         "Block height (default: latest)");
  checkpoint->add_option("-o,--output", flags.checkpoint.output,
                         "Write the checkpoint (protobuf JSON) to this file");
  AddNode(checkpoint, flags);
  AddJson(checkpoint, flags);
  checkpoint->callback([&] {
    action = [&](const Context& ctx) {
      return RunCheckpoint(ctx, flags.checkpoint);
    };
  });

  // ---- proof
  CLI::App* proof = app.add_subcommand(
      "proof",
      "Fetch an offline-verifiable proof bundle for an accepted record: the "
      "signed record, its inclusion proof and a checkpoint");
  proof
      ->add_option("RECORD_ID", flags.proof.record_id,
                   "Record id (64 hex digits)")
      ->required();
  proof->add_option("-o,--output", flags.proof.output,
                    "Write the bundle to this file (default: stdout)");
  AddNode(proof, flags);
  AddJson(proof, flags);
  proof->callback([&] {
    action = [&](const Context& ctx) { return RunProof(ctx, flags.proof); };
  });

  // ---- verify-proof / verify-checkpoint
  CLI::App* verify_proof = app.add_subcommand(
      "verify-proof",
      "Verify a proof bundle offline against a genesis: prints VALID or "
      "INVALID with the reasons");
  verify_proof
      ->add_option("FILE", flags.verify_proof.file,
                   "Proof bundle from 'cdl proof'")
      ->required();
  verify_proof
      ->add_option("--genesis", flags.verify_proof.genesis,
                   "genesis.json of the ledger you trust")
      ->required();
  AddJson(verify_proof, flags);
  verify_proof->callback([&] {
    action = [&](const Context& ctx) {
      return RunVerifyProof(ctx, flags.verify_proof);
    };
  });
  CLI::App* verify_checkpoint = app.add_subcommand(
      "verify-checkpoint",
      "Verify a checkpoint file offline against a genesis: prints VALID or "
      "INVALID with the reasons");
  verify_checkpoint
      ->add_option("FILE", flags.verify_checkpoint.file,
                   "Checkpoint from 'cdl checkpoint -o'")
      ->required();
  verify_checkpoint
      ->add_option("--genesis", flags.verify_checkpoint.genesis,
                   "genesis.json of the ledger you trust")
      ->required();
  AddJson(verify_checkpoint, flags);
  verify_checkpoint->callback([&] {
    action = [&](const Context& ctx) {
      return RunVerifyCheckpoint(ctx, flags.verify_checkpoint);
    };
  });

  app.footer(kFooter);
  app.require_subcommand(0, 1);

  // CLI11 consumes arguments from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    const std::string path = CommandPath(app);
    err << "cdl: " << (path.empty() ? "" : path + ": ") << e.what()
        << " — run 'cdl " << (path.empty() ? "" : path + " ") << "--help'\n";
    return kExitUsage;
  }
  if (!action) {
    err << "cdl: no command given — run 'cdl --help' for the list of "
           "commands\n";
    return kExitUsage;
  }

  Context ctx;
  ctx.node = ResolveNodeAddress(flags.node);
  ctx.json = flags.json;
  ctx.out = &out;
  ctx.err = &err;
  absl::Status result = action(ctx);
  out.flush();
  if (!result.ok()) err << "cdl: " << result.message() << "\n";
  return ExitCodeOf(result);
}

}  // namespace cdl::cli
