"""Langflow's real revision chain (issue: a chain nobody had tried): 162 revisions with branches and
merges, vendored from langflow-base 1.13.0 in tests/real_chains/langflow (see its NOTICE.md) and run
with Langflow's own env.py unchanged (async, psycopg 3, one transaction for the run, its own
``SET LOCAL lock_timeout = '180s'``), stand-ins only for the application's imports.

From base on an empty database the wrapper applies all 162 revisions without ``--allow-unsafe`` and
leaves the same schema as plain ``alembic upgrade head``; it says that env.py's lock_timeout replaces
its own; a downgrade across a merge leaves the same schema as Alembic's; a failure after a revision
that committed (``autocommit_block()``) is restored exactly and names the revision."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from harness import fingerprint, new_database, run_cli

VENDORED = Path(__file__).parent / "real_chains" / "langflow"
HEAD = "e5a7c9b1d3f2"
REVISIONS = 162
INI = """[alembic]
script_location = %(here)s/langflow/alembic
prepend_sys_path = %(here)s
path_separator = os
sqlalchemy.url = {url}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %%(levelname)s %%(name)s %%(message)s
"""
FAILS_AFTER_HEAD = '''"""Fails after the chain's autocommit_block() revisions committed.

Revision ID: ff01failing
Revises: e5a7c9b1d3f2
"""
from alembic import op

revision = "ff01failing"
down_revision = "e5a7c9b1d3f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE message SET text = 'changed'")
    op.execute("SELECT 1 / 0")


def downgrade() -> None:
    pass
'''


def langflow_project(root: Path, url: str = "postgresql+psycopg://langflow@localhost/langflow") -> Path:
    """Langflow's alembic folder as the wheel ships it; an ini naming its driver (psycopg 3). The
    wrapper supplies the database; plain Alembic gets ``url``."""
    shutil.copytree(VENDORED, root)
    ini = root / "alembic.ini"
    ini.write_text(INI.format(url=url.replace("%", "%%")))
    return ini


def alembic(ini: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def versions(database) -> set:
    return {version for (version,) in database.sql("SELECT version_num FROM alembic_version")}


def test_validate_judges_each_revision_alone(tmp_path):
    ini = langflow_project(tmp_path / "langflow")
    result = run_cli("--config", str(ini), "--format", "json", "validate")
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["files_checked"] == REVISIONS
    errors = {(f["file"].rsplit("/", 1)[-1].split("_", 1)[0], f["rule"]) for f in report["findings"]
              if f["severity"] == "error"}
    # alone, a revision's drop of a table an older release had is a hazard to a database that has it
    assert ("260dbcc8b680", "drop-table") in errors and ("b7c4d8e9f012", "rename-column") in errors


def test_the_chain_through_the_wrapper_and_through_alembic(database, pg_cluster, env, tmp_path):
    ini = langflow_project(tmp_path / "langflow")
    applied = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    result = json.loads(applied.stdout)
    assert result["status"] == "applied" and result["unsafe_allowed"] is False and len(result["steps"]) == REVISIONS
    assert versions(database) == {HEAD}
    # the guarded drops of tables of older releases: this database never had them
    drops = [f["message"] for f in result["findings"] if f["rule"] == "drop-table" and f["phase"] == "upgrade"
             and f["file"].endswith(("260dbcc8b680_adds_tables.py", "b2fa308044b5_add_unique_constraints.py"))]
    assert len(drops) == 3 and all("does not exist in the database" in m for m in drops), drops
    assert any(n.startswith("env.py sets lock_timeout = 3min for the revisions") for n in result["notes"])

    plain = new_database(pg_cluster)
    try:
        plain_ini = langflow_project(tmp_path / "plain", plain.url.replace("postgresql://", "postgresql+psycopg://"))
        alembic(plain_ini, "upgrade", "head")
        assert fingerprint(database)["schema"] == fingerprint(plain)["schema"]

        # back across the merge b4e8d2f1c9a3: two heads left, as with Alembic
        down = run_cli("--config", str(ini), "--format", "json", "downgrade", "6db8617a3585", env=env)
        assert down.returncode == 0, down.stdout + down.stderr
        alembic(plain_ini, "downgrade", "6db8617a3585")
        assert versions(database) == versions(plain) == {"6db8617a3585", "f3a9c1d7b025"}
        assert fingerprint(database)["schema"] == fingerprint(plain)["schema"]
    finally:
        pg_cluster.drop_database(plain.name)

    # rows for the failing revision to change; then back up past c4d8e2f6a1b7, whose CREATE INDEX
    # CONCURRENTLY commits the run's transaction before the failure
    database.sql("INSERT INTO message (timestamp, sender, sender_name, session_id, text, id) "
                 "SELECT now(), 'User', 'u', 's' || g, 'hello', gen_random_uuid() FROM generate_series(1, 50) g")
    (ini.parent / "langflow" / "alembic" / "versions" / "ff01_failing.py").write_text(FAILS_AFTER_HEAD)
    before = fingerprint(database)
    failed = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    payload = json.loads(failed.stdout)
    assert payload["status"] == "failed-restored", payload["message"]
    assert payload["failed_step"].startswith("upgrade e5a7c9b1d3f2 -> ff01failing")
    assert fingerprint(database) == before
