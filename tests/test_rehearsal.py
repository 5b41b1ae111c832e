"""upgrade --rehearse: the pending revisions run first on a scratch copy of the database, their
locks are sampled, and the real run happens only when the rehearsal passed. Every test proves the
real database's state with the fingerprint and that no scratch database is left behind."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, example_project, fingerprint, run_cli, wait_for

REHEARSAL_APPLICATION = "migration_safety_run"

BASE = revision("a1", None, """
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL, note text DEFAULT 'n')")
    op.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g")
""")
# SET NOT NULL (the validator warns and estimates the lock) held long enough for the sampler to
# see it many times over.
ALTERS = revision("b2", "a1", """
    op.alter_column("items", "note", existing_type=sa.Text(), nullable=False)
    op.execute("SELECT pg_sleep(0.4)")
""")
FAILS = revision("b2", "a1", """
    op.add_column("items", sa.Column("weight", sa.Integer(), nullable=True))
    op.execute("INSERT INTO items VALUES (1, 'duplicate key: fails')")
""")
SLEEPS = revision("b2", "a1", """
    op.add_column("items", sa.Column("weight", sa.Integer(), nullable=True))
    op.execute("SELECT pg_sleep(60)")
""")


def test_lock_episodes_last_from_the_sample_a_mode_is_first_seen_until_the_table_is_free():
    from migration_safety.run.rehearsal import LOCK_MODES, lock_episodes

    row_exclusive, access_exclusive = LOCK_MODES.index("RowExclusiveLock"), LOCK_MODES.index("AccessExclusiveLock")
    samples = [(0.0, {}), (0.1, {"items": row_exclusive}), (0.2, {"items": access_exclusive, "notes": 0}),
               (0.3, {"items": row_exclusive, "notes": 0}), (0.4, {"notes": 0}), (0.5, {})]
    assert sorted(lock_episodes(samples)) == [("items", row_exclusive, 0.1, 0.4), ("items", access_exclusive, 0.2, 0.4),
                                              ("notes", 0, 0.2, 0.5)]


def scratch_databases(database) -> list:
    return [row[0] for row in database.sql("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                           (database.name + "\\_rehearsal\\_%",))]


def stock_project(tmp_path, env, second: str) -> Path:
    """A stock `alembic init` project at a1 (applied without a rehearsal), ``second`` pending."""
    ini = make_project(tmp_path / "project", {"a1.py": BASE, "b2.py": second})
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return ini


def upgrade_json(ini, *args, env, expect: int) -> dict:
    """The run's JSON document, valid against the published run schema."""
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    jsonschema.validate(payload, json.loads((REPO_ROOT / "docs" / "schemas" / "run.schema.json").read_text()))
    return payload


def lock_of(report: dict, revision_id: str, table: str) -> dict:
    entry = next(r for r in report["revisions"] if r["revision"] == revision_id)
    return next(lock for lock in entry["locks"] if lock["table"] == table)


def test_a_passing_rehearsal_reports_the_locks_then_the_real_upgrade_runs(database, env, tmp_path):
    ini = stock_project(tmp_path, env, ALTERS)
    before = fingerprint(database)
    dry = upgrade_json(ini, "--rehearse", "--dry-run", env=env, expect=0)      # before the deploy window
    assert dry["status"] == "dry-run" and dry["rehearsal"]["passed"] and fingerprint(database) == before
    result = upgrade_json(ini, "--rehearse", env=env, expect=0)
    assert result["status"] == "applied" and result["revision_after"] == ["b2"]
    report = result["rehearsal"]
    assert report["passed"] and report["dropped"] and report["method"] == "clone"
    assert [r["revision"] for r in report["revisions"]] == ["b2"]
    assert report["revisions"][0]["duration_ms"] >= 400 and not report["revisions"][0]["failed"]
    altered = lock_of(report, "b2", "items")
    assert altered["mode"] == "AccessExclusiveLock" and altered["held_ms"] >= 300
    estimate = next(e for e in altered["estimates"] if e["rule"] == "set-not-null")
    assert estimate["estimate_seconds"] is not None
    assert database.sql("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'items' "
                        "AND column_name = 'note'") == [("NO",)]
    assert scratch_databases(database) == []


