#!/usr/bin/env bash
# `make demo`: a guided, non-interactive walkthrough of cdl on one machine.
#
#   deploy/demo.sh BUILD_DIR
#
# Starts a local 4-validator cluster (deploy/local-cluster.sh; data in ./demo-out/cluster),
# then uses the `cdl` CLI to register a park and an enterprise, submit an
# organisational disclosure and a PACT product footprint, read them back,
# fetch an inclusion proof and a checkpoint, stop the node and verify both
# offline. Artifacts are left in ./demo-out/. Everything it started is stopped
# on success and on failure. Exit 0 on success, non-zero with a message
# otherwise.
#
# Environment: CDL_DEMO_PORT=N: validators listen on N+1..N+4 (clients) and N+100..N+103 (peers)
# (default 7400, or a free range if those are taken; 0 = any free range).
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR   (the folder 'make build' built into)" >&2; exit 2; }
[ $# -eq 1 ] || usage

BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || { echo "demo: build folder '$1' not found — run 'make build' first" >&2; exit 1; }
CDL_BIN="$BUILD_DIR/cli/cdl"
NODE_BIN="$BUILD_DIR/node/cdl-node"
OUT="demo-out"  # relative to the current folder, as `make demo` shows it
CLUSTER="$OUT/cluster"
NODE_LOG="$CLUSTER/node1.log"
REPO=$(cd "$(dirname "$0")/.." && pwd)
NODE_PID=""
STEP=0
STEP_TITLE="setup"

for bin in "$CDL_BIN" "$NODE_BIN"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing — run 'make build' first" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed to read JSON output — run 'make deps'" >&2; exit 1; }

# ---- output helpers ----------------------------------------------------------
if [ -t 1 ]; then BOLD=$'\e[1m'; DIM=$'\e[2m'; GREEN=$'\e[32m'; RED=$'\e[31m'; RESET=$'\e[0m'
else BOLD=""; DIM=""; GREEN=""; RED=""; RESET=""; fi

step() {
  STEP=$((STEP + 1)); STEP_TITLE="$1"; shift
  printf '\n%s%d. %s%s\n' "$BOLD" "$STEP" "$STEP_TITLE" "$RESET"
  for line in "$@"; do printf '   %s\n' "$line"; done
}

# The command line as a user would type it (arguments with spaces quoted).
show() {
  local words=() arg
  for arg in "$@"; do
    if [[ "$arg" == *[[:space:]]* ]]; then words+=("\"$arg\""); else words+=("$arg"); fi
  done
  printf '%s   $ %s%s\n' "$DIM" "${words[*]}" "$RESET"
}

# Runs `cdl ARGS...`, showing the command and its indented output.
cdl() {
  show cdl "$@"
  local output rc=0
  output=$("$CDL_BIN" "$@" 2>&1) || rc=$?
  [ -n "$output" ] && printf '%s\n' "$output" | sed 's/^/     /'
  return $rc
}

# Runs `cdl ARGS... --json` quietly and prints FIELD of its JSON output
# (FIELD may be "0.record_id" for arrays).
cdl_field() {
  local field=$1; shift
  "$CDL_BIN" "$@" --json | python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(value)' "$field"
}

fail() { echo "${RED}demo FAILED at step $STEP ($STEP_TITLE): $*${RESET}" >&2; exit 1; }

stop_node() {
  [ -n "$NODE_PID" ] || return 0
  CDL_BUILD_DIR="$BUILD_DIR" bash "$REPO/deploy/local-cluster.sh" stop --dir "$CLUSTER" >/dev/null 2>&1 || true
  NODE_PID=""
}

