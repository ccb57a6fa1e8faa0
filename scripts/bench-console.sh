#!/usr/bin/env bash
# Whole-process console figures on the cache `scripts/bench-vs-duckdb.sh` builds:
# process start → first frame, → index usable, → everything loaded (the console's own
# `--log-file` events, `elapsed_ms` since start), and resident memory (`RssAnon`,
# `RssFile` from /proc) once loaded and after visiting every pane and pressing `P`
# twice. Runs the real binary in tmux (160×48), RUNS times (default 3).
#
#   scripts/bench-console.sh                 # the 1,000,020-row cache
#   ROWS=3000000 scripts/bench-console.sh
#
# Build the cache first with scripts/bench-vs-duckdb.sh (same ROWS). A measurement
# script, not a test: it polls the log and waits a fixed 2 s for the keys to settle.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
WORK=${WORK:-target/whalewatch-bench/whole-$ROWS}
[[ -e "$WORK/cache.done" ]] || { echo "no cache in $WORK: run ROWS=$ROWS scripts/bench-vs-duckdb.sh first" >&2; exit 1; }
WORK=$(realpath "$WORK")
if [[ -z "${WW:-}" ]]; then
  cargo build --release --bin whalewatch >&2
  WW="${CARGO_TARGET_DIR:-target}/release/whalewatch"
fi
WW=$(realpath "$WW")
export WHALEWATCH_CONFIG="$WORK/config.toml" WHALEWATCH_CACHE_DIR="$WORK/cache" WW_BENCH_SECRET=unused
status() { awk '/^(RssAnon|RssFile):/ {printf "%s %d MB  ", $1, $2/1024}' "/proc/$1/status"; }
ms() { printf '%.0f' "$(grep "$1" "$2" | sed -E 's/.*elapsed_ms=([0-9.]+).*/\1/' | head -1)"; }
echo "rows: $ROWS; $RUNS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  log=$(mktemp); rm -f "$log"
  tmux kill-session -t ww-bench 2>/dev/null || true
  tmux new -d -s ww-bench -x 160 -y 48 "$WW --log-file $log tui --no-refresh"
  for _ in $(seq 600); do grep -q "everything loaded" "$log" 2>/dev/null && break; sleep 0.1; done
  pid=$(pgrep -f -- "^$WW --log-file $log" | head -1)
  loaded=$(status "$pid")
  for k in 2 3 4 5 6 7 8 9 2 P P; do tmux send-keys -t ww-bench "$k"; done
  sleep 2
  visited=$(status "$pid")
  tmux send-keys -t ww-bench q
  for _ in $(seq 100); do grep -q "console closed" "$log" 2>/dev/null && break; sleep 0.1; done
  first=$(printf '%.0f' "$(grep "console closed" "$log" | sed -E 's/.*first_frame_ms=([0-9.]+).*/\1/')")
  printf 'run %d: first frame %s ms · index usable %s ms · everything loaded %s ms\n' \
    "$run" "$first" "$(ms 'index usable' "$log")" "$(ms 'everything loaded' "$log")"
  printf '       loaded: %s\n       every pane visited, P twice: %s\n' "$loaded" "$visited"
  rm -f "$log"
done
tmux kill-session -t ww-bench 2>/dev/null || true
