#!/usr/bin/env bash
# Codegen and build times for BENCHMARKS.md. Prints four numbers (seconds):
#   check     `codegen check` on the curated spec (generate in memory, compare)
#   generate  `codegen generate` (writes generated/src; must leave it unchanged)
#   cold      `cargo build -p sentinelone-generated` (debug) in an empty target
#             dir: the generated crate and all its dependencies
#   crate     the same build again after `cargo clean -p sentinelone-generated`
#             in that dir: the generated crate alone, dependencies already built
# The codegen binary is built (release) before anything is timed. The temporary
# target dir is removed at the end. Usage: bash benches/codegen_times.sh [--json]
#
# With --scale [N] (default 3) it times import and generate on large inputs
# instead, side by side in one run: `codegen import --all` then
# `codegen generate` on SentinelOne's 2024 file (1x) and on a synthetic
# description N times its size (benches/scale_swagger.py: every path copied
# N - 1 times below a prefix of its own, definitions renamed), each into a
# temporary copy of spec/ (`--root`), with ../shared beside it; the
# synthetic file's curation also names the copies the vendor's names need.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release -p codegen
codegen="$target/release/codegen"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ "${1:-}" = "--scale" ]; then
  factor="${2:-3}"
  vendor=../shared/specs/s1-mgmt-api-v2.1.swagger.celerium-2024-03.json
  [ -f "$vendor" ] || { echo "$vendor is absent" >&2; exit 1; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/s1-codegen-scale.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # The curation names the 2026 index as ../shared/...: resolve it there.
  ln -s "$(cd ../shared && pwd)" "$work/shared"
  report=""
  for label in 1x "${factor}x"; do
    ws="$work/ws"
    rm -rf "$ws"
    mkdir -p "$ws/spec" "$ws/generated/src"
    find spec -maxdepth 1 -type f -exec cp {} "$ws/spec/" \;
    input="$vendor"
    if [ "$label" != 1x ]; then
      # The synthetic file, and the curation's names for the copies.
      input="$work/scaled-$label.json"
      python3 benches/scale_swagger.py "$vendor" "$input" "$factor" "$ws/spec/curation.toml" >&2
    fi
    bytes=$(wc -c <"$input")
    t0=$(now)
    "$codegen" --root "$ws" import --all "$input" 2>"$work/import.log" || { cat "$work/import.log" >&2; exit 1; }
    t1=$(now)
    "$codegen" --root "$ws" generate 2>"$work/generate.log" || { cat "$work/generate.log" >&2; exit 1; }
    t2=$(now)
    ops=$(sed -n 's/.*(\([0-9]*\) operations.*/\1/p' "$work/import.log")
    lines=$(cat "$ws"/generated/src/*.rs | wc -l)
    report="$report | $label ($bytes B, $ops operations): import --all $(secs "$t0" "$t1") s, generate $(secs "$t1" "$t2") s ($lines lines)"
  done
  echo "codegen scale$report"
  exit 0
fi

t0=$(now)
"$codegen" check >/dev/null
t1=$(now)
"$codegen" generate 2>/dev/null
t2=$(now)
if ! git diff --quiet --exit-code -- generated/; then
  echo "codegen generate changed generated/ (see git diff generated/)" >&2
  exit 1
fi

cold_dir=$(mktemp -d "${TMPDIR:-/tmp}/s1-cold-target.XXXXXX")
trap 'rm -rf "$cold_dir"' EXIT
t3=$(now)
CARGO_TARGET_DIR="$cold_dir" cargo build --quiet -p sentinelone-generated
t4=$(now)
CARGO_TARGET_DIR="$cold_dir" cargo clean --quiet -p sentinelone-generated
t5=$(now)
CARGO_TARGET_DIR="$cold_dir" cargo build --quiet -p sentinelone-generated
t6=$(now)

check=$(secs "$t0" "$t1")
generate=$(secs "$t1" "$t2")
cold=$(secs "$t3" "$t4")
crate=$(secs "$t5" "$t6")
lines=$(cat generated/src/client.rs generated/src/mock.rs | wc -l)
if [ "${1:-}" = "--json" ]; then
  printf '{"bench":"codegen","check_s":%s,"generate_s":%s,"cold_build_s":%s,"crate_build_s":%s,"generated_lines":%s}\n' \
    "$check" "$generate" "$cold" "$crate" "$lines"
else
  printf 'codegen | check %s s | generate %s s (generated/ unchanged, %s lines) | cold debug build of sentinelone-generated %s s with dependencies, %s s the crate alone\n' \
    "$check" "$generate" "$lines" "$cold" "$crate"
fi
