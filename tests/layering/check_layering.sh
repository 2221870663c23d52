#!/usr/bin/env bash
# Checks the layering of DESIGN.md: lower layers never include upper ones, the
# consensus core includes no I/O library, and the CLI binary carries no
# storage/consensus code. Usage: check_layering.sh SOURCE_DIR CDL_BINARY
set -uo pipefail
src=$1
cli_bin=$2
fail=0

# forbid DIR PATTERN WHY: no file under DIR may #include a path matching PATTERN.
forbid() {
  local dir=$1 pattern=$2 why=$3
  local hits
  hits=$(grep -rnE "^#include [\"<]($pattern)" "$src/$dir" --include='*.h' --include='*.cc' 2>/dev/null | grep -v '_test.cc' || true)
  if [ -n "$hits" ]; then
    echo "LAYERING VIOLATION ($why):"
    echo "$hits"
    fail=1
  fi
}

forbid crypto 'node/|cli/|proto|google/protobuf|grpc|rocksdb|.*\.pb\.h' "crypto depends on OpenSSL only"
forbid node/storage 'node/(verify|ledger|consensus|net|http)/|cli/|grpc|.*\.pb\.h|crypto/keys|httplib' "storage depends on RocksDB only"
forbid node/verify 'node/(storage|ledger|consensus|net|http)/|cli/|grpc|rocksdb|httplib' "verify depends on crypto and proto only"
forbid node/ledger 'node/(consensus|net|http)/|cli/|grpc|httplib' "ledger depends on verify and storage"
forbid node/consensus 'node/(storage|ledger|net|http)/|cli/|grpc|rocksdb|thread|chrono|mutex|absl/synchronization|httplib' "consensus core is pure: no I/O, threads or clock"
forbid node/net 'node/http/|cli/|httplib' "net (node, gRPC service) knows nothing of the HTTP gateway above it"
forbid node/http 'cli/|grpc|rocksdb|node/storage/rocks|service\.grpc' "the HTTP gateway reads the node; no CLI, gRPC or storage engine"
forbid cli 'node/(storage|ledger|consensus|net|http)/|rocksdb|httplib' "the CLI never links storage, consensus or the node's gateway"

# The linked CLI binary must not contain RocksDB or ledger code.
if [ ! -x "$cli_bin" ]; then
  echo "missing CLI binary $cli_bin"
  fail=1
elif nm -C "$cli_bin" 2>/dev/null | grep -qE 'rocksdb::|cdl::ledger::|cdl::storage::|cdl::consensus::'; then
  echo "LAYERING VIOLATION: $cli_bin links storage/ledger/consensus code:"
  nm -C "$cli_bin" | grep -E 'rocksdb::|cdl::ledger::|cdl::storage::|cdl::consensus::' | head -5
  fail=1
fi

if [ $fail -eq 0 ]; then echo "layering OK"; fi
exit $fail
