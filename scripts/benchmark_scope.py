#!/usr/bin/env python3
"""What a scoped backup saves: the same migration under backup_scope = auto and full, in one run.

    .venv/bin/python scripts/benchmark_scope.py [--size-mb 400] [--small-mb 10] [--rounds 3] [--json PATH]

Starts a throwaway PostgreSQL cluster and fills one large table (``readings``, realistic rows, as
scripts/benchmark.py does) and one small one (``stations``, about ``--small-mb``). The migration
adds a column to ``stations`` and fills it. Alternating the two settings each round and taking
medians, it measures

1. the backup of a successful upgrade (the run's ``backup_seconds``) and the whole run;
2. the failure path: the same revision committed, the next one failing, the run restoring
   (``restore_seconds``, selective in both cases) and the whole run;

and prints each as scoped / full with the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import benchmark  # noqa: E402
import local_postgres  # noqa: E402

SMALL_CHANGE = benchmark.SMALL_CHANGE
FAILING_AFTER = benchmark.FAILING_AFTER


def grow_stations(cluster, database: str, small_mb: int) -> int:
    connection = cluster.admin_connect(database)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {benchmark.USER}")
        cursor.execute("INSERT INTO stations SELECT i, md5(i::text), repeat(md5(random()::text), 2)"
                       " FROM generate_series(201, 200 + %s) i", (small_mb * 1024 * 1024 // 130,))
        cursor.execute("VACUUM ANALYZE stations")
        cursor.execute("SELECT pg_total_relation_size('stations')")
        size = cursor.fetchone()[0]
    connection.close()
    return size


def measure(bench: benchmark.Bench, rounds: int) -> dict:
    ok = benchmark.make_project(bench.scratch / "ok", {"a1": benchmark.BASE, "b2": SMALL_CHANGE})
    failing = benchmark.make_project(bench.scratch / "failing", {"a1": benchmark.BASE, "b2": SMALL_CHANGE,
                                                                 "c3": FAILING_AFTER}, per_migration=True)
    for ini in (ok, failing):
        benchmark.set_url(ini, bench.url)
    bench.alembic(ok, "upgrade", "a1")
    figures = {scope: {"backup": [], "upgrade": [], "restore": [], "failed run": []} for scope in ("auto", "full")}
    for _ in range(rounds):
        for scope in ("auto", "full"):
            extra = {"MIGRATION_BACKUP_SCOPE": scope}
            elapsed, payload = bench.wrapper_run(ok, "upgrade", extra_env=extra)
            _check_scope(payload, scope)
            figures[scope]["upgrade"].append(elapsed)
            figures[scope]["backup"].append(payload["backup_seconds"])
            bench.alembic(ok, "downgrade", "a1")
            bench.clear_backups()
            elapsed, payload = bench.wrapper_run(failing, "upgrade", expect=1, extra_env=extra)
            assert payload["status"] == "failed-restored" and payload["restore_mode"] == "selective", payload
            _check_scope(payload, scope)
            figures[scope]["failed run"].append(elapsed)
            figures[scope]["restore"].append(payload["restore_seconds"])
            bench.clear_backups()
    return {scope: {name: statistics.median(values) for name, values in measured.items()}
            for scope, measured in figures.items()}


def _check_scope(payload: dict, scope: str) -> None:
    sidecar = json.loads(Path(payload["backup"]).with_name(
        Path(payload["backup"]).name.split(".")[0] + ".json").read_text())
    scoped = sidecar.get("scope_tables") is not None
    assert scoped == (scope == "auto"), sidecar


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=400, help="the large table's database size")
    parser.add_argument("--small-mb", type=int, default=10, help="the table the migration changes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=str(ROOT / "benchmark_results" / "benchmark_scope.json"))
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="migration_bench_scope_"))
    os.chmod(scratch, 0o755)
    cluster = local_postgres.start_cluster(scratch / "pg" / "data")
    database = "bench_scope"
    try:
        cluster.create_role(benchmark.USER, benchmark.PASSWORD)
        cluster.create_database(database, benchmark.USER)
        size = benchmark.fill(cluster, database, args.size_mb)
        small = grow_stations(cluster, database, args.small_mb)
        work = scratch / "work"
        work.mkdir()
        medians = measure(benchmark.Bench(cluster, database, work), args.rounds)
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    report = {"database_mb": round((size + small) / 2**20), "changed_table_mb": round(small / 2**20, 1),
              "rounds": args.rounds, "medians_seconds": medians}
    print(f"database {report['database_mb']} MB, the migration changes a {report['changed_table_mb']} MB table; "
          f"medians of {args.rounds} round(s)")
    print(f"{'':32}{'scoped':>10}{'full':>10}{'ratio':>8}")
    for name, label in (("backup", "backup"), ("upgrade", "successful upgrade (whole run)"),
                        ("restore", "restore after a failure"), ("failed run", "failed run (whole run)")):
        scoped, full = medians["auto"][name], medians["full"][name]
        print(f"{label:32}{scoped:>9.2f}s{full:>9.2f}s{scoped / full:>7.2f}x")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
