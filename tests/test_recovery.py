"""Day-2 operations on a real database: the backup catalog, manual restore, the run record,
drift, health, and autogenerate."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alembic_projects import make_project, revision, write_revision
from harness import cli_json, backup_files, fingerprint, run_cli, sidecar_of


def test_restore_latest_gives_back_the_backup_state_and_can_be_undone(database, env, tmp_path):
    # restores a run's backup as a whole database: a scoped one restores only its scope (test_scoped_backup.py)
    env["MIGRATION_BACKUP_SCOPE"] = "full"
    cli_json("upgrade", env=env)
    database.sql("INSERT INTO users (email, full_name) VALUES ('ada@example.org', 'Ada')")
    cli_json("downgrade", "--revision", "-1", env=env)          # the backup taken here holds Ada at 003
    latest = cli_json("backups", "list", env=env)["backups"][0]
    assert latest["revision"] == ["003"]
    database.sql("INSERT INTO users (email, full_name) VALUES ('eve@example.org', 'Eve')")
    database.sql("CREATE TABLE scratch (id int)")
    changed = fingerprint(database)

    result = cli_json("restore", "--backup", "latest", "--yes", env=env)
    assert result["schema_verified"] is True and result["revision_now"] == ["003"]
    rows = database.sql("SELECT email FROM users ORDER BY email")
    assert rows == [("ada@example.org",)]
    assert not database.sql("SELECT 1 FROM pg_tables WHERE tablename = 'scratch'")
    assert database.sql("SELECT version_num FROM alembic_version") == [("003",)]

    # the pre-restore backup holds the changed state: restoring it undoes the restore
    pre = Path(result["pre_restore_backup"])
    assert pre.exists()
    undo = cli_json("restore", "--backup", str(pre), "--yes", env=env)
    assert undo["schema_verified"] is True
    assert fingerprint(database) == changed


def test_restore_matches_fingerprint_at_backup_time(database, env, tmp_path):
    # restores a run's backup as a whole database: a scoped one restores only its scope (test_scoped_backup.py)
    env["MIGRATION_BACKUP_SCOPE"] = "full"
    cli_json("upgrade", "--revision", "002", env=env)
    database.sql("INSERT INTO users (email, full_name) VALUES ('a@example.org', 'A')")
    state_at_backup = fingerprint(database)
    cli_json("upgrade", env=env)                                  # backup at 002 with user A
    database.sql("UPDATE users SET full_name = 'changed'")
    database.sql("INSERT INTO users (email, full_name) VALUES ('b@example.org', 'B')")
    cli_json("restore", "--yes", env=env)
    assert fingerprint(database) == state_at_backup


@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_damaged_backup_is_refused_and_database_untouched(database, env, tmp_path, damage):
    cli_json("upgrade", env=env)
    [archive] = backup_files(tmp_path / "backups")
    data = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(data[: len(data) // 2])
    else:
        archive.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    before = fingerprint(database)
    verify = run_cli("backups", "verify", "latest", env=env)
    assert verify.returncode == 1 and "NOT usable" in verify.stdout
    result = run_cli("restore", "--backup", "latest", "--yes", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refusing" in result.stderr and "Traceback" not in result.stderr
    assert fingerprint(database) == before
    assert len(backup_files(tmp_path / "backups")) == 1   # no pre-restore backup taken


def test_restore_needs_confirmation_when_not_interactive(database, env):
    cli_json("upgrade", env=env)
    before = fingerprint(database)
    result = run_cli("restore", env=env, input="")
    assert result.returncode == 2 and "--yes" in result.stderr
    assert fingerprint(database) == before


def _sql_in(database, dbname, query):
    import psycopg2
    connection = psycopg2.connect(host=database.host, port=database.port, user=database.user,
                                  password=database.password, dbname=dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    finally:
        connection.close()


def test_restore_into_a_new_database_leaves_the_original(database, env, tmp_path):
    # restores a run's backup as a whole database: a scoped one restores only its scope (test_scoped_backup.py)
    env["MIGRATION_BACKUP_SCOPE"] = "full"
    cli_json("upgrade", "--revision", "002", env=env)
    database.sql("INSERT INTO users (email, full_name) VALUES ('kept@example.org', 'K')")
    cli_json("upgrade", env=env)                                 # latest backup: 002 with one user
    database.sql("INSERT INTO users (email, full_name) VALUES ('new@example.org', 'N')")
    before = fingerprint(database)
    target = database.name + "_inspect"
    try:
        result = cli_json("restore", "--target-db", target, "--yes", env=env)
        assert result["database"] == target and result["revision_now"] == ["002"]
        assert result["pre_restore_backup"] is None
        assert _sql_in(database, target, "SELECT email FROM users") == [("kept@example.org",)]
        assert fingerprint(database) == before
        again = run_cli("restore", "--target-db", target, "--yes", env=env)
        assert again.returncode == 2 and "already exists" in again.stderr
    finally:
        import psycopg2
        admin = psycopg2.connect(host=database.host, port=database.port, user=database.user,
                                 password=database.password, dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.close()


def test_backup_of_another_database_is_refused_without_target(database, env, tmp_path):
    cli_json("upgrade", env=env)
    [archive] = backup_files(tmp_path / "backups")
    sidecar = sidecar_of(archive)
    from migration_safety.backup.integrity import load_key, sign_sidecar

    meta = json.loads(sidecar.read_text())
    meta["database"] = "someone_else"
    sidecar.write_text(json.dumps(sign_sidecar(meta, load_key(create=False))))   # signed: only the name differs
    result = run_cli("restore", "--yes", env=env)
    assert result.returncode == 2, result.stderr
    assert "is a backup of 'someone_else'" in result.stderr and "--target-db" in result.stderr


def test_prune_keeps_what_it_must(database, env, tmp_path):
    cli_json("upgrade", "--revision", "001", env=env)
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)
    listed = cli_json("backups", "list", env=env)["backups"]
    assert len(listed) == 3
    dry = cli_json("backups", "prune", "--keep-last", "1", "--dry-run", env=env)
    assert len(dry["removed"]) == 2 and len(cli_json("backups", "list", env=env)["backups"]) == 3
    done = cli_json("backups", "prune", "--keep-last", "2", env=env)
    assert [r["file"] for r in done["removed"]] == [listed[2]["file"]]
    left = cli_json("backups", "prune", "--keep-last", "0", env=env)      # never the only/newest one
    assert len(cli_json("backups", "list", env=env)["backups"]) == 1 and left["removed"]
    assert cli_json("backups", "list", env=env)["backups"][0]["file"] == listed[0]["file"]


def test_retention_applies_after_a_successful_upgrade(database, env, tmp_path):
    env["MIGRATION_BACKUP_KEEP_LAST"] = "1"
    cli_json("upgrade", "--revision", "001", env=env)
    cli_json("upgrade", env=env)
    assert len(cli_json("backups", "list", env=env)["backups"]) == 1


def test_run_records_for_success_rollback_and_restore(database, env, tmp_path):
    ok = revision("a1", None, 'op.execute("CREATE TABLE t1 (id int)")', 'op.execute("DROP TABLE t1")')
    committed = revision("b2", "a1", 'op.execute("CREATE TABLE t2 (id int)")', 'op.execute("DROP TABLE t2")')
    failing = revision("c3", "b2", 'op.execute("SELECT 1/0")')
    ini = make_project(tmp_path / "p", {"a1.py": ok, "b2.py": committed, "c3.py": failing},
                       transaction_per_migration=True)
    cli_json("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    rolled = cli_json("--config", str(ini), "upgrade", "--revision", "c3", env=env, expect=1)   # b2 commits, c3 fails
    assert rolled["status"] == "failed-restored"
    ini_single = make_project(tmp_path / "q", {"a1.py": ok, "b2.py": committed, "c3.py": failing})
    single = cli_json("--config", str(ini_single), "upgrade", env=env, expect=1)
    assert single["status"] == "failed-rolled-back"
    history = cli_json("--config", str(ini_single), "history", env=env)
    outcomes = [(r["revision"], r["direction"], r["outcome"]) for r in history["runs"]]
    assert ("a1", "upgrade", "applied") in outcomes
    assert ("c3", "upgrade", "failed-restored") in outcomes
    assert ("b2", "upgrade", "failed-rolled-back") in outcomes
    for run in history["runs"]:
        assert run["os_user"] and run["hostname"] and run["duration_ms"] >= 0
        assert run["checksum"] and len(run["checksum"]) == 64
    # the record of the restored run survived the restore it describes
    assert database.sql("SELECT count(*) FROM migration_safety.migration_history WHERE outcome = 'failed-restored'")[0][0] == 2


def test_drift_when_an_applied_revision_is_edited_or_deleted(database, env, tmp_path):
    first = revision("a1", None, 'op.execute("CREATE TABLE t1 (id int)")', 'op.execute("DROP TABLE t1")')
    second = revision("b2", "a1", 'op.execute("CREATE TABLE t2 (id int)")', 'op.execute("DROP TABLE t2")')
    ini = make_project(tmp_path / "p", {"a1.py": first, "b2.py": second})
    cli_json("--config", str(ini), "upgrade", env=env)
    healthy = run_cli("--config", str(ini), "health", env=env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert cli_json("--config", str(ini), "status", env=env)["drift"] == []

    write_revision(tmp_path / "p", "a1.py", first.replace("t1 (id int)", "t1 (id bigint)"))
    status = cli_json("--config", str(ini), "status", env=env)
    assert [(d["revision"], d["problem"]) for d in status["drift"]] == [("a1", "changed")]
    sick = run_cli("--config", str(ini), "health", env=env)
    assert sick.returncode == 1 and "a1" in sick.stdout

    write_revision(tmp_path / "p", "a1.py", first)                         # put it back
    assert run_cli("--config", str(ini), "health", env=env).returncode == 0
    os.remove(tmp_path / "p" / "alembic" / "versions" / "b2.py")           # delete the applied head
    # the revisions pending from a revision no file has cannot be known: exit 2, the drift shown
    status = cli_json("--config", str(ini), "status", env=env, expect=2)
    assert ("b2", "missing") in [(d["revision"], d["problem"]) for d in status["drift"]] and status["problem"]
    assert run_cli("--config", str(ini), "health", env=env).returncode == 1


def test_health_fails_when_the_database_is_unreachable(database, env):
    env["POSTGRES_PORT"] = "1"
    result = run_cli("health", env=env)
    assert result.returncode == 1 and "unreachable" in result.stdout


def test_info_masks_the_password(database, env):
    result = run_cli("info", env=env)
    assert result.returncode == 0, result.stderr
    assert database.password not in result.stdout and "***" in result.stdout
    assert "alembic" in result.stdout and "pg_dump" in result.stdout


MODELS = """
from sqlalchemy import Column, Integer, MetaData, Table, Text