on_exit() {
  local rc=$?
  stop_node
  if [ $rc -ne 0 ]; then
    echo "${RED}demo failed (exit $rc) during step $STEP: $STEP_TITLE${RESET}" >&2
    if [ -f "$NODE_LOG" ]; then
      echo "last lines of $NODE_LOG:" >&2
      tail -n 15 "$NODE_LOG" | sed 's/^/  /' >&2
    fi
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the walkthrough ---------------------------------------------------------
echo "${BOLD}cdl demo — the Carbon Disclosure Ledger on one machine${RESET}"
echo "binaries: $BUILD_DIR    artifacts: $PWD/$OUT"

# Client API ports BASE+1..BASE+4, peer ports BASE+100..BASE+103.
range_free() { python3 "$REPO/deploy/cluster-ports.py" check "$1"; }
free_base() { python3 "$REPO/deploy/cluster-ports.py" free; }
BASE=${CDL_DEMO_PORT:-7400}
if [ "$BASE" = 0 ]; then
  BASE=$(free_base)
elif ! range_free "$BASE"; then
  if [ -n "${CDL_DEMO_PORT:-}" ]; then
    fail "ports $((BASE + 1))-$((BASE + 4)) / $((BASE + 100))-$((BASE + 103)) (CDL_DEMO_PORT=$BASE) are in use — pick another base"
  fi
  NEW_BASE=$(free_base)
  [ -n "$NEW_BASE" ] || fail "ports 7401-7404 are in use and no free range was found — stop what listens there"
  echo "ports 7401-7404 are in use (another cluster?); the demo uses ports from $NEW_BASE instead"
  BASE=$NEW_BASE
fi
export CDL_NODE="127.0.0.1:$((BASE + 1))"

step "Start a local cluster of 4 validators" \
  "Four cdl-node processes, as four parties would run them, replicate every record by" \
  "BFT consensus over mutual TLS. 'cdl genesis init --tls' writes the genesis (chain" \
  "'cdl-local'), validator keys and certificates, and the keys of the founding members," \
  "among them 'reg-cn', a regulator for jurisdiction CN who may register parks."
rm -rf "$OUT"
mkdir -p "$OUT"
show deploy/local-cluster.sh start --dir "$CLUSTER"
NODE_PID=cluster
CDL_BUILD_DIR="$BUILD_DIR" CDL_CLUSTER_PORT=$BASE bash "$REPO/deploy/local-cluster.sh" start --dir "$CLUSTER" \
  | sed 's/^/     /' || fail "the cluster did not start (see $CLUSTER/node*.log)"
cdl status
GENESIS="$CLUSTER/genesis.json"
cp "$GENESIS" "$OUT/genesis.json"
FOUNDER_KEY="$CLUSTER/reg-cn.key"

step "Create keys for a park and an enterprise" \
  "Each member signs its own records. Private keys are PKCS#8 files with mode 0600;" \
  "the .pub file is what gets registered. The enterprise uses the Chinese SM2 algorithm."
cdl keygen --algorithm ecdsa-p256 -o "$OUT/sip-park.key"
cdl keygen --algorithm sm2 -o "$OUT/acme-steel.key"

step "The regulator registers the industrial park" \
  "A record is signed locally, submitted, and ACCEPTED once its block commits."
cdl member register --as reg-cn --key "$FOUNDER_KEY" \
  --id sip-park --role park --jurisdiction CN --name "Suzhou Industrial Park" \
  --member-key "$OUT/sip-park.key.pub"

step "The park admits an enterprise (supplier admission)" \
  "Parks may register enterprises into their own park only."
cdl member register --as sip-park --key "$OUT/sip-park.key" \
  --id acme-steel --role enterprise --jurisdiction CN --park sip-park \
  --name "Acme Steel Co." --member-key "$OUT/acme-steel.key.pub"

step "The enterprise discloses its 2025 GHG inventory" \
  "Quantities are decimal strings, stored exactly as written."
cat >"$OUT/disclosure-2025.json" <<'EOF'
{
  "period": "2025",
  "scope1_tco2e": "12500.750",
  "scope2_location_tco2e": "8300",
  "scope2_market_tco2e": "6100.25",
  "scope3_tco2e": "45210.0",
  "energy_mwh": "42000.5",
  "renewable_share_pct": "37.5",
  "methodology": "ISO 14064-1:2018"
}
EOF
sed 's/^/     /' "$OUT/disclosure-2025.json"
cdl disclose --as acme-steel --key "$OUT/acme-steel.key" --file "$OUT/disclosure-2025.json"
DISCLOSURE_ID=$(cdl_field records.0.record_id query --member acme-steel --type disclosure) ||
  fail "the disclosure is not in the ledger"

step "The enterprise imports a PACT v2 product carbon footprint" \
  "The file is checked offline first (every bad field would be named by its JSON path)," \
  "then each footprint is submitted as a record."
cat >"$OUT/footprint-hrc.json" <<'EOF'
{
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
    "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO Standard 14067"],
    "referencePeriodStart": "2023-01-01T00:00:00Z",
    "referencePeriodEnd": "2024-01-01T00:00:00Z",
    "geographyCountry": "CN",
    "exemptedEmissionsPercent": 1.5,
    "exemptedEmissionsDescription": "Office consumables",
    "packagingEmissionsIncluded": false,
    "primaryDataShare": 62.5
  }
}
EOF
cdl footprint validate "$OUT/footprint-hrc.json"
cdl footprint import --as acme-steel --key "$OUT/acme-steel.key" --file "$OUT/footprint-hrc.json"
FOOTPRINT_ID=$(cdl_field records.0.record_id query --member acme-steel --type product_footprint) ||
  fail "the footprint is not in the ledger"

