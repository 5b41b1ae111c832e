#!/usr/bin/env python3
"""What a scoped backup saves: the same migration under backup_scope = auto and full, in one run.

    .venv/bin/python scripts/benchmark_scope.py [--size-mb 400 | --sizes-mb 400,5000] [--small-mb 10]
                                                [--rounds 3] [--keep DIR] [--json PATH] [--chart PATH]

Starts a PostgreSQL cluster (fsync off: nothing here needs to survive a crash) and fills one large
table (``readings``, realistic rows, as scripts/benchmark.py does) and one small one (``stations``,
about ``--small-mb``) per size. The migration adds a column to ``stations`` and fills it.
Alternating the two settings each round and taking medians, it measures

1. the backup of a successful upgrade (the run's ``backup_seconds``) and the whole run;
2. the failure path: the same revision committed, the next one failing, the run restoring
   (``restore_seconds``, selective in both cases) and the whole run;

and prints each as scoped / full with the ratio, per size; with several sizes it also draws the
backup and the restore against the database's size (SVG, default benchmark_results/benchmark_scope.svg).

``--keep DIR`` keeps the cluster and its databases in DIR: a later run with the same DIR measures
the databases it finds there instead of generating them again (a 5 GB one takes minutes to fill).
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
    bench.alembic(ok, "downgrade", "a1", check=False)    # a kept database left at b2 by an interrupted run
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


MEASUREMENTS = (("backup", "backup"), ("upgrade", "successful upgrade (whole run)"),
                ("restore", "restore after a failure"), ("failed run", "failed run (whole run)"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=400, help="the large table's database size")
    parser.add_argument("--sizes-mb", default=None,
                        help="comma-separated database sizes measured one after the other (e.g. 400,5000);"
                             " overrides --size-mb")
    parser.add_argument("--small-mb", type=int, default=10, help="the table the migration changes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", default=None, help="a folder to keep the cluster and its databases in between runs")
    parser.add_argument("--json", default=str(ROOT / "benchmark_results" / "benchmark_scope.json"))
    parser.add_argument("--chart", default=str(ROOT / "benchmark_results" / "benchmark_scope.svg"),
                        help="where to write the chart of time against size (SVG), when several sizes are measured")
    args = parser.parse_args()
    sizes_mb = [int(size) for size in args.sizes_mb.split(",")] if args.sizes_mb else [args.size_mb]
    scratch = Path(tempfile.mkdtemp(prefix="migration_bench_scope_"))
    os.chmod(scratch, 0o755)
    kept = Path(args.keep).resolve() if args.keep else None
    if kept:
        kept.mkdir(parents=True, exist_ok=True)
        os.chmod(kept, 0o755)
    cluster = local_postgres.start_cluster((kept or scratch) / "pg" / "data", fast=True)
    report = {"rounds": args.rounds, "sizes": []}
    try:
        cluster.create_role(benchmark.USER, benchmark.PASSWORD)
        for size_mb in sizes_mb:
            report["sizes"].append(measure_size(cluster, scratch, size_mb, args.small_mb, args.rounds))
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print_report(report)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    if len(report["sizes"]) > 1:
        Path(args.chart).parent.mkdir(parents=True, exist_ok=True)
        Path(args.chart).write_text(chart_svg(report))
        print(f"chart written to {args.chart}")
    return 0


def measure_size(cluster, scratch: Path, size_mb: int, small_mb: int, rounds: int) -> dict:
    """Measure the database of ``size_mb``, filling it first unless the cluster already has it."""
    database = f"bench_scope_{size_mb}mb"
    if not cluster.database_exists(database):
        cluster.create_database(database, benchmark.USER)
        benchmark.fill(cluster, database, size_mb)
        grow_stations(cluster, database, small_mb)
        cluster.execute("CHECKPOINT")
    connection = cluster.admin_connect(database)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database()), pg_total_relation_size('stations')")
        size, small = cursor.fetchone()
    connection.close()
    work = scratch / database
    work.mkdir()
    medians = measure(benchmark.Bench(cluster, database, work), rounds)
    return {"database_mb": round(size / 2**20), "changed_table_mb": round(small / 2**20, 1),
            "medians_seconds": medians}


def print_report(report: dict) -> None:
    for entry in report["sizes"]:
        medians = entry["medians_seconds"]
        print(f"database {entry['database_mb']} MB, the migration changes a {entry['changed_table_mb']} MB table; "
              f"medians of {report['rounds']} round(s)")
        print(f"{'':32}{'scoped':>10}{'full':>10}{'ratio':>8}")
        for name, label in MEASUREMENTS:
            scoped, full = medians["auto"][name], medians["full"][name]
            print(f"{label:32}{scoped:>9.2f}s{full:>9.2f}s{scoped / full:>7.2f}x")


def chart_svg(report: dict) -> str:
    """The backup and the restore after a failure against the database's size, scoped (solid) and
    full (dashed)."""
    series = []
    for colour, (name, label) in zip(benchmark.CHART_COLOURS, MEASUREMENTS[::2]):
        for scope, dash in (("auto", ""), ("full", "6,4")):
            points = [(entry["database_mb"], entry["medians_seconds"][scope][name]) for entry in report["sizes"]]
            series.append((f"{label}, {'scoped' if scope == 'auto' else 'full'}", colour, dash, points))
    return benchmark.line_chart_svg(series)


if __name__ == "__main__":
    sys.exit(main())
