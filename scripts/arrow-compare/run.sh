#!/usr/bin/env bash
# Arrow IPC (Feather v2) against whalewatch's column file on one cache, then whether
# DuckDB and pandas open the Arrow file. See README.md beside this script.
#
#   scripts/arrow-compare/run.sh CACHE.sqlite [RUNS]
#
# CACHE.sqlite must have a current column file (`<cache>.email-index`; any
# `whalewatch query` or refresh writes it). Nothing is written beside the cache:
# the Arrow file, q5's answer and DuckDB's database go to scripts/arrow-compare/target/out.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$1"
runs="${2:-30}"
target="${CARGO_TARGET_DIR:-$here/target}"
out="$here/target/out"
export CARGO_INCREMENTAL=0
(cd "$here" && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
"$target/release/arrow-compare" "$cache" "$out" "$runs"
venv="${VENV:-$here/target/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb pyarrow pandas
fi
echo
"$venv/bin/python" "$here/compare.py" "$out" 10
