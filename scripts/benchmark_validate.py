#!/usr/bin/env python3
"""Benchmark: `validate` over 1,000 revision files against squawk on the same SQL.

    .venv/bin/python scripts/benchmark_validate.py [--files 1000] [--rounds 5] [--json PATH]

Generates N revision files (a mix of hazards and safe statements, all SQL inside op.execute so
squawk can lint exactly the same statements from N .sql files), then times, alternating, in the
same run: one `migration_utils.py validate` process over all files, and one `squawk` process over
all .sql files. Also times one-file validation and `--help` start-up. squawk-cli is a
benchmark-only dependency, installed into the venv on first use.
"""
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
CLI = [sys.executable, str(ROOT / "migrations" / "migration_utils.py")]

STATEMENTS = [
    "ALTER TABLE farms ADD COLUMN note text",
    "ALTER TABLE farms ADD COLUMN code text NOT NULL",
    "CREATE INDEX ix_farms_region_{n} ON farms (region)",
    "ALTER TABLE farms ADD CONSTRAINT fk_owner_{n} FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID",
    "ALTER TABLE farms VALIDATE CONSTRAINT fk_owner_{n}",
    "ALTER TABLE farms ALTER COLUMN name TYPE varchar(200)",
    "UPDATE farms SET region = 'north' WHERE id = {n}",
    "ALTER TABLE fields ADD CONSTRAINT area_pos_{n} CHECK (area_hectares > 0)",
    "CREATE TABLE notes_{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text, created timestamptz)",
    "ALTER TABLE farms DROP COLUMN legacy_{n}",
]


def generate(directory: Path, count: int) -> tuple[Path, Path]:
    versions = directory / "versions"
    sql_dir = directory / "sql"
    versions.mkdir(parents=True)
    sql_dir.mkdir()
    previous = None
    for n in range(count):
        statements = [STATEMENTS[(n + k) % len(STATEMENTS)].format(n=n) for k in range(3)]
        revision = f"r{n:05d}"
        body = "\n".join(f"    op.execute({s!r})" for s in statements)
        (versions / f"{revision}_bench.py").write_text(
            f'"""benchmark revision {n}"""\nfrom alembic import op\n\nrevision = {revision!r}\n'
            f"down_revision = {previous!r}\n\n\ndef upgrade():\n{body}\n\n\ndef downgrade():\n"
            f'    op.execute("SELECT 1")\n')
        (sql_dir / f"{revision}.sql").write_text(";\n".join(statements) + ";\n")
        previous = revision
    ini = directory / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {directory}\n")
    return ini, sql_dir


def timed(argv: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def ensure_squawk() -> str:
    found = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not os.access(found, os.X_OK):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "squawk-cli"], check=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", default=str(ROOT / "benchmark_results" / "validate.json"))
    args = parser.parse_args()
    squawk = ensure_squawk()
    with tempfile.TemporaryDirectory(prefix="validate_bench_") as scratch:
        ini, sql_dir = generate(Path(scratch), args.files)
        sql_files = sorted(str(p) for p in sql_dir.glob("*.sql"))
        one_file = sorted((Path(scratch) / "versions").glob("*.py"))[0]
        ours, theirs, single, help_times = [], [], [], []
        for _ in range(args.rounds):                       # alternate so drift hits both alike
            ours.append(timed(CLI + ["--config", str(ini), "validate"]))
            theirs.append(timed([squawk, *sql_files]))
            single.append(timed(CLI + ["--config", str(ini), "validate", "-f", str(one_file)]))
            help_times.append(timed(CLI + ["--help"]))
        findings = json.loads(subprocess.run(CLI + ["--config", str(ini), "--format", "json", "validate"],
                                             capture_output=True, text=True).stdout)
    result = {
        "files": args.files, "rounds": args.rounds, "findings": len(findings),
        "validate_median_s": round(statistics.median(ours), 3),
        "squawk_median_s": round(statistics.median(theirs), 3),
        "ratio_validate_to_squawk": round(statistics.median(ours) / statistics.median(theirs), 2),
        "one_file_validate_median_s": round(statistics.median(single), 3),
        "help_median_s": round(statistics.median(help_times), 3),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    print(f"{'what':<40} {'median':>10}")
    print(f"{'validate, ' + str(args.files) + ' revision files':<40} {result['validate_median_s']:>9.3f}s")
    print(f"{'squawk, the same SQL':<40} {result['squawk_median_s']:>9.3f}s")
    print(f"{'ratio validate / squawk':<40} {result['ratio_validate_to_squawk']:>9.2f}x")
    print(f"{'validate, one file (start-up included)':<40} {result['one_file_validate_median_s']:>9.3f}s  target < 0.3s")
    print(f"{'migration_utils.py --help':<40} {result['help_median_s']:>9.3f}s  target < 0.3s")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