metadata = MetaData()
farms = Table("farms", metadata, Column("id", Integer, primary_key=True), Column("name", Text))
"""


def test_autogenerate_with_and_without_model_changes(database, env, tmp_path):
    """On a project of the test's own (its models and revision written here), so that changing the
    example application's models, as the README's walk-through does, cannot change this test."""
    ini = make_project(tmp_path / "project", {"a1.py": revision(
        "a1", None, 'op.create_table("farms", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))',
        'op.drop_table("farms")')})
    script_directory = ini.parent / "alembic"
    (script_directory / "app_models.py").write_text(MODELS)
    env_py = script_directory / "env.py"
    assert "target_metadata = None\n" in env_py.read_text(), "alembic's env.py template changed"
    env_py.write_text(env_py.read_text().replace("target_metadata = None\n",
                                                 "from app_models import metadata as target_metadata\n"))
    text = ini.read_text()
    assert "\nprepend_sys_path = .\n" in text, "alembic's ini template changed"
    ini.write_text(text.replace("\nprepend_sys_path = .\n", "\nprepend_sys_path = %(here)s/alembic\n"))
    versions = script_directory / "versions"

    cli_json("--config", str(ini), "upgrade", env=env)
    before = sorted(p.name for p in versions.glob("*.py"))
    nothing = cli_json("--config", str(ini), "create", "--message", "no change", "--autogenerate", env=env)
    assert nothing["created"] is None and "no changes detected" in nothing["message"]
    assert sorted(p.name for p in versions.glob("*.py")) == before
    # the database has a column the models lack: autogenerate writes a revision dropping it,
    # and validation flags that drop right away
    database.sql("ALTER TABLE farms ADD COLUMN legacy_code text")
    made = run_cli("--config", str(ini), "--format", "json", "create", "--message", "drop legacy",
                   "--autogenerate", env=env)
    payload = json.loads(made.stdout)
    created = Path(payload["created"])
    assert created.exists() and "drop_column('farms', 'legacy_code')" in created.read_text()
    assert made.returncode == 3
    assert any(f["severity"] == "error" and f["line"] > 0 for f in payload["findings"])


def test_day2_commands_on_a_stock_alembic_init_project(database, env, tmp_path):
    first = revision("a1", None, 'op.execute("CREATE TABLE t1 (id bigint PRIMARY KEY)")', 'op.execute("DROP TABLE t1")')
    second = revision("b2", "a1", 'op.execute("CREATE TABLE t2 (id bigint PRIMARY KEY)")', 'op.execute("DROP TABLE t2")')
    ini = make_project(tmp_path / "stock", {"a1.py": first, "b2.py": second})
    cli_json("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    database.sql("INSERT INTO t1 VALUES (1)")
    at_a1 = fingerprint(database)
    cli_json("--config", str(ini), "upgrade", env=env)                      # backup holds a1 + the row
    database.sql("INSERT INTO t2 VALUES (2)")
    assert cli_json("--config", str(ini), "backups", "verify", "latest", env=env)["ok"] is True
    restored = cli_json("--config", str(ini), "restore", "--yes", env=env)
    assert restored["revision_now"] == ["a1"] and fingerprint(database) == at_a1
    assert run_cli("--config", str(ini), "health", env=env).returncode == 0
    assert cli_json("--config", str(ini), "info", env=env)["settings"]["alembic.ini"] == str(ini.resolve())
    assert len(cli_json("--config", str(ini), "backups", "prune", "--keep-last", "1", env=env)["removed"]) == 2


def _restore_on_a_terminal(env, answer: str):
    """Run `restore` with a pseudo-terminal as stdin, type ``answer`` at its prompt."""
    import pty
    import subprocess
    import sys

    from harness import REPO_ROOT, example_project

    master, slave = pty.openpty()
    env = {**env, "ALEMBIC_CONFIG": str(example_project())}      # the copy run_cli uses, not the checkout's
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"), "restore"],
                               stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT,
                               text=True)
    os.close(slave)
    os.write(master, (answer + "\n").encode())
    try:
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(master)
    return process.returncode, stdout, stderr


def test_restore_asks_for_the_database_name_on_a_terminal(database, env):
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)
    before = fingerprint(database)
    code, stdout, stderr = _restore_on_a_terminal(env, "not-the-name")
    assert code == 2 and "not confirmed" in stderr and "Type its name to confirm" in stderr
    assert fingerprint(database) == before
    code, stdout, stderr = _restore_on_a_terminal(env, database.name)
    assert code == 0, stdout + stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("002",)]
