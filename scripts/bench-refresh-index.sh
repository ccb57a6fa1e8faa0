#!/usr/bin/env bash
# A day's refresh at 1M rows, the column file brought up to date in place versus
# written anew (#15 "appended per refresh"): whole processes, side by side.
#
# Needs the cache `scripts/bench-vs-duckdb.sh` builds (target/whalewatch-bench/whole-ROWS:
# a month of mail up to 2026-11-01). Each run copies that cache, serves the same world a
# day later (`sim serve --now 2026-11-02`), and runs `whalewatch refresh` on the copy:
#   append  - the copy's column file is current: the refresh brings it up to date in place
#   rewrite - the copy has no column file: the refresh builds the index and writes it whole
# and prints the refresh's wall time and the index step's seconds (from `--log-file`).
#
#   WW=target/release/whalewatch RUNS=3 scripts/bench-refresh-index.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
EPD=$(((ROWS + 29) / 30))
SRC=${SRC:-target/whalewatch-bench/whole-$ROWS}
[[ -e "$SRC/cache.done" ]] || { echo "run scripts/bench-vs-duckdb.sh first (it builds $SRC)" >&2; exit 2; }
if [[ -z "${WW:-}" ]]; then
  cargo build --release --bin whalewatch >&2
  WW="${CARGO_TARGET_DIR:-target}/release/whalewatch"
fi
WW=$(realpath "$WW")
SRC=$(realpath "$SRC")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ww-refresh-index.XXXXXX")
SIM=
trap '[[ -n "$SIM" ]] && kill $SIM 2>/dev/null; [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"' EXIT

"$WW" sim serve --seed 7 --users 20000 --days 30 --emails-per-day $EPD \
  --now 2026-11-02T00:00:00Z >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM=$!
for _ in $(seq 600); do [[ -s "$WORK/sim.out" ]] && break; sleep 0.5; done
line=$(head -1 "$WORK/sim.out")
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$line"; }
export WW_BENCH_SECRET; WW_BENCH_SECRET=$(field client_secret)
export WHALEWATCH_CONFIG="$WORK/config.toml"
"$WW" profile add sim --tenant "$(field tenant)" --client-id "$(field client_id)" \
  --client-secret-env WW_BENCH_SECRET --login-url "$(field url)" --graph-url "$(field url)" \
  --default >/dev/null

SOURCES=()
for s in directory alerts incidents tags EmailEvents EmailUrlInfo EmailAttachmentInfo \
  UrlClickEvents CampaignInfo EmailPostDeliveryEvents; do SOURCES+=(--only "$s"); done

run() { # mode, n
  local dir="$WORK/$1-$2"
  mkdir -p "$dir"
  cp "$SRC"/cache/sim.sqlite "$dir/"
  [[ -e "$SRC/cache/sim.sqlite-wal" ]] && cp "$SRC/cache/sim.sqlite-wal" "$dir/"
  export WHALEWATCH_CACHE_DIR="$dir"
  # The copy migrated by a write (a cheap refresh of the tags) and a current column
  # file of this build written by it (the source's may be of another format).
  "$WW" refresh --only tags >/dev/null 2>&1
  if [[ $1 == rewrite ]]; then rm "$dir/sim.sqlite.email-index"; fi
  sync
  local t0 t1
  t0=$(date +%s.%N)
  # Every source but the posture ones, whose documented quotas pace a refresh to ~30 s
  # whatever the index does.
  WHALEWATCH_LOG=info "$WW" --log-file "$dir/log" refresh --hunting-calls-per-minute 100000 \
    "${SOURCES[@]}" >/dev/null 2>"$dir/err"
  t1=$(date +%s.%N)
  local idx
  idx=$(grep -E "index open: .*close" "$dir/log" | tail -1 | sed -E 's/.*time.busy=([0-9.]+[a-zµ]*).*/\1/')
  local rows
  rows=$(grep -oE "rows=[0-9]+" "$dir/log" | tail -1 || true)
  local new
  new=$(grep -oE "EmailEvents: [0-9]+ received" "$dir/err" | grep -oE "[0-9]+" || echo 0)
  printf '%-8s run %d: refresh %.2f s (whole process) · index step %s · %s new EmailEvents rows · %s · %s\n' \
    "$1" "$2" "$(echo "$t1 - $t0" | bc)" "$idx" "$new" "$rows" \
    "$(grep -cE 'brought up to date in place' "$dir/log" | sed 's/^1$/in place/;s/^0$/written whole/')"
  [[ -n "${KEEP:-}" ]] || rm -rf "$dir"
}

uptime
for n in $(seq "$RUNS"); do
  run append "$n"
  run rewrite "$n"
done