def test_example_project_rehearses_by_restoring_when_another_session_is_connected(database, env, tmp_path):
    """The example project, its env.py reading the URL the wrapper hands it; another session on the
    database rules out the clone, so the fresh backup is restored into the scratch database."""
    root = tmp_path / "example"
    shutil.copytree(example_project().parent, root)
    (root / "versions" / "004_field_weight.py").write_text(revision("004", "003", """
        op.add_column("fields", sa.Column("weight", sa.Integer(), nullable=True))
        op.execute("SELECT pg_sleep(0.4)")
    """))
    ini = root / "alembic.ini"
    done = run_cli("--config", str(ini), "upgrade", "--revision", "003", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    other = database.connect()
    try:
        result = run_cli("--config", str(ini), "upgrade", "--rehearse", env=env)
    finally:
        other.close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Rehearsal on {database.name}_rehearsal_" in result.stdout and "(restored in " in result.stdout
    assert any(line.split()[:1] == ["004"] and "fields" in line.split() and "AccessExclusiveLock" in line
               for line in result.stdout.splitlines()), result.stdout
    assert "rehearsal passed; the rehearsal database was dropped" in result.stdout
    assert database.sql("SELECT version_num FROM alembic_version") == [("004",)]
    assert scratch_databases(database) == []


def test_a_failing_rehearsal_stops_before_the_real_database(database, env, tmp_path):
    ini = stock_project(tmp_path, env, FAILS)
    before = fingerprint(database)
    result = upgrade_json(ini, "--rehearse", env=env, expect=1)
    assert result["status"] == "failed-rehearsal" and result["failed_step"] == "b2"
    failed = result["rehearsal"]["revisions"][0]
    assert failed["failed"] and "duplicate key" in failed["error"]
    assert fingerprint(database) == before
    assert result["backup"] and Path(result["backup"]).exists()        # kept as usual
    assert scratch_databases(database) == []
    wrong = run_cli("--config", str(ini), "upgrade", env={**env, "MIGRATION_REHEARSE": "sometimes"})
    assert wrong.returncode == 2 and "MIGRATION_REHEARSE has an invalid value 'sometimes'" in wrong.stderr


def test_env_py_that_picks_its_own_database_cannot_rehearse(database, env, tmp_path):
    """env.py connects to the real database whatever URL it is handed: the probe accepts that (it
    is the backed-up database), the rehearsal's guard refuses it before its first statement."""
    ini = stock_project(tmp_path, env, ALTERS)
    env_py = tmp_path / "project" / "alembic" / "env.py"
    marker = 'config.get_section(config.config_ini_section, {}),'
    env_py.write_text("import os\n" + env_py.read_text().replace(
        marker, '{"sqlalchemy.url": os.environ["APP_DATABASE_URL"]},'))
    env["APP_DATABASE_URL"] = database.url.replace("postgresql://", "postgresql+psycopg2://")
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", "--rehearse", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "rehearsal cannot run for this env.py" in result.stderr
    assert fingerprint(database) == before and scratch_databases(database) == []


def test_a_role_that_cannot_create_databases_cannot_rehearse(database, env, tmp_path, pg_cluster):
    ini = stock_project(tmp_path, env, ALTERS)
    before = fingerprint(database)
    pg_cluster.execute(f"ALTER ROLE {database.user} NOCREATEDB")
    try:
        result = run_cli("--config", str(ini), "upgrade", "--rehearse", env=env)
    finally:
        pg_cluster.execute(f"ALTER ROLE {database.user} CREATEDB")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not be created" in result.stderr and "nothing was changed" in result.stderr
    assert fingerprint(database) == before and scratch_databases(database) == []


def start_rehearsal(ini, env) -> subprocess.Popen:
    """An upgrade that rehearses because the setting says so (no --rehearse)."""
    env = {**env, "MIGRATION_REHEARSE": "always"}
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"),
                             "--config", str(ini), "--format", "json", "upgrade"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sleeping_in_the_rehearsal(database):
    return database.sql("SELECT pid FROM pg_stat_activity WHERE datname LIKE %s AND query LIKE 'SELECT pg_sleep%%'",
                        (database.name + "\\_rehearsal\\_%",))


@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_interrupted_rehearsal_leaves_the_database_untouched_and_the_copy_dropped(database, env, tmp_path, kill):
    ini = stock_project(tmp_path, env, SLEEPS)
    before = fingerprint(database)
    wrapper = start_rehearsal(ini, env)
    try:
        wait_for(lambda: sleeping_in_the_rehearsal(database), "the rehearsal to reach pg_sleep")
        wrapper.send_signal(kill)
        stdout, stderr = wrapper.communicate(timeout=60)
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    assert fingerprint(database) == before
    if kill == signal.SIGTERM:
        assert wrapper.returncode == 1, stdout + stderr
        result = json.loads(stdout)
        assert result["status"] == "failed-rehearsal" and result["error"] == "interrupted by SIGTERM", result
        assert scratch_databases(database) == []
        return
    left = scratch_databases(database)
    assert left, "a killed run cannot drop its copy itself"
    health = json.loads(run_cli("--config", str(ini), "--format", "json", "health", env=env).stdout)
    reported = next(c for c in health["checks"] if c["check"] == "rehearsal databases")
    assert reported["status"] == "warn" and left[0] in reported["detail"]
    # the next run finds the copy the killed one left and drops it (--no-rehearse: not this time)
    (tmp_path / "project" / "alembic" / "versions" / "b2.py").write_text(ALTERS)
    result = upgrade_json(ini, "--no-rehearse", env={**env, "MIGRATION_REHEARSE": "always"}, expect=0)
    assert any("left by an interrupted run" in note for note in result["notes"])
    assert scratch_databases(database) == [] and result["rehearsal"] is None


def test_a_sql_folder_rehearses_through_the_same_source(database, env, tmp_path):
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "001_items_UP.sql").write_text("CREATE TABLE items (id int PRIMARY KEY);\n"
                                             "INSERT INTO items SELECT generate_series(1, 100);\n")
    done = run_cli("--sql-dir", str(folder), "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (folder / "002_weight_UP.sql").write_text("ALTER TABLE items ADD COLUMN weight int;\nSELECT pg_sleep(0.4);\n")
    result = run_cli("--sql-dir", str(folder), "--format", "json", "upgrade", "--rehearse", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["rehearsal"]
    assert report["passed"] and lock_of(report, "002", "items")["mode"] == "AccessExclusiveLock"
    assert database.sql("SELECT version FROM schema_migrations ORDER BY 1") == [("001",), ("002",)]
    assert scratch_databases(database) == []


QUICK = revision("b2", "a1", """
    op.add_column("items", sa.Column("quick", sa.Integer(), nullable=True))
""")


def test_a_lock_shorter_than_the_sampling_interval_is_reported_with_its_statement(database, env, tmp_path):
    """ADD COLUMN on a small table holds ACCESS EXCLUSIVE for a few milliseconds, far below the
    side sampler's interval: the migration's own transaction reads its locks after each statement,
    so the lock is reported whatever the timing, and each statement is timed."""
    ini = stock_project(tmp_path, env, QUICK)
    result = upgrade_json(ini, "--rehearse", "--dry-run", env=env, expect=0)
    report = result["rehearsal"]
    assert report["passed"], report
    lock = lock_of(report, "b2", "items")
    assert lock["mode"] == "AccessExclusiveLock" and lock["held_ms"] >= 0
    [entry] = report["revisions"]
    altering = [s for s in entry["statements"] if s["sql"].startswith("ALTER TABLE items ADD COLUMN quick")]
    assert len(altering) == 1 and altering[0]["ms"] >= 0, entry["statements"]
    assert scratch_databases(database) == []


def test_own_transaction_locks_are_read_exactly_whatever_their_length(database):
    """The reading itself, on a real connection: a lock taken by a statement of a few microseconds
    and held to the commit is one episode from that statement's start to the commit; a statement
    in autocommit leaves none (its locks are gone when it returns: the side sampler's part)."""
    import sqlalchemy as sa

    from migration_safety.run.rehearsal import LOCK_MODES, OwnTransactionLocks

    database.sql("CREATE TABLE quick (id int)")
    engine = sa.create_engine(database.url.replace("postgresql://", "postgresql+psycopg2://"))
    own = OwnTransactionLocks()
    try:
        with own.listening():
            with engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE quick ADD COLUMN flag boolean")
                connection.exec_driver_sql("SELECT count(*) FROM quick")
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ALTER TABLE quick ADD COLUMN other int")
    finally:
        engine.dispose()
    episodes = own.episodes(ended=float("inf"))
    assert [(table, LOCK_MODES[rank]) for table, rank, _, _ in episodes] == [("quick", "AccessExclusiveLock")]
    [(_, _, since, released)] = episodes
    assert since <= released < float("inf")                            # released by the commit
    assert [sql for _, sql, _ in own.statements] == ["ALTER TABLE quick ADD COLUMN flag boolean",
                                                     "SELECT count(*) FROM quick",
                                                     "ALTER TABLE quick ADD COLUMN other int"]
