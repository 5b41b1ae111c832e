"""status/health answer from the revision chain Alembic loaded last time (revision_cache) — and
say exactly what Alembic would say: a new, edited or removed revision file is seen at once, and
a project that is not a straight line is always asked of Alembic."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from alembic_projects import make_project, revision, write_revision
from harness import run_cli

A1 = revision("a1", None, 'op.execute("CREATE TABLE t (id int)")')
B2 = revision("b2", "a1", 'op.execute("ALTER TABLE t ADD COLUMN note text")')
C3 = revision("c3", "b2", 'op.execute("ALTER TABLE t ADD COLUMN other text")')


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return environment


def status(ini: Path, env: dict) -> dict:
    result = run_cli("--config", str(ini), "--format", "json", "status", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    return {key: payload[key] for key in ("current", "heads", "pending", "up_to_date", "problem")}


def cached_projects(env: dict) -> int:
    path = Path(env["XDG_CACHE_HOME"]) / "migration_safety" / "revision_chains.json"
    return len(json.loads(path.read_text())) if path.exists() else 0


def test_status_from_the_cache_equals_alembic_and_sees_every_file_change(database, env, tmp_path):
    root = tmp_path / "project"
    ini = make_project(root, {"a1.py": A1, "b2.py": B2})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0

    first = status(ini, env)                                 # loads Alembic, keeps the chain
    assert cached_projects(env) == 1
    assert status(ini, env) == first                         # answered from the cache
    assert first["pending"] == ["a1 -> b2: revision b2"] and first["heads"] == ["b2"]

    write_revision(root, "c3.py", C3)                        # a new file
    assert status(ini, env)["pending"] == ["a1 -> b2: revision b2", "b2 -> c3: revision c3"]

    path = write_revision(root, "b2.py", B2.replace('"""revision b2"""', '"""revision b2, renamed"""'))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1))   # even within the same clock tick
    assert status(ini, env)["pending"][0] == "a1 -> b2: revision b2, renamed"

    (root / "alembic" / "versions" / "c3.py").unlink()       # a removed file
    assert status(ini, env)["heads"] == ["b2"]

    health = run_cli("--config", str(ini), "--format", "json", "health", env=env)
    checks = {check["check"]: check["detail"] for check in json.loads(health.stdout)["checks"]}
    assert checks["single head"] == "heads: b2" and checks["pending"] == "1 revision(s) pending"


def test_a_branched_project_is_never_answered_from_the_cache(database, env, tmp_path):
    root = tmp_path / "project"
    branch = revision("x2", "a1", 'op.execute("CREATE TABLE x (id int)")')
    ini = make_project(root, {"a1.py": A1, "b2.py": B2, "x2.py": branch})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    assert sorted(status(ini, env)["heads"]) == ["b2", "x2"]
    assert cached_projects(env) == 0
