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


def test_status_of_revisions_that_cannot_be_read_says_pending_is_unknown_not_none(database, env, tmp_path):
    """A revision Alembic cannot import (a module of the application missing here): which revisions
    are pending is unknown, so status says so and exits 2 rather than print '0 revision(s) pending'
    and exit 0, which a script takes for "up to date"."""
    root = tmp_path / "project"
    # not a plain declaration, so Alembic must import it to know the graph
    broken = B2.replace("from alembic import op", "import module_of_the_application_not_installed_here\n"
                        "from alembic import op").replace("revision = 'b2'", "revision = 'b2' if True else ''")
    assert "if True" in broken, "the revision template changed"
    ini = make_project(root, {"a1.py": A1, "b2.py": broken})
    text = run_cli("--config", str(ini), "status", env=env)
    assert text.returncode == 2, text.stdout + text.stderr
    assert "pending revisions unknown" in text.stdout and "0 revision(s) pending" not in text.stdout, text.stdout
    document = run_cli("--config", str(ini), "--format", "json", "status", env=env)
    assert document.returncode == 2
    payload = json.loads(document.stdout)
    assert "module_of_the_application_not_installed_here" in payload["problem"] and payload["up_to_date"] is False
