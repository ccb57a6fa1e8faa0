"""Whether other tools open the Arrow IPC file `arrow-compare` wrote (the free export
path issue #15 asks about), and how long DuckDB takes for q5 (rows per
SenderFromDomain, every value) from that file against its own database file.

Usage: python compare.py OUT_DIR [RUNS]   (OUT_DIR as given to arrow-compare; needs
duckdb, pyarrow and pandas: the venv run.sh makes). Every answer is checked against
q5.csv, the answer arrow-compare computed (and checked equal to whalewatch's).
"""

import os
import statistics
import sys
import time

import duckdb
import pandas as pd
import pyarrow as pa

os.umask(0o077)  # DuckDB's file holds tenant data: owner-only

out = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
arrow_path = os.path.join(out, "email-index.arrow")
db_path = os.path.join(out, "email.duckdb")

with open(os.path.join(out, "q5.csv")) as f:
    expected = [(v, int(n)) for v, n in (line.rstrip("\n").split("\t") for line in f)]

Q5 = (
    'SELECT "SenderFromDomain"::VARCHAR v, count(*) c FROM email '
    "GROUP BY 1 ORDER BY c DESC, v"
)


def median_ms(f):
    times = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, result


def open_arrow():
    # Memory-mapped, zero-copy: what pyarrow.feather / polars.scan_ipc do.
    return pa.ipc.open_file(pa.memory_map(arrow_path)).read_all()


ms, table = median_ms(open_arrow)
print(f"pyarrow: opens it memory-mapped: {table.num_rows} rows, "
      f"{table.num_columns} columns, {ms:.1f} ms (median of {runs})")
print(f"  SenderFromDomain is {table.schema.field('SenderFromDomain').type}")

ms, df = median_ms(lambda: pd.read_feather(arrow_path))
print(f"pandas.read_feather: {df.shape[0]} rows x {df.shape[1]} columns, {ms:.0f} ms "
      f"(median of {runs}; pandas copies into its own arrays)")
del df
ms, df = median_ms(lambda: pd.read_feather(arrow_path, dtype_backend="pyarrow"))
print(f"pandas.read_feather(dtype_backend='pyarrow'): {df.shape[0]} rows, {ms:.0f} ms "
      f"(median of {runs}; Arrow-backed columns)")
del df

try:
    n = duckdb.sql(f"SELECT count(*) FROM read_arrow('{arrow_path}')").fetchone()[0]
    print(f"duckdb read_arrow(file): {n} rows")
except duckdb.Error as e:
    print(f"duckdb cannot read the file by name ({type(e).__name__}: {str(e).splitlines()[0]}); "
          "it scans the pyarrow table instead (zero-copy)")


def q5_from_arrow():
    email = open_arrow()  # noqa: F841 (DuckDB finds the variable by name)
    con = duckdb.connect()
    return con.sql(Q5).fetchall()


ms_arrow, got = median_ms(q5_from_arrow)
assert [(v, c) for v, c in got] == expected, "DuckDB over the Arrow file disagrees"

if not os.path.exists(db_path):
    # DuckDB's own file with the same rows, strings as VARCHAR (as a CSV import makes).
    cols = []
    for f in table.schema:
        name = f'"{f.name}"'
        cols.append(f"{name}::VARCHAR {name}" if pa.types.is_dictionary(f.type) else name)
    email = table  # noqa: F841
    con = duckdb.connect(db_path)
    con.sql(f"CREATE TABLE email AS SELECT {', '.join(cols)} FROM email")
    con.close()
del table


def q5_from_db():
    con = duckdb.connect(db_path, read_only=True)
    r = con.sql(Q5).fetchall()
    con.close()
    return r


ms_db, got = median_ms(q5_from_db)
assert [(v, c) for v, c in got] == expected, "DuckDB over its own file disagrees"
print(f"DuckDB {duckdb.__version__} q5 ({len(expected)} values, answers equal to whalewatch's), "
      f"median of {runs}, open included:")
print(f"  from the Arrow file (pyarrow mmap + scan): {ms_arrow:.0f} ms")
print(f"  from its own database file:                {ms_db:.0f} ms")
