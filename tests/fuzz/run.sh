#!/usr/bin/env bash
# Runs every fuzz target of a CDL_FUZZ build for a bounded time on its seed
# corpus and prints one summary table. Used by `make fuzz`.
#
#   tests/fuzz/run.sh [BUILD_DIR] [TARGET...]
#
# BUILD_DIR defaults to build-fuzz; TARGETs default to every fuzz_* binary
# built there. Environment: FUZZ_SECONDS (per target, default 30).
#
# The checked-in corpus (tests/fuzz/corpus/<target>) is only read: libFuzzer
# writes new units into a temporary directory given first, and crash inputs
# into BUILD_DIR/fuzz-artifacts. Logs go to BUILD_DIR/fuzz-logs/<target>.log.
# Exits 1 if any target crashed, leaked, timed out or broke a property.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:-build-fuzz}"
shift || true
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
BIN_DIR="$BUILD_DIR/tests/fuzz"
CORPUS_ROOT="$ROOT/tests/fuzz/corpus"
LOG_DIR="$BUILD_DIR/fuzz-logs"
ARTIFACT_DIR="$BUILD_DIR/fuzz-artifacts"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  targets=()
  for bin in "$BIN_DIR"/fuzz_*; do
    name="$(basename "$bin")"
    [[ -x "$bin" && "$name" != fuzz_make_seeds ]] && targets+=("$name")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz: no fuzz targets in $BIN_DIR — build with -DCDL_FUZZ=ON first (make fuzz)" >&2
  exit 1
fi

mkdir -p "$LOG_DIR" "$ARTIFACT_DIR"
NEW_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/cdl-fuzz.XXXXXX")"
trap 'rm -rf "$NEW_ROOT"' EXIT

stat_of() {  # stat_of LOG NAME: the value of libFuzzer's "stat::NAME:" line
  sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -1
}

rows=()
failed=0
total_execs=0
start_all=$(date +%s)
for t in "${targets[@]}"; do
  bin="$BIN_DIR/$t"
  corpus="$CORPUS_ROOT/$t"
  log="$LOG_DIR/$t.log"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz: $bin is missing" >&2
    rows+=("$t|-|-|-|-|MISSING")
    failed=1
    continue
  fi
  if [[ ! -d "$corpus" ]]; then
    echo "fuzz: no seed corpus $corpus" >&2
    rows+=("$t|-|-|-|-|NO CORPUS")
    failed=1
    continue
  fi
  new="$NEW_ROOT/$t"
  mkdir -p "$new"
  rm -f "$ARTIFACT_DIR/$t-"*
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s (seeds: $(find "$corpus" -type f | wc -l))"
  # -timeout: one input taking longer is a hang; the outer timeout catches a
  # stuck process. Target output (if any) is kept out of the log.
  timeout --kill-after=30 $((SECONDS_PER_TARGET + 300)) \
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=30 \
    -rss_limit_mb=4096 -close_fd_mask=1 \
    -artifact_prefix="$ARTIFACT_DIR/$t-" "$new" "$corpus" >"$log" 2>&1
  rc=$?
  execs="$(stat_of "$log" number_of_executed_units)"
  rate="$(stat_of "$log" average_exec_per_sec)"
  added="$(stat_of "$log" new_units_added)"
  rss="$(stat_of "$log" peak_rss_mb)"
  status=ok
  if [[ $rc -ne 0 ]]; then
    status="FAILED (exit $rc)"
    failed=1
    echo "fuzz: $t FAILED (exit $rc); last lines of $log:" >&2
    tail -40 "$log" >&2
    for a in "$ARTIFACT_DIR/$t-"*; do
      [[ -e "$a" ]] && echo "fuzz: reproduce with: $bin $a" >&2
    done
  fi
  total_execs=$((total_execs + ${execs:-0}))
  rows+=("$t|${execs:--}|${rate:--}|${added:--}|${rss:--}|$status")
done
elapsed=$(($(date +%s) - start_all))

echo
echo "fuzz summary (${SECONDS_PER_TARGET}s per target, ${#targets[@]} targets, ${elapsed}s):"
printf '  %-26s %12s %9s %9s %8s  %s\n' target executions exec/s "new units" "rss MB" status
for row in "${rows[@]}"; do
  IFS='|' read -r name execs rate added rss status <<<"$row"
  printf '  %-26s %12s %9s %9s %8s  %s\n' "$name" "$execs" "$rate" "$added" "$rss" "$status"
done
printf '  %-26s %12s\n' total "$total_execs"
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED — crash inputs are in $ARTIFACT_DIR, logs in $LOG_DIR" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran without a crash"
