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
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release -p codegen
codegen="$target/release/codegen"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

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
