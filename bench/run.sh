#!/usr/bin/env bash
# The full benchmark of issue 10: builds release binaries and runs every scenario against
# bench-baseline and csms (SQLite, and PostgreSQL when reachable), writing BENCHMARKS.md.
# Run it on a quiet machine (nothing else compiling); the full size takes about 10 minutes
# on 2 CPUs (623 s on 2026-11-26), plus the release build.
#
#   bench/run.sh                          # full sizes, both databases, BENCHMARKS.md
#   bench/run.sh --size medium --out /tmp/medium.md --only heartbeat,config
#
# Any argument is passed to `csms-bench run` (see `csms-bench run --help`).
# PostgreSQL: CSMS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# each server gets a fresh schema, dropped afterwards (needs `psql`).
set -euo pipefail
cd "$(dirname "$0")/.."

# The largest fleet is bounded by the open-files limit: raise the soft limit to the hard
# one for this shell and its children (csms-bench does it again itself with setrlimit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -p csms -p bench

exec "$target_dir/release/csms-bench" run \
    --csms-bin "$target_dir/release/csms" \
    --baseline-bin "$target_dir/release/bench-baseline" \
    "$@"
