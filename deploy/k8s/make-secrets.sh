#!/usr/bin/env bash
# Creates the genesis, validator keys and mTLS certificates of the Kubernetes
# cluster in deploy/k8s, and the kubectl commands that load them.
#
#   deploy/k8s/make-secrets.sh --founder ID:ROLE:JURISDICTION[:NAME] [--founder ...]
#       [--chain-id ID] [--out DIR] [--namespace NS] [--cluster-domain DOMAIN]
#       [--cdl PATH] [--apply]
#
# 1. `cdl genesis init --tls` writes, in DIR (default ./cdl-k8s): genesis.json,
#    validator-0..3.key (0600) and .crt, ca.pem, ca.key and a key pair per
#    founder.
# 2. Each validator's address in genesis.json becomes its stable peer name
#    behind the headless service: cdl-K.cdl-peer.NS.svc.DOMAIN:7600
#    (NS default cdl, DOMAIN default cluster.local). The node certificates do
#    not name hosts: peers are identified by their genesis keys.
# 3. Prints one kubectl command per object (a dry run: nothing is sent):
#      ConfigMap cdl-genesis   genesis.json
#      Secret    cdl-ca        ca.pem
#      Secret    cdl-validator-K   validator.key, validator.crt   (K = 0..3)
#    With --apply it also runs them (kubectl must reach the cluster).
#
# ca.key and the founders' keys never go into the cluster: keep DIR offline.
# The cdl binary is taken from --cdl, then $PATH, then build/cli/cdl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
chain_id="cdl-k8s"
out=./cdl-k8s
ns=cdl
domain=cluster.local
cdl=""
apply=0
founders=()
while [ $# -gt 0 ]; do
  case "$1" in
    --founder) founders+=(--founder "$2"); shift 2 ;;
    --chain-id) chain_id=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --namespace) ns=$2; shift 2 ;;
    --cluster-domain) domain=$2; shift 2 ;;
    --cdl) cdl=$2; shift 2 ;;
    --apply) apply=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-secrets: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ ${#founders[@]} -eq 0 ]; then
  echo "make-secrets: name at least one founding member, e.g. --founder reg-cn:regulator:CN:\"China regulator\"" >&2
  exit 2
fi
if [ -z "$cdl" ]; then
  if command -v cdl >/dev/null 2>&1; then cdl=$(command -v cdl)
  elif [ -x "$repo/build/cli/cdl" ]; then cdl=$repo/build/cli/cdl
  else echo "make-secrets: cannot find cdl (pass --cdl PATH or build it: make build)" >&2; exit 1
  fi
fi

# Names that must match deploy/k8s/*.yaml.
statefulset=cdl
peer_service="cdl-peer"
peer_port=7600
validators=4
base_port=7600  # genesis init's loopback addresses 127.0.0.1:(7600+K), replaced below

"$cdl" genesis init --chain-id "$chain_id" -o "$out" --validators "$validators" \
  --base-port "$base_port" --tls "${founders[@]}" >/dev/null

genesis="$out/genesis.json"
for k in $(seq 0 $((validators - 1))); do
  loopback="127.0.0.1:$((base_port + k))"
  peer="$statefulset-$k.$peer_service.$ns.svc.$domain:$peer_port"
  grep -q "\"address\": \"$loopback\"" "$genesis" || {
    echo "make-secrets: $genesis has no validator address $loopback" >&2; exit 1; }
  sed -i "s|\"address\": \"$loopback\"|\"address\": \"$peer\"|" "$genesis"
done
if grep -q '"address": "127\.0\.0\.1:' "$genesis"; then
  echo "make-secrets: $genesis still has loopback addresses" >&2
  exit 1
fi
echo "make-secrets: wrote $out (validator addresses: $statefulset-K.$peer_service.$ns.svc.$domain:$peer_port)" >&2
echo "make-secrets: genesis.json sha256 $(sha256sum "$genesis" | cut -d' ' -f1) (compare it out of band with every operator)" >&2

q() { printf '%q' "$1"; }
commands=()
commands+=("kubectl -n $ns create configmap cdl-genesis --from-file=genesis.json=$(q "$genesis")")
commands+=("kubectl -n $ns create secret generic cdl-ca --from-file=ca.pem=$(q "$out/ca.pem")")
for k in $(seq 0 $((validators - 1))); do
  commands+=("kubectl -n $ns create secret generic cdl-validator-$k --from-file=validator.key=$(q "$out/validator-$k.key") --from-file=validator.crt=$(q "$out/validator-$k.crt")")
done

for c in "${commands[@]}"; do
  echo "$c"
  if [ "$apply" -eq 1 ]; then eval "$c"; fi
done
if [ "$apply" -eq 0 ]; then
  echo "make-secrets: dry run; pass --apply to run these, or run them yourself" >&2
fi
echo "make-secrets: keep $out/ca.key and the founders' keys out of the cluster (offline)" >&2
