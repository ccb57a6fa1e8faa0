#!/usr/bin/env bash
# Whole-process benchmark: `whalewatch query` against DuckDB, side by side, q1–q5.
#
#   scripts/bench-vs-duckdb.sh            # 1,000,020 rows (release build)
#   ROWS=3000000 scripts/bench-vs-duckdb.sh
#
# 1. builds the release binary (WW=path uses another binary);
# 2. once per size: serves a simulated world (seed 7, 30 days) with `whalewatch sim
#    serve` and refreshes it into a cache under target/whalewatch-bench/whole-ROWS/
#    with `whalewatch refresh` (which also writes the email index's column file);
# 3. exports whalewatch's CSV (`query emails --format csv`, every column) and the
#    priority accounts (`query users is:priority`), and builds a DuckDB database file
#    from them (DuckDB from PyPI, in a venv under target/duckdb-venv);
# 4. runs q1–q5 as whole processes, alternating the two engines: whalewatch from its
#    cache and column file, DuckDB (Python) from its database file; checks every
#    answer is equal and prints medians, peak memory and the ratios. hyperfine is used
#    when installed, else a timing loop in Python (RUNS=N runs each, default 15).
set -euo pipefail
umask 077  # the export and the DuckDB file hold (simulated) tenant mail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-15}
DAYS=30
EPD=$(( (ROWS + DAYS - 1) / DAYS ))
WORK=${WORK:-target/whalewatch-bench/whole-$ROWS}
if [[ -z "${WW:-}" ]]; then
  cargo build --release --bin whalewatch >&2
  WW="${CARGO_TARGET_DIR:-target}/release/whalewatch"
fi
WW=$(realpath "$WW")
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
export WHALEWATCH_CONFIG="$WORK/config.toml" WHALEWATCH_CACHE_DIR="$WORK/cache"

if [[ ! -e "$WORK/cache.done" ]]; then
  echo "building a $((EPD * DAYS))-row cache in $WORK (once) ..." >&2
  rm -rf "$WORK/cache" "$WORK/config.toml" "$WORK/duck.db" "$WORK/emails.csv"
  "$WW" sim serve --seed 7 --users 20000 --days $DAYS --emails-per-day $EPD \
    --now 2026-11-01T00:00:00Z >"$WORK/sim.out" 2>"$WORK/sim.err" &
  SIM=$!
  trap 'kill $SIM 2>/dev/null || true' EXIT
  for _ in $(seq 600); do [[ -s "$WORK/sim.out" ]] && break; sleep 0.5; done
  line=$(head -1 "$WORK/sim.out")
  field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$line"; }
  export WW_BENCH_SECRET; WW_BENCH_SECRET=$(field client_secret)
  "$WW" profile add sim --tenant "$(field tenant)" --client-id "$(field client_id)" \
    --client-secret-env WW_BENCH_SECRET --login-url "$(field url)" --graph-url "$(field url)" --default >&2
  /usr/bin/time -f "refresh: %e s, peak %M KiB" "$WW" refresh --hunting-calls-per-minute 100000 >&2
  kill $SIM; wait $SIM 2>/dev/null || true; trap - EXIT
  touch "$WORK/cache.done"
fi

VENV="${CARGO_TARGET_DIR:-target}/duckdb-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb
fi
PY="$(cd "$VENV/bin" && pwd)/python"

if [[ ! -e "$WORK/duck.db" ]]; then
  echo "exporting CSV and building the DuckDB file ..." >&2
  "$WW" query emails --format csv >"$WORK/emails.csv"
  "$WW" query users is:priority --format csv >"$WORK/priority.csv"
  "$PY" - "$WORK" <<'PYEOF'
import sys, duckdb
w = sys.argv[1]
import os
if os.path.exists(f"{w}/duck.db.tmp"): os.remove(f"{w}/duck.db.tmp")
con = duckdb.connect(f"{w}/duck.db.tmp")
con.execute(f"CREATE TABLE emails AS SELECT * FROM read_csv('{w}/emails.csv', header=true, all_varchar=true)")
con.execute(f"CREATE TABLE priority AS SELECT DISTINCT lower(\"User\") AS address FROM read_csv('{w}/priority.csv', header=true, all_varchar=true)")
con.close()
import os; os.replace(f"{w}/duck.db.tmp", f"{w}/duck.db")
PYEOF
fi

