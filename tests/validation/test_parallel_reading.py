"""Many files the cache does not know are read in worker processes, one per core, while the CLI
imports Alembic for the graph checks; what they find is exactly what one process finds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from harness import REPO_ROOT
from migration_safety.validation import ValidationConfig, validate_paths

STATEMENTS = [
    "ALTER TABLE farms ADD COLUMN code text NOT NULL",
    "CREATE INDEX ix_farms_region_{n} ON farms (region)",
    "ALTER TABLE farms ALTER COLUMN name TYPE varchar(20)",
    "UPDATE farms SET region = 'north'",
    "ALTER TABLE fields ADD CONSTRAINT area_pos_{n} CHECK (area_hectares > 0)",
    "CREATE TABLE notes_{n} (id serial PRIMARY KEY, body varchar(40))",
]
FILES = 240          # above checker._PARALLEL_MIN_FILES


def _chain(directory) -> list:
    paths, previous = [], None
    for n in range(FILES):
        body = "\n".join(f"    op.execute({STATEMENTS[(n + k) % len(STATEMENTS)].format(n=n)!r})" for k in range(2))
        suppressed = "  # migration-safety: ignore[update-without-where] backfill of a tiny table" if n % 7 == 0 else ""
        path = directory / f"r{n:04d}.py"
        path.write_text(f"from alembic import op\n\nrevision = 'r{n:04d}'\ndown_revision = {previous!r}\n\n\n"
                        f"def upgrade():\n{body}{suppressed}\n\n\ndef downgrade():\n    op.drop_table('notes_{n}')\n")
        paths.append(path)
        previous = f"r{n:04d}"
    (directory / "broken.py").write_text("def upgrade(:\n")        # read (and reported) by this process
    return paths + [directory / "broken.py"]


def _found(findings) -> list:
    return sorted((f["file"], f["line"], f["rule"], f["severity"], f["message"]) for f in findings)


PROBE = """
import json, sys
sys.path.insert(0, {migrations!r})
from pathlib import Path
from migration_safety.validation import ValidationConfig, validate_paths
report = validate_paths([Path(p) for p in {paths!r}], ValidationConfig(), graph_dir=Path({directory!r}))
print(json.dumps({{"workers": report.files_read_by_workers, "findings": [
    {{"file": f.file, "line": f.line, "rule": f.rule, "severity": f.severity, "message": f.message}}
    for f in report.findings]}}))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing to read in parallel")
def test_workers_find_what_one_process_finds(tmp_path, monkeypatch):
    paths = _chain(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "serial_cache"))
    held = threading.Event()
    other_thread = threading.Thread(target=held.wait)       # a second thread: this process never forks
    other_thread.start()
    try:
        serial = validate_paths(paths, ValidationConfig(), graph_dir=tmp_path)
    finally:
        held.set()
        other_thread.join()
    assert serial.files_read_by_workers == 0
    expected = _found([f.__dict__ for f in serial.findings])
    assert {rule for _, _, rule, _, _ in expected} >= {"add-not-null-column-without-default", "update-without-where",
                                                         "create-index-without-concurrently", "syntax-error"}

    probe = PROBE.format(migrations=str(REPO_ROOT / "migrations"), paths=[str(p) for p in paths],
                         directory=str(tmp_path))
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "parallel_cache")}
    for run in ("cold", "replayed from the cache the workers filled"):
        output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                env=environment).stdout
        parallel = json.loads(output)
        assert parallel["workers"] == (FILES if run == "cold" else 0), run
        assert _found(parallel["findings"]) == expected, run
