#!/usr/bin/env python3
"""Benchmark: `validate` over 1,000 revision files against squawk on the same SQL.

    .venv/bin/python scripts/benchmark_validate.py [--files 1000] [--rounds 5] [--json PATH]

Generates N revision files (a mix of hazards and safe statements, all SQL inside op.execute so
squawk can lint exactly the same statements from N .sql files), then times, alternating, in the
same run: one `migration_utils.py validate` process over all files (default and JSON reporters),
and one `squawk` process over all .sql files. validate runs cold (an empty findings cache, as in CI) and over files unchanged
since the last run (the cache replays their findings). Also times one-file validation and `--help`
start-up, and splits one validate into its stages in process (imports, reading, rules, graph). squawk-cli is a
benchmark-only dependency, installed into the venv on first use.
"""
from __future__ import annotations

import argparse
import io
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
    """A project made by Alembic's own template (its env.py decides the plan, as in a user's
    project) holding ``count`` revisions, and the same statements as .sql files for squawk."""
    from alembic import command
    from alembic.config import Config

    ini = directory / "alembic.ini"
    command.init(Config(str(ini), stdout=io.StringIO()), str(directory / "project"), template="generic")
    versions = directory / "project" / "versions"
    sql_dir = directory / "sql"
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
    return ini, sql_dir


def timed(argv: list[str], cache_home: str | None = None) -> float:
    """Wall time of one process; ``cache_home`` is its XDG_CACHE_HOME (a new, empty one: a cold run).
    A run that ends in anything but a verdict (0 clean, 3 errors found; squawk: 0 or 1) is not a measurement: a
    configuration error returns in a tenth of the time and would flatter every figure."""
    env = {**os.environ, "XDG_CACHE_HOME": cache_home or tempfile.mkdtemp(prefix="validate_bench_cache_")}
    started = time.perf_counter()
    finished = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if finished.returncode not in (0, 1, 3):
        sys.exit(f"{' '.join(argv[1:])} ended with exit {finished.returncode}: {finished.stderr.decode()[-500:]}")
    return elapsed


def ensure_squawk() -> str:
    found = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not os.access(found, os.X_OK):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "squawk-cli"], check=True)
    return found


def in_process_stages(versions: Path) -> dict:
    """Where one validate spends its time, in a fresh interpreter (cold caches): the imports,
    reading the files (Python ast, then the SQL through PostgreSQL's parser), the rules over what
    was read, and the graph checks (Alembic's RevisionMap, its import included)."""
    probe = PROBE.format(migrations=str(ROOT / "migrations"), versions=str(versions))
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="validate_bench_cache_")}).stdout
    return {stage: round(seconds, 3) for stage, seconds in json.loads(output).items()}


PROBE = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {migrations!r})
from pathlib import Path
from migration_safety.validation import ValidationConfig, validate_paths
from migration_safety.validation.checker import _Reporter, check_operations, read_file
from migration_safety.validation.model import ValidationReport
imported = time.perf_counter()
paths = sorted(Path({versions!r}).glob("*.py"))
files = [read_file(path) for path in paths]
read = time.perf_counter()
reporter = _Reporter(ValidationConfig(), ValidationReport(), "upgrade")
for revision_file in files:
    check_operations(revision_file, ValidationConfig(), reporter)
checked = time.perf_counter()
validate_paths(paths[:1], ValidationConfig(), graph_dir=Path({versions!r}))
graph = time.perf_counter()
print(json.dumps({{"imports": imported - started, "read files (ast + SQL parse)": read - imported,
                  "operation rules": checked - read, "graph checks (Alembic import + RevisionMap)": graph - checked}}))
"""


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
        one_file = sorted((Path(scratch) / "project" / "versions").glob("*.py"))[0]
        warm_cache = str(Path(scratch) / "cache")
        timed(CLI + ["--config", str(ini), "validate"], warm_cache)          # fills the findings cache
        ours, ours_json, warm, warm_json, theirs, single, help_times = [], [], [], [], [], [], []
        for _ in range(args.rounds):                       # alternate so drift hits all alike
            ours.append(timed(CLI + ["--config", str(ini), "validate"]))
            ours_json.append(timed(CLI + ["--config", str(ini), "--format", "json", "validate"]))
            warm.append(timed(CLI + ["--config", str(ini), "validate"], warm_cache))
            warm_json.append(timed(CLI + ["--config", str(ini), "--format", "json", "validate"], warm_cache))
            theirs.append(timed([squawk, *sql_files]))
            single.append(timed(CLI + ["--config", str(ini), "validate", "-f", str(one_file)]))
            help_times.append(timed(CLI + ["--help"]))
        findings = json.loads(subprocess.run(CLI + ["--config", str(ini), "--format", "json", "validate"],
                                             capture_output=True, text=True).stdout)["findings"]
        stages = in_process_stages(Path(scratch) / "project" / "versions")
    squawk_s = statistics.median(theirs)
    result = {
        "files": args.files, "rounds": args.rounds, "findings": len(findings),
        "validate_median_s": round(statistics.median(ours), 3),
        "validate_json_median_s": round(statistics.median(ours_json), 3),
        "squawk_median_s": round(squawk_s, 3),
        "ratio_validate_to_squawk": round(statistics.median(ours) / squawk_s, 2),
        "ratio_validate_json_to_squawk": round(statistics.median(ours_json) / squawk_s, 2),
        "validate_unchanged_files_median_s": round(statistics.median(warm), 3),
        "validate_json_unchanged_files_median_s": round(statistics.median(warm_json), 3),
        "ratio_unchanged_to_squawk": round(statistics.median(warm) / squawk_s, 2),
        "one_file_validate_median_s": round(statistics.median(single), 3),
        "help_median_s": round(statistics.median(help_times), 3),
        "in_process_s": stages,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    print(f"{'what':<44} {'median':>10}")
    print(f"{'validate, ' + str(args.files) + ' revision files (cold)':<44} {result['validate_median_s']:>9.3f}s")
    print(f"{'validate --format json, the same (cold)':<44} {result['validate_json_median_s']:>9.3f}s")
    print(f"{'validate, files unchanged since last run':<44} {result['validate_unchanged_files_median_s']:>9.3f}s")
    print(f"{'validate --format json, files unchanged':<44} {result['validate_json_unchanged_files_median_s']:>9.3f}s")
    print(f"{'squawk, the same SQL as .sql files':<44} {result['squawk_median_s']:>9.3f}s")
    print(f"{'ratio validate / squawk':<44} {result['ratio_validate_to_squawk']:>9.2f}x  target <= 5x")
    print(f"{'ratio validate --format json / squawk':<44} {result['ratio_validate_json_to_squawk']:>9.2f}x  target <= 5x")
    print(f"{'ratio validate (unchanged files) / squawk':<44} {result['ratio_unchanged_to_squawk']:>9.2f}x")
    print(f"{'validate, one file (start-up included)':<44} {result['one_file_validate_median_s']:>9.3f}s  target < 0.5s")
    print(f"{'migration_utils.py --help':<44} {result['help_median_s']:>9.3f}s  target < 0.3s")
    print("one validate, in process (cold):")
    for stage, seconds in stages.items():
        print(f"{'  ' + stage:<44} {seconds:>9.3f}s")
    print(f"load average while measuring: {result['machine']['load_average_1m']} on {os.cpu_count()} cpus")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