"$PY" - "$WW" "$WORK" "$RUNS" <<'PYEOF'
import csv, io, json, os, shlex, shutil, statistics, subprocess, sys, tempfile, time
ww, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
py = sys.executable
PHISH = "(' ' || coalesce(ThreatTypes,'') || ',') LIKE '% Phish,%'"
PRIO = "lower(RecipientEmailAddress) IN (SELECT address FROM priority)"
queries = {
  "q1": (["query", "emails", "is:priority threat:phish", "--count"],
         f"SELECT count(*) FROM emails WHERE {PRIO} AND {PHISH}"),
  "q2": (["query", "emails", "is:priority threat:phish", "--pivot", "SenderFromDomain", "--format", "csv"],
         f"SELECT coalesce(SenderFromDomain,''), count(*) c FROM emails WHERE {PRIO} AND {PHISH} GROUP BY 1 ORDER BY c DESC, 1"),
  "q3": (["query", "emails", "--pivot", "LatestDeliveryLocation", "--format", "csv"],
         "SELECT coalesce(LatestDeliveryLocation,''), count(*) c FROM emails GROUP BY 1 ORDER BY c DESC, 1"),
  "q4": (["query", "emails", "--histogram", "day", "--split", "ThreatTypes", "--format", "csv"],
         "SELECT substr(Timestamp,1,10) d, coalesce(ThreatTypes,''), count(*) FROM emails GROUP BY 1, 2 ORDER BY 1, 2"),
  "q5": (["query", "emails", "--pivot", "SenderFromDomain", "--format", "csv"],
         "SELECT coalesce(SenderFromDomain,''), count(*) c FROM emails GROUP BY 1 ORDER BY c DESC, 1"),
}
DUCK = ("import duckdb,sys,csv;c=duckdb.connect(sys.argv[1],read_only=True);"
        "w=csv.writer(sys.stdout);[w.writerow(r) for r in c.execute(sys.argv[2]).fetchall()]")

def ww_cmd(q): return [ww] + queries[q][0]
def duck_cmd(q): return [py, "-c", DUCK, f"{work}/duck.db", queries[q][1]]

def run(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd!r} failed: {err.decode()}")
    return dt, out.decode()

def peak_kib(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss

def answer(q, engine, out):
    rows = list(csv.reader(io.StringIO(out)))
    if q == "q1":
        return int(out.strip().splitlines()[-1] if engine == "ww" else rows[0][0])
    if engine == "ww":
        # Pivots: value, Count, Percent; histograms: Bucket, split value, Count.
        body = rows[1:]
        if q == "q4":
            return sorted((r[0][:10], r[1], int(r[2])) for r in body)
        return sorted((r[0], int(r[1])) for r in body)
    if q == "q4":
        return sorted((r[0], r[1], int(r[2])) for r in rows)
    return sorted((r[0], int(r[1])) for r in rows)

hf = shutil.which("hyperfine")
results = {}
for q in queries:
    a = answer(q, "ww", run(ww_cmd(q))[1])
    b = answer(q, "duck", run(duck_cmd(q))[1])
    if a != b:
        sys.exit(f"{q}: answers differ\nwhalewatch: {str(a)[:400]}\nduckdb:     {str(b)[:400]}")
    if hf:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            subprocess.run([hf, "--warmup", "2", "--runs", str(runs), "--export-json", f.name, "--style", "none",
                            shlex.join(ww_cmd(q)), shlex.join(duck_cmd(q))], check=True, stdout=subprocess.DEVNULL)
            r = json.load(open(f.name))["results"]
            tw, td = r[0]["median"], r[1]["median"]
    else:
        w, d = [], []
        for _ in range(2): run(ww_cmd(q)); run(duck_cmd(q))
        for _ in range(runs):
            w.append(run(ww_cmd(q))[0]); d.append(run(duck_cmd(q))[0])
        tw, td = statistics.median(w), statistics.median(d)
    results[q] = (tw, td, peak_kib(ww_cmd(q)), peak_kib(duck_cmd(q)), len(a) if isinstance(a, list) else a)

rows = int(subprocess.run([ww, "query", "emails", "--count"], capture_output=True, text=True).stdout.strip())
print(f"rows: {rows:,}; timer: {'hyperfine' if hf else 'python loop'}, {runs} runs each, medians")
print(f"{'query':<6}{'answer':>10}{'whalewatch ms':>15}{'DuckDB ms':>12}{'ratio':>8}{'ww peak MiB':>13}{'duck peak MiB':>15}")
for q, (tw, td, mw, md, n) in results.items():
    print(f"{q:<6}{n:>10}{tw*1e3:>15.1f}{td*1e3:>12.1f}{td/tw:>7.1f}x{mw/1024:>13.0f}{md/1024:>15.0f}")
print("answers: equal (whalewatch and DuckDB)")
PYEOF