UNTIL=$(date -u -d "+400 days" +%Y-%m-%d)

step "A certification body, accredited in China" \
  "The CN regulator registers the verification body 'cn-verify'; the CN accreditation" \
  "body 'acc-cn' accredits it for ISO 14067 footprints in CN until $UNTIL."
cdl keygen --algorithm ecdsa-p256 -o "$OUT/cn-verify.key"
cdl member register --as reg-cn --key "$FOUNDER_KEY" \
  --id cn-verify --role certifier --jurisdiction CN --name "CN Carbon Verification Centre" \
  --member-key "$OUT/cn-verify.key.pub"
cdl accredit --as acc-cn --key "$CLUSTER/acc-cn.key" --certifier cn-verify \
  --standard "ISO 14067" --standard "ISO 14064-3" --jurisdiction CN --valid-until "$UNTIL"

step "The footprint is verified and certified" \
  "cn-verify checks the footprint and records a certificate: standard, assurance level," \
  "materiality, validity, and the SHA-256 of its verification statement."
cat >"$OUT/verification-statement.txt" <<'EOF'
Verification statement: the product carbon footprint of HRC-2mm (Acme Steel Co.)
was verified to ISO 14067:2018 with reasonable assurance, materiality 5 %.
EOF
show cdl certify --as cn-verify --key "$OUT/cn-verify.key" --subject "$FOOTPRINT_ID" \
  --standard "ISO 14067" --assurance reasonable --materiality 5 \
  --statement "$OUT/verification-statement.txt" --jurisdiction CN --valid-until "$UNTIL"
CERTIFICATE_ID=$(cdl_field record_id certify --as cn-verify --key "$OUT/cn-verify.key" \
  --subject "$FOOTPRINT_ID" --standard "ISO 14067" --assurance reasonable --materiality 5 \
  --statement "$OUT/verification-statement.txt" --jurisdiction CN --valid-until "$UNTIL") ||
  fail "the certificate was not accepted"
echo "     ACCEPTED certificate $CERTIFICATE_ID"

step "China and the EU recognise each other's ISO 14067 certificates" \
  "A recognition agreement needs both parties' signatures: acc-cn creates and signs it," \
  "acc-eu co-signs the file, then it is submitted."
cdl recognise create --as acc-cn --key "$CLUSTER/acc-cn.key" --party-b acc-eu \
  --jurisdiction-a CN --jurisdiction-b EU --standard "ISO 14067" --direction mutual \
  --valid-until "$UNTIL" -o "$OUT/agreement-cn-eu.json"
cdl recognise cosign "$OUT/agreement-cn-eu.json" --as acc-eu --key "$CLUSTER/acc-eu.key"
cdl recognise submit "$OUT/agreement-cn-eu.json"

step "Export the green passport for an EU buyer" \
  "One file: the footprint, its certificate, the certifier's registration and" \
  "accreditation, the CN-EU agreement, every signature, Merkle proofs into one" \
  "checkpoint cosigned by the validators, and proofs of every status at that checkpoint."
cdl passport export --footprint "$FOOTPRINT_ID" --for-jurisdiction EU -o "$OUT/passport-hrc-eu.cdlp"
cdl passport qr "$OUT/passport-hrc-eu.cdlp" -o "$OUT/passport-hrc-eu.png"
cdl passport qr "$OUT/passport-hrc-eu.cdlp" -o "$OUT/passport-hrc-eu.svg"

step "Later, the certificate is revoked" \
  "cn-verify revokes it; a passport exported afterwards carries the revoked status."
cdl revoke --as cn-verify --key "$OUT/cn-verify.key" --record "$CERTIFICATE_ID" \
  --reason "primary data for the reference period could not be substantiated"
cdl passport export --footprint "$FOOTPRINT_ID" --for-jurisdiction EU -o "$OUT/passport-hrc-eu-revoked.cdlp"
cdl passport qr "$OUT/passport-hrc-eu-revoked.cdlp" -o "$OUT/passport-hrc-eu-revoked.png"

step "Read the records back" \
  "Anyone with node access can list and read records; bodies are shown as signed."
