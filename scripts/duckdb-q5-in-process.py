#!/usr/bin/env python3
# q5 (frequency of SenderFromDomain over every row) in DuckDB, in process, for the
# in-process comparison in README ("Performance"). Usage, with the venv that
# scripts/bench-vs-duckdb.sh creates (target/duckdb-venv):
#   target/duckdb-venv/bin/python scripts/duckdb-q5-in-process.py <cache.sqlite> <duck.db> [runs]
# <duck.db> is built once from the cache (read-only) and reused.
# DuckDB in-process q5 over the same rows as the index: the SenderFromDomain of
# every cached EmailEvents row (read from the whalewatch cache with sqlite3, via CSV).
import csv, os, sqlite3, statistics, sys, time
import duckdb
src, db = sys.argv[1], sys.argv[2]
os.umask(0o077)  # tenant data: owner-only files
if not os.path.exists(db):
    cur = sqlite3.connect(f"file:{src}?mode=ro", uri=True).execute(
        'SELECT coalesce("SenderFromDomain", \'\') FROM email_events')
    with open(db + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["SenderFromDomain"])
        w.writerows(cur)
    con = duckdb.connect(db + ".tmp")
    con.execute(f"CREATE TABLE emails AS SELECT * FROM read_csv('{db}.csv', header=true, all_varchar=true)")
    con.close()
    os.replace(db + ".tmp", db)
    os.remove(db + ".csv")
con = duckdb.connect(db, read_only=True)
q = "SELECT coalesce(SenderFromDomain,''), count(*) c FROM emails GROUP BY 1 ORDER BY c DESC, 1"
print("rows", con.execute("SELECT count(*) FROM emails").fetchone()[0])
r = con.execute(q).fetchall()  # warm-up
print("values", len(r), "top", r[:3])
times = []
for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 30):
    t = time.perf_counter()
    con.execute(q).fetchall()
    times.append(time.perf_counter() - t)
times.sort()
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
print(f"duckdb in-process q5: p50 {statistics.median(times)*1e3:.2f} ms  p95 {times[int(0.95*(len(times)-1))]*1e3:.2f} ms  (n={len(times)}, threads={threads})")
