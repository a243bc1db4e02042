#!/usr/bin/env bash
# Cold build time of a one-file program that depends on `sentinelone` with
# default features (BENCHMARKS.md, "lean library build"), for two commits of
# this repository side by side.
#
# Each commit is exported with `git archive` to a temporary directory; next to
# it a throwaway cargo project depends on it by path (with that commit's
# Cargo.lock, so both resolve the same dependency versions) and its main.rs
# builds a Client and calls `list_agents()` once. Every build starts from an
# empty CARGO_TARGET_DIR and uses cargo's default profiles, as a user's
# project would. Builds alternate (before, after) so drift on a shared
# machine hits both; each prints its wall and CPU time and the 1-minute load
# average before and after it.
#
# Usage: bash benches/lean_build.sh <before-rev> [after-rev] [debug|release|both]
#   after-rev defaults to HEAD, the profile to both. Nothing in the
#   repository is touched; the temporary directory is removed at the end.
#
# Two knobs, off by default, apply to both sides:
#   LEAN_AS_REGISTRY=1  builds as if the library came from crates.io: cargo
#                       compiles path dependencies incrementally (the cache
#                       it writes costs time on a cold build), registry
#                       dependencies never; CARGO_INCREMENTAL=0 does the same.
#   LEAN_README_PROFILE=1  adds the README's advice to the program's
#                       Cargo.toml: no debug info for dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# Resolved once: what is built is what is printed.
before=$(git rev-parse --short "${1:?usage: lean_build.sh <before-rev> [after-rev] [debug|release|both]}")
after=$(git rev-parse --short "${2:-HEAD}")
profiles="${3:-both}"
case "$profiles" in
  debug) profiles="debug" ;;
  release) profiles="release" ;;
  both) profiles="debug release" ;;
  *) echo "profile must be debug, release or both" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/s1-lean-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The program: a Client and one call, nothing else of the library.
write_program() {
  local dir="$1" library="$2"
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "lean-bench"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
sentinelone = { path = "$library" }
tokio = { version = "1", features = ["macros", "rt"] }

[workspace]
EOF
  if [ "${LEAN_README_PROFILE:-0}" = 1 ]; then
    printf '\n[profile.dev.package."*"]\ndebug = false\n' >>"$dir/Cargo.toml"
  fi
  cat >"$dir/src/main.rs" <<'EOF'
use sentinelone::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sentinelone::Error> {
    let client = sentinelone::Client::builder()
        .console_url("https://console.invalid")
        .api_token("token")
        .build()?;
    let page = client.list_agents().limit(1).call().await?;
    println!("{} agents", page.data.unwrap_or_default().len());
    Ok(())
}
EOF
  cp "$library/Cargo.lock" "$dir/Cargo.lock"
}

for side in before after; do
  rev="${!side}"
  mkdir -p "$work/$side/lib"
  git archive "$rev" | tar -x -C "$work/$side/lib"
  write_program "$work/$side/bin" "$work/$side/lib"
done

load() { cut -d' ' -f1 /proc/loadavg; }

# Wall time, and CPU time (user + system, all rustc processes) which moves
# far less than wall time when other work shares the cores.
TIMEFORMAT="%R %U %S"
for profile in $profiles; do
  flag=""
  [ "$profile" = release ] && flag="--release"
  for side in before after; do
    target="$work/$side/target-$profile"
    start_load=$(load)
    incremental=""
    [ "${LEAN_AS_REGISTRY:-0}" = 1 ] && incremental="CARGO_INCREMENTAL=0"
    times=$( { time env $incremental CARGO_TARGET_DIR="$target" cargo build --quiet $flag \
      --manifest-path "$work/$side/bin/Cargo.toml" 2>&3; } 3>&2 2>&1 )
    read -r wall user sys <<<"$times"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
    printf 'lean-build | %-6s %-7s (%s) | as registry %s, README profile %s | wall %s s | cpu %s s | load %s -> %s\n' \
      "$side" "$profile" "${!side}" "${LEAN_AS_REGISTRY:-0}" "${LEAN_README_PROFILE:-0}" "$wall" "$cpu" \
      "$start_load" "$(load)"
    rm -rf "$target"
  done
done
