#!/usr/bin/env python3
"""A fleet rollout against a shell loop of single runs, measured in the same run.

    .venv/bin/python scripts/benchmark_fleet.py [--databases 50] [--concurrency 1,2,4] [--rounds 2] [--json PATH]

Starts a throwaway PostgreSQL cluster with N small databases (a table of 2,000 rows each), and
upgrades all of them with the same two-revision project:
- the loop: `for db in ...; do migration_utils.py upgrade; done`, as teams do today;
- `upgrade --targets FILE --concurrency K` for each K.
Every variant starts from databases at base (each is downgraded to base between variants, outside
the timing). The variants alternate round by round (the loop first in one round, last in the
next), so a machine busy with something else weighs on all of them alike; the medians and their
ratio to the loop are printed."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import local_postgres  # noqa: E402

CLI = [sys.executable, str(ROOT / "migrations" / "migration_utils.py")]
USER, PASSWORD = "fleet_user", "fleet:p@ss%word"
REVISIONS = {
    "a1.py": ('from alembic import op\nrevision = "a1"\ndown_revision = None\n\n'
              'def upgrade():\n    op.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")\n'
              '    op.execute("INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 2000) g")\n\n'
              'def downgrade():\n    op.execute("DROP TABLE orders")\n'),
    "b2.py": ('from alembic import op\nrevision = "b2"\ndown_revision = "a1"\n\n'
              'def upgrade():\n    op.execute("ALTER TABLE orders ADD COLUMN shipped boolean")\n\n'
              'def downgrade():\n    op.execute("ALTER TABLE orders DROP COLUMN shipped")\n'),
}


def make_project(root: Path) -> Path:
    from alembic import command
    from alembic.config import Config

    ini = root / "alembic.ini"
    command.init(Config(str(ini)), str(root / "alembic"), template="generic")
    for name, source in REVISIONS.items():
        (root / "alembic" / "versions" / name).write_text(source)
    return ini


def run(argv, env) -> None:
    # a session of its own, as the fleet gives each target's run: with the kernel's autogroup
    # scheduling, CPU is shared between sessions, so on a busy machine a run in the benchmark's own
    # session would get less than a fleet's child and the comparison would measure that instead
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, start_new_session=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:5])}...: exit {completed.returncode}\n{completed.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=str(ROOT / "benchmark_results" / "fleet.json"))
    args = parser.parse_args()
    levels = [int(k) for k in args.concurrency.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="migration_fleet_bench_"))
    os.chmod(scratch, 0o755)
    cluster = local_postgres.start_cluster(scratch / "pg" / "data", fast=True)
    try:
        cluster.create_role(USER, PASSWORD)
        names = [f"fleet_{n:03d}" for n in range(args.databases)]
        for name in names:
            cluster.create_database(name, USER)
        ini = make_project(scratch / "project")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "PG", "MIGRATION_"))}
        base_env.update(POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=str(cluster.port), POSTGRES_USER=USER,
                        POSTGRES_PASSWORD=PASSWORD, FLEET_PASSWORD=PASSWORD,
                        MIGRATION_BACKUP_DIR=str(scratch / "backups"))
        targets = scratch / "targets.yaml"
        targets.write_text(json.dumps({"targets": [
            {"name": name, "host": "127.0.0.1", "port": cluster.port, "database": name, "user": USER,
             "password_env": "FLEET_PASSWORD"} for name in names]}))

        def reset() -> None:
            for name in names:
                run(CLI + ["--config", str(ini), "downgrade", "--revision", "base", "--no-backup"],
                    dict(base_env, POSTGRES_DB=name))
            shutil.rmtree(scratch / "backups", ignore_errors=True)
            (scratch / "backups").mkdir(mode=0o700)

        def shell_loop() -> None:     # one protected run after the other, as teams script it today
            for name in names:
                run(CLI + ["--config", str(ini), "upgrade"],
                    dict(base_env, POSTGRES_DB=name, MIGRATION_BACKUP_DIR=str(scratch / "backups" / name)))

        variants = {"shell loop": shell_loop}
        for level in levels:
            variants[f"--concurrency {level}"] = (lambda level=level: run(
                CLI + ["--config", str(ini), "upgrade", "--targets", str(targets), "--concurrency", str(level)],
                base_env))
        samples: dict = {name: [] for name in variants}
        for number in range(args.rounds):
            order = list(variants) if number % 2 == 0 else list(reversed(variants))
            for name in order:
                reset()
                start = time.monotonic()
                variants[name]()
                samples[name].append(time.monotonic() - start)
        timings = {name: statistics.median(values) for name, values in samples.items()}
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    loop = timings["shell loop"]
    print(f"{args.databases} databases, {os.cpu_count()} cores, median of {args.rounds} rounds")
    print(f"{'variant':<18} {'total s':>8} {'per db s':>9} {'vs loop':>8}")
    for variant, seconds in timings.items():
        print(f"{variant:<18} {seconds:8.1f} {seconds / args.databases:9.2f} {seconds / loop:7.2f}x")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"databases": args.databases, "cores": os.cpu_count(),
                                           "rounds": args.rounds, "seconds": timings, "samples": samples}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
