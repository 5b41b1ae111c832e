"""The safe upgrade/downgrade end to end: real PostgreSQL, real pg_dump/pg_restore/psql, real
Alembic, the CLI as a user runs it. "State identical" is always compared with fingerprint()."""
from __future__ import annotations

import json
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alembic_projects import make_project, revision, write_revision
from harness import REPO_ROOT, backup_files, files_of_backup, fingerprint, run_cli, sidecar_of, wait_for

CLI = [sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py")]


def backups_in(directory: Path) -> list[Path]:
    return backup_files(directory) if directory.exists() else []


def assert_no_password(database, *texts):
    for text in texts:
        assert database.password not in text


# -- three revisions: a committed base, a second that works, a third that fails ----------------
BASE = revision("a1", None, """
    op.execute("CREATE TABLE crops (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
    op.execute("INSERT INTO crops (name) VALUES ('maize'), ('cassava')")
""", 'op.execute("DROP TABLE crops")')
SECOND = revision("b2", "a1", """
    op.execute("CREATE TABLE yields (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kg numeric)")
    op.execute("INSERT INTO crops (name) VALUES ('rice')")
""", 'op.execute("DROP TABLE yields")')
FAILING = revision("c3", "b2", """
    op.execute("CREATE TABLE doomed (id int)")
    op.execute("INSERT INTO crops (name) VALUES (NULL)")
""", 'op.execute("DROP TABLE doomed")')


def project_at_base(tmp_path, env, *, per_migration: bool, extra=None):
    revisions = {"a1_base.py": BASE, "b2_second.py": SECOND, "c3_failing.py": FAILING}
    revisions.update(extra or {})
    ini = make_project(tmp_path / "project", revisions, transaction_per_migration=per_migration)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return ini


def test_upgrade_success_writes_a_verified_private_backup(database, env, tmp_path):
    result = run_cli("upgrade", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert database.sql("SELECT version_num FROM alembic_version") == [("003",)]
    assert {row[0] for row in database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")} >= {
        "users", "farms", "fields", "crops", "harvests"}

    [archive] = backups_in(tmp_path / "backups")
    assert archive.name.startswith("backup_") and len(sidecar_of(archive).stem) == len("backup_YYYYMMDD_HHMMSS")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    sidecar = sidecar_of(archive)
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    meta = json.loads(sidecar.read_text())
    assert meta["database"] == database.name
    assert meta["revision"] == []                       # taken before the upgrade, on an empty database
    assert meta["size_bytes"] == archive.stat().st_size
    import hashlib
    assert meta["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert meta["server_version"].startswith("15") or meta["server_version"][0].isdigit()
    assert set(meta["tools"]) - {"zstd"} == {"pg_dump", "pg_restore"} and meta["duration_seconds"] >= 0
    # the default format, .dump.zst, is read through zstd (docs/backups.md, "Recovering by hand")
    reader = (f"zstd -dc {archive} | pg_restore --list" if archive.name.endswith(".zst")
              else f"pg_restore --list {archive}")
    listing = subprocess.run(["bash", "-c", reader], capture_output=True, text=True)   # pg_restore's status
    assert listing.returncode == 0
    assert_no_password(database, result.stdout, result.stderr, sidecar.read_text())
    assert not list((tmp_path / "backups").glob(".*partial"))


def test_upgrade_json_result_and_status(database, env):
    result = run_cli("--format", "json", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "applied" and payload["revision_after"] == ["003"]
    assert payload["backup"] and len(payload["steps"]) == 3
    # global options are accepted after the command too
    status = run_cli("status", "--format", "json", env=env)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["current"] == ["003"] and data["pending"] == [] and data["up_to_date"]
    assert data["last_backup"]["file"] == payload["backup"]
    assert_no_password(database, status.stdout, result.stdout, result.stderr)


def test_second_upgrade_is_a_no_op_without_backup(database, env, tmp_path):
    assert run_cli("upgrade", env=env).returncode == 0
    again = run_cli("upgrade", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert len(backups_in(tmp_path / "backups")) == 1


def test_nothing_to_do_is_said_at_once_even_while_another_run_holds_the_lock(database, env, tmp_path):
    assert run_cli("upgrade", env=env).returncode == 0
    holder = database.connect()          # another run's migration lock
    holder.cursor().execute("SELECT pg_advisory_lock(%s, hashtext(current_database()))", (0x4D534146,))
    try:
        again = run_cli("upgrade", "--lock-wait", "0", env=env)
    finally:
        holder.close()
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr
    assert "Backing up" not in again.stderr and "lock" not in again.stderr
    assert len(backups_in(tmp_path / "backups")) == 1


def test_failure_in_one_transaction_rolls_back_without_restore(database, env, tmp_path):
    ini = project_at_base(tmp_path, env, per_migration=False)
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no restore needed" in result.stdout
    assert "Restored from" not in result.stdout
    assert "Traceback" not in result.stderr
    assert fingerprint(database) == before


def test_failure_after_committed_revisions_is_restored(database, env, tmp_path):
    ini = project_at_base(tmp_path, env, per_migration=True)
    database.sql("INSERT INTO crops (name) VALUES ('sorghum')")     # data written after a1, before the run
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert result.returncode == 1, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed-restored", payload
    assert payload["committed_before_failure"] is True
    assert "b2 -> c3" in payload["failed_step"]
    assert "schema and revision verified" in payload["message"]
    after = fingerprint(database)
    assert after == before
    tables = {row[0] for row in database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "yields" not in tables and "doomed" not in tables       # created by the failed run: gone
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
    assert "Traceback" not in result.stderr


def test_failure_inside_autocommit_block_is_restored(database, env, tmp_path):
    autocommit = revision("b2", "a1", """
        op.execute("CREATE TABLE yields (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kg numeric)")
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY ix_crops_name ON crops (name)")
        op.execute("INSERT INTO crops (name) VALUES (NULL)")
    """)
    ini = project_at_base(tmp_path, env, per_migration=False, extra={"b2_second.py": autocommit})
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", "--allow-unsafe", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Restored from" in result.stdout, result.stdout
    assert fingerprint(database) == before
    indexes = {row[0] for row in database.sql("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert "ix_crops_name" not in indexes


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_slow_migration_restores(database, env, tmp_path, signum):
    slow = revision("c3", "b2", """
        op.execute("CREATE TABLE doomed (id int)")
        op.execute("SELECT pg_sleep(60)")
    """)
    ini = project_at_base(tmp_path, env, per_migration=True, extra={"c3_failing.py": slow})
    before = fingerprint(database)
    process = subprocess.Popen(CLI + ["--config", str(ini), "upgrade"], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if database.observe("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                                " AND query LIKE 'SELECT pg_sleep(60)%%'", (database.name,))[0][0]:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the slow migration never started")
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stdout + stderr
    assert f"interrupted by {signum.name}" in stdout
    assert "Restored from" in stdout
    assert "Traceback" not in stderr
    assert fingerprint(database) == before


@pytest.mark.parametrize("locked, waiting", [("plain_notes", "pg_dump"), ("crops", "migration_safety")],
                         ids=["backup-waits", "photograph-waits"])
def test_signal_while_the_backup_waits_stops_it_and_changes_nothing(database, env, tmp_path, pg_cluster,
                                                                    locked, waiting):
    # A session holding a table exclusively makes the run wait: pg_dump (in the background, while
    # the revisions load) for any table, the photograph before it only for a table with indexes
    # or defaults (printing those takes a share lock, as pg_dump's own queries do).
    ini = project_at_base(tmp_path, env, per_migration=True)
    database.sql("CREATE TABLE plain_notes (body text); INSERT INTO plain_notes VALUES ('kept')")
    before = fingerprint(database)
    blocker = pg_cluster.admin_connect(database.name)
    blocker.autocommit = False
    blocker.cursor().execute(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")
    process = subprocess.Popen(CLI + ["--config", str(ini), "upgrade"], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = pg_cluster.admin_connect(database.name)

    def sessions(condition: str) -> list:
        with watcher.cursor() as cursor:
            cursor.execute("SELECT application_name, wait_event_type, state, left(query, 60) FROM pg_stat_activity"
                           f" WHERE datname = current_database() AND pid <> pg_backend_pid() AND {condition}")
            return cursor.fetchall()
    try:
        deadline = time.monotonic() + 60
        while not sessions(f"application_name = '{waiting}' AND wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline and process.poll() is None, sessions("true")
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        # pg_dump is gone: no process holds its end of the connection. (Its server session stays
        # until the lock is free: a backend waiting for a lock does not notice its client left.)
        import psutil
        with watcher.cursor() as cursor:
            cursor.execute("SELECT client_port FROM pg_stat_activity WHERE application_name = 'pg_dump'")
            ports = {port for (port,) in cursor.fetchall()}
        assert not [c for c in psutil.net_connections("tcp") if c.pid and c.laddr and c.laddr.port in ports]
    finally:
        if process.poll() is None:
            process.kill()
        blocker.rollback()
        blocker.close()
    assert process.returncode == 1, stdout + stderr
    assert "interrupted by SIGINT during the backup; nothing was changed" in stderr
    assert "Traceback" not in stderr
    wait_for(lambda: not sessions("application_name = 'pg_dump'"), "pg_dump's server session to end")
    assert sorted((tmp_path / "backups").iterdir()) == \
        sorted(path for p in backups_in(tmp_path / "backups") for path in files_of_backup(p))   # no partial file
    assert len(backups_in(tmp_path / "backups")) == 1                                  # the base upgrade's
    watcher.close()
    assert fingerprint(database) == before


def test_two_concurrent_upgrades_never_migrate_at_once(database, env, tmp_path):
    slow = revision("b2", "a1", """
        op.execute("CREATE TABLE yields (id int)")
        op.execute("SELECT pg_sleep(4)")
    """)
    ini = project_at_base(tmp_path, env, per_migration=False,
                          extra={"b2_second.py": slow, "c3_failing.py": revision("c3", "b2", "pass")})
    first = subprocess.Popen(CLI + ["--config", str(ini), "upgrade"], env=env, cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not database.observe("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                               " AND query LIKE 'SELECT pg_sleep(4)%%'", (database.name,))[0][0]:
        assert time.monotonic() < deadline and first.poll() is None, "first run never reached its migration"
        time.sleep(0.1)
    second = run_cli("--config", str(ini), "upgrade", env=env)
    first_out, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_out + first_err
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another migration run holds the lock" in second.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]


def test_a_session_that_predates_the_run_is_never_taken_for_one_the_run_opened(database, env, tmp_path):
    """A session carrying the run's application_name that was there before the run (an earlier
    run's server process still ending after its client left) is not this run's: a failure that
    committed nothing is still proven rolled back, not "counted as committed" and restored."""
    import psycopg2

    from migration_safety.sources.alembic_runner import RUN_APPLICATION_NAME

    ini = project_at_base(tmp_path, env, per_migration=False)
    before = fingerprint(database)
    lingering = psycopg2.connect(database.url, application_name=RUN_APPLICATION_NAME)
    try:
        result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    finally:
        lingering.close()
    payload = json.loads(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert payload["status"] == "failed-rolled-back", payload
    assert "counted as committed" not in result.stdout + result.stderr
    assert fingerprint(database) == before


@pytest.mark.parametrize("case", ["wrong-password", "unreachable", "missing-pg-dump", "unknown-revision"])
def test_bad_input_is_a_clear_error_and_changes_nothing(database, env, tmp_path, case):
    assert run_cli("upgrade", "--revision", "001", env=env).returncode == 0
    before = fingerprint(database)
    args = ["upgrade"]
    if case == "wrong-password":
        env["POSTGRES_PASSWORD"] = "not-" + database.password
        expected = "authentication failed"
    elif case == "unreachable":
        env["POSTGRES_PORT"] = "1"
        expected = "server unreachable"
    elif case == "missing-pg-dump":
        empty = tmp_path / "no-tools"
        empty.mkdir()
        env["MIGRATION_PG_BIN_DIR"] = str(empty)
        expected = "pg_dump not found"
    else:
        args += ["--revision", "nope"]
        expected = "nope"
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    assert_no_password(database, result.stdout, result.stderr)
    assert fingerprint(database) == before
    assert len(backups_in(tmp_path / "backups")) == 1        # only the first upgrade's


def test_dry_run_changes_nothing_and_prints_the_sql(database, env, tmp_path):
    assert run_cli("upgrade", "--revision", "001", env=env).returncode == 0
    before = fingerprint(database)
    backups_before = backups_in(tmp_path / "backups")
    result = run_cli("upgrade", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE crops" in result.stdout and "CREATE TABLE harvests" in result.stdout
    assert "CREATE TABLE users" not in result.stdout          # only the pending revisions
    assert fingerprint(database) == before
    assert backups_in(tmp_path / "backups") == backups_before


def test_downgrade_failure_after_a_committed_step_is_restored(database, env, tmp_path):
    broken_down = revision("b2", "a1", 'op.execute("CREATE TABLE yields (id int)")', """
        op.execute("DROP TABLE yields")
        op.execute("SELECT 1/0")
    """)
    healthy = revision("c3", "b2", 'op.execute("CREATE TABLE extra (id int)")', 'op.execute("DROP TABLE extra")')
    ini = project_at_base(tmp_path, env, per_migration=True,
                          extra={"b2_second.py": broken_down, "c3_failing.py": healthy})
    assert run_cli("--config", str(ini), "upgrade", env=env).returncode == 0
    database.sql("INSERT INTO extra VALUES (7)")
    before = fingerprint(database)
    failed = run_cli("--config", str(ini), "downgrade", "--revision", "a1", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Restored from" in failed.stdout           # c3's downgrade had committed
    assert fingerprint(database) == before
    ok = run_cli("--config", str(ini), "downgrade", "--revision", "b2", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]


def test_downgrade_of_the_example_project(database, env, tmp_path):
    assert run_cli("upgrade", env=env).returncode == 0
    result = run_cli("downgrade", "--revision", "-1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("002",)]
    assert not database.sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'fields' AND column_name = 'soil'")
    assert len(backups_in(tmp_path / "backups")) == 2
    missing = run_cli("downgrade", env=env)
    assert missing.returncode == 2 and "--revision" in missing.stderr


def test_database_url_with_special_characters(database, env, tmp_path):
    url_env = {k: v for k, v in env.items() if not k.startswith("POSTGRES_")}
    url_env["DATABASE_URL"] = database.url
    result = run_cli("upgrade", env=url_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("003",)]
    assert_no_password(database, result.stdout, result.stderr)


def test_stock_alembic_init_project_via_config(database, env, tmp_path):
    ini = make_project(tmp_path / "stock", {"a1_base.py": BASE, "b2_second.py": SECOND})
    env_py_before = (tmp_path / "stock" / "alembic" / "env.py").read_text()
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    assert (tmp_path / "stock" / "alembic" / "env.py").read_text() == env_py_before
    current = run_cli("--config", str(ini), "current", env=env)
    assert current.stdout.strip() == "b2"


def test_syntax_error_in_a_revision_is_a_clear_error(database, env, tmp_path):
    ini = project_at_base(tmp_path, env, per_migration=False)
    broken = revision("b2", "a1", 'op.execute("SELECT 1")').replace("def upgrade():", "def upgrade(:")
    write_revision(tmp_path / "project", "b2_second.py", broken)
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode in (2, 3), result.stdout + result.stderr
    assert "b2_second.py" in result.stderr + result.stdout and "Traceback" not in result.stderr
    assert fingerprint(database) == before


def test_leftover_partial_backup_of_a_killed_run_is_removed_and_reported(database, env, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    leftover = backups / ".backup_20260101_000000_999.partial"
    leftover.write_bytes(b"PGDMP half a dump")
    result = run_cli("upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not leftover.exists()
    assert "incomplete backup left by an interrupted run" in result.stdout
    listed = run_cli("--format", "json", "backups", "list", env=env)
    assert len(json.loads(listed.stdout)["backups"]) == 1


def test_lock_timeout_makes_a_blocked_migration_fail_fast_and_roll_back(database, env, tmp_path):
    blocked = revision("b2", "a1", 'op.execute("ALTER TABLE crops ADD COLUMN note text")')
    ini = project_at_base(tmp_path, env, per_migration=False,
                          extra={"b2_second.py": blocked, "c3_failing.py": revision("c3", "b2", "pass")})
    before = fingerprint(database)
    holder = database.connect()
    holder.autocommit = False
    holder.cursor().execute("SELECT * FROM crops")            # an open transaction holds ACCESS SHARE
    try:
        env["MIGRATION_LOCK_TIMEOUT"] = "500ms"
        started = time.monotonic()
        result = run_cli("--config", str(ini), "upgrade", env=env)
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lock timeout" in result.stdout
    assert "no restore needed" in result.stdout
    assert elapsed < 60
    assert fingerprint(database) == before


def test_an_env_py_that_sets_its_own_lock_timeout_is_told_before_the_run(database, env, tmp_path):
    """Langflow's env.py runs ``SET LOCAL lock_timeout = '180s'`` before its revisions: the wrapper's
    lock_timeout (5s by default) then bounds nothing, and a revision waited 36 s behind an
    application's lock with no word. The probe of env.py sees the value it leaves and says so."""
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE, "b2_second.py": SECOND})
    env_py = ini.parent / "alembic" / "env.py"
    text = env_py.read_text()
    marker = "        with context.begin_transaction():\n            context.run_migrations()"
    assert marker in text, "alembic's env.py template changed"
    env_py.write_text(text.replace(marker, "        with context.begin_transaction():\n"
                                           "            from sqlalchemy import text\n"
                                           "            connection.execute(text(\"SET LOCAL lock_timeout = '180s'\"))\n"
                                           "            context.run_migrations()"))
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "a1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    said = "env.py sets lock_timeout = 3min for the revisions, so the wrapper's lock_timeout (5s) does not apply"
    assert said in result.stderr
    assert any(note.startswith(said) for note in json.loads(result.stdout)["notes"])

    env_py.write_text(text)                 # Alembic's own env.py: the wrapper's lock_timeout holds
    plain = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "lock_timeout" not in plain.stderr and not any("lock_timeout" in n for n in json.loads(plain.stdout)["notes"])


ENUM_AS_CHECK = revision("a1", None, """
    # what SQLAlchemy's Enum(native_enum=False) makes: varchar and CHECK (... IN (...)), which pg_dump
    # writes as = ANY ((ARRAY['pending'::character varying, ...])::text[]) and a restore reads back as
    # = ANY (ARRAY[('pending'::character varying)::text, ...])
    op.create_table("runs", sa.Column("id", sa.BigInteger, primary_key=True),
                    sa.Column("status", sa.Enum("pending", "done", name="run_status", native_enum=False,
                                                create_constraint=True), nullable=False))
    op.execute("INSERT INTO runs (id, status) VALUES (1, 'pending'), (2, 'done')")
""", 'op.drop_table("runs")')


def test_a_restore_that_reparses_a_check_constraint_is_verified(database, env, tmp_path):
    """Langflow's chain: a failed run after a commit restored every table (its knowledge_base and
    ingestion_run have such CHECKs) and then said "VERIFICATION FAILED (line 191: expected 'CONSTRAINT
    ck_ingestion_run_status CHECK (((status)::text = ANY ((ARRAY[...])::text[])))', found '... ANY
    (ARRAY[(...)::text, ...])')", exit 4, for a restore that was right: the same constraint in the
    text PostgreSQL gives it when it reads pg_dump's text back."""
    ini = make_project(tmp_path / "project", {
        "a1_runs.py": ENUM_AS_CHECK,
        "b2_note.py": revision("b2", "a1", 'op.add_column("runs", sa.Column("note", sa.Text))',
                               'op.drop_column("runs", "note")'),
        "c3_fails.py": revision("c3", "b2", 'op.execute("SELECT 1 / 0")'),
    }, transaction_per_migration=True)
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    [definition] = database.sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' "
                                "AND conrelid = 'runs'::regclass")
    assert "::text[]" in definition[0]                    # the form pg_dump's text does not give back

    failed = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    payload = json.loads(failed.stdout)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert payload["status"] == "failed-restored" and "VERIFICATION FAILED" not in payload["message"], payload
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
    assert database.sql("SELECT id, status FROM runs ORDER BY id") == [(1, "pending"), (2, "done")]
    assert [name for (name,) in database.sql("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = 'runs' ORDER BY ordinal_position")] == ["id", "status"]
    # the constraint is there and holds
    with pytest.raises(Exception, match="violates check constraint"):
        database.sql("INSERT INTO runs (id, status) VALUES (3, 'lost')")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs for the backup directory (needs root to mount; skipped otherwise)."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


def test_full_disk_refused_in_preflight_changes_nothing(database, env, small_disk):
    env["MIGRATION_BACKUP_DIR"] = str(small_disk)          # no earlier backup: the estimate is the db size
    before = fingerprint(database)
    result = run_cli("upgrade", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not enough space for the backup" in result.stderr
    assert fingerprint(database) == before and not list(small_disk.iterdir())


@pytest.mark.parametrize("scope", ["full", "auto"])
def test_disk_full_during_the_backup_changes_nothing(database, env, small_disk, tmp_path, scope):
    # pg_dump's own -Z0 (not zstd, whose lowest level still compresses) makes the dump outgrow the disk
    env.update(MIGRATION_BACKUP_FORMAT="custom", MIGRATION_BACKUP_SCOPE=scope)
    # a backup of the still empty database, copied onto the small disk: the next run estimates its
    # size from that backup's ratio, which fits...
    seed_env = {**env, "MIGRATION_BACKUP_DIR": str(tmp_path / "seed")}
    assert run_cli("upgrade", "--revision", "001", env=seed_env).returncode == 0
    [seed] = backup_files(tmp_path / "seed")
    kept = [seed.name, sidecar_of(seed).name]
    for name in kept:
        shutil.copy(tmp_path / "seed" / name, small_disk / name)
    # ...then the data grows, and the real (uncompressed) dump does not fit any more
    if scope == "full":
        database.sql("INSERT INTO users (email, full_name) SELECT md5(random()::text) || g, "
                     "repeat(md5(random()::text), 40) FROM generate_series(1, 3000) g")
    else:       # a scoped backup holds the rows of the table 003 changes: they are what outgrows the disk
        database.sql("INSERT INTO users (email, full_name) VALUES ('owner@example.org', 'Owner');"
                     "INSERT INTO farms (owner_id, name) SELECT id, 'North' FROM users;"
                     "INSERT INTO fields (farm_id, name, area_hectares) SELECT (SELECT id FROM farms),"
                     " repeat(md5(random()::text), 40), 1 FROM generate_series(1, 3000)")
    before = fingerprint(database)
    env.update(MIGRATION_BACKUP_DIR=str(small_disk), MIGRATION_BACKUP_COMPRESSION="0")
    result = run_cli("upgrade", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No space left on device" in result.stderr and "nothing was changed" in result.stderr
    assert fingerprint(database) == before
    assert sorted(p.name for p in small_disk.iterdir()) == sorted(kept)      # no partial file left


def test_a_run_whose_restore_could_not_complete_is_refused_before_it_changes_anything(database, env, tmp_path,
                                                                                      pg_cluster):
    ini = project_at_base(tmp_path, env, per_migration=True)
    # an object the migrating role cannot drop, over a table the failed run touches: a restore
    # (selective: DROP crops CASCADE reaches the view; full: it drops everything) could not
    # complete, so the run is refused up front — formerly it failed, then its restore failed too
    pg_cluster.execute("CREATE VIEW public.owned_by_admin AS SELECT * FROM public.crops;"
                       " GRANT SELECT ON public.owned_by_admin TO app_user", dbname=database.name)
    before, backups_before = fingerprint(database), backup_files(tmp_path / "backups")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "view public.owned_by_admin is owned by role postgres" in error["message"], error
    assert "GRANT postgres TO app_user" in error["hint"]
    assert fingerprint(database) == before
    assert backup_files(tmp_path / "backups") == backups_before


def test_upgrade_over_a_unix_socket(database, env, pg_cluster):
    # POSTGRES_HOST naming a socket directory: libpq tools take it as is, and the URL handed to
    # Alembic carries it as ?host=... (a path cannot sit in the URL's host part).
    env["POSTGRES_HOST"] = str(pg_cluster.socket_dir)
    result = run_cli("--format", "json", "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "applied"
    assert database.sql("SELECT version_num FROM alembic_version") == [("003",)]