cdl query --member acme-steel
cdl get "$DISCLOSURE_ID"
"$CDL_BIN" get "$FOOTPRINT_ID" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
pf = json.loads(r["body"]["product_footprint"]["pact_json"])
print("     footprint %s: %s, %s kgCO2e per %s %s (status %s)" % (
    pf["id"], pf["productNameCompany"], pf["pcf"]["pCfExcludingBiogenic"],
    pf["pcf"]["unitaryProductAmount"], pf["pcf"]["declaredUnit"],
    r["receipt"]["status"]))' || fail "could not read the footprint back"

step "Fetch an inclusion proof and a checkpoint" \
  "The proof bundle holds the signed record, its Merkle inclusion proof and a" \
  "checkpoint: a block header cosigned by the validators (a commit certificate)."
# The checkpoint needs a quorum of validators to sign the executed block: a
# moment after the record is ACCEPTED.
for _ in $(seq 1 50); do
  "$CDL_BIN" proof "$DISCLOSURE_ID" -o "$OUT/disclosure.proof.json" >/dev/null 2>&1 && break
  sleep 0.2
done
cdl proof "$DISCLOSURE_ID" -o "$OUT/disclosure.proof.json"
cdl checkpoint -o "$OUT/checkpoint.json"

step "Stop the cluster" \
  "From here on nothing talks to a node: only the files and the genesis are used."
stop_node
echo "     cluster stopped"

step "Verify the proof and the checkpoint offline" \
  "Checks the commit signatures against the genesis validators and the record's" \
  "Merkle path to the cosigned ledger root."
cdl verify-proof "$OUT/disclosure.proof.json" --genesis "$OUT/genesis.json" ||
  fail "the proof did not verify"
cdl verify-checkpoint "$OUT/checkpoint.json" --genesis "$OUT/genesis.json" ||
  fail "the checkpoint did not verify"

step "The EU buyer verifies the green passport offline" \
  "Only the passport file and the genesis: signatures, Merkle and status proofs, the" \
  "commit certificate, roles, accreditation, the CN-EU recognition path, validity now."
cdl passport verify "$OUT/passport-hrc-eu.cdlp" --trust "$OUT/genesis.json" ||
  fail "the passport did not verify"

step "The passport exported after the revocation is INVALID" \
  "Every reason is listed; the exit code is 1. (The earlier passport still shows the" \
  "status at its own checkpoint; a buyer who needs today's status passes --max-age.)"
if cdl passport verify "$OUT/passport-hrc-eu-revoked.cdlp" --trust "$OUT/genesis.json"; then
  fail "a passport with a revoked certificate was accepted"
fi
VERDICT=$("$CDL_BIN" passport verify "$OUT/passport-hrc-eu-revoked.cdlp" --trust "$OUT/genesis.json" 2>/dev/null || true)
grep -q "certificate revoked" <<<"$VERDICT" || fail "the INVALID verdict does not say 'certificate revoked'"
echo "     (exit code 1, as expected)"

step "Tampering is detected" \
  "Change one digit of the disclosed scope 1 figure inside the proof file:"
python3 - "$OUT/disclosure.proof.json" "$OUT/tampered.proof.json" <<'EOF'
import base64, json, sys
bundle = json.load(open(sys.argv[1]))
record = bytearray(base64.b64decode(bundle["signed_record"]))
at = record.find(b"12500.750")
record[at] = ord("9")  # 12500.750 -> 92500.750
bundle["signed_record"] = base64.b64encode(bytes(record)).decode()
json.dump(bundle, open(sys.argv[2], "w"), indent=1)
EOF
if cdl verify-proof "$OUT/tampered.proof.json" --genesis "$OUT/genesis.json"; then
  fail "a tampered proof was accepted"
fi
echo "     (exit code 1, as expected)"

STEP_TITLE="done"
printf '\n%sDemo complete.%s Artifacts in %s:\n' "$GREEN$BOLD" "$RESET" "$PWD/$OUT"
printf '  %s\n' "genesis.json            the trust anchor (validators and founders)" \
  "passport-hrc-eu.cdlp    green passport of the footprint for the EU (VALID); .png/.svg: its QR codes" \
  "passport-hrc-eu-revoked.cdlp  the same after the revocation (INVALID)" \
  "disclosure.proof.json   offline-verifiable proof of the disclosure" \
  "checkpoint.json         cosigned ledger head" \
  "cluster/                the validators' data, logs, keys and certificates"
echo "Try: $CDL_BIN passport verify demo-out/passport-hrc-eu.cdlp --trust demo-out/genesis.json"
