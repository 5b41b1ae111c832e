"""Scoped backups (backup/scope.py): the schema plus the data of the tables the plan can change.

Each fault the whole-database backup survives is injected with a scoped one — pg_restore dying,
the wrapper killed and `recover`, COMMIT inside a revision, a side connection — and the end
state is proven with fingerprint(). A revision that writes a table outside the scope through
something the reading cannot see ends with exit 4 naming it; what the reading cannot bound falls
back to the whole database with the reason; a scoped backup restores only its scope and refuses
a whole-database restore."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
import harness
from harness import backup_files, fingerprint, run_cli, sidecar_of, wait_for
from test_faults import dying_pg_restore  # noqa: F401  (a fixture)
from test_interrupted_runs import RUN_APPLICATION, migration_waiting, start_upgrade

EXIT_FAILED, EXIT_USAGE, EXIT_ATTENTION = 1, 2, 4

BASE = revision("a1", None, """
    op.execute("CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL)")
    op.execute("INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 3000) g")
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
    op.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g")
    op.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    op.execute("CREATE TABLE item_tags (item_id int REFERENCES items (id) ON DELETE CASCADE, tag text)")
    op.execute("INSERT INTO item_tags SELECT g, 'tag' FROM generate_series(1, 50) g")
    op.execute("CREATE TABLE audit (id serial PRIMARY KEY, what text)")
    op.execute("CREATE FUNCTION next_ticket() RETURNS int LANGUAGE sql AS "
               "$$ INSERT INTO audit (what) VALUES ('ticket issued') RETURNING id $$")
    op.execute("CREATE TABLE tickets (id int PRIMARY KEY DEFAULT next_ticket(), title text)")
""")
COMMITS = revision("b2", "a1", """
    op.execute("UPDATE items SET label = 'relabelled ' || id WHERE id <= 500")
    op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
""")
FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO notes VALUES (2, 'first')")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
WAITS_THEN_FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO notes VALUES (2, 'then waits for the test')")
    op.execute("UPDATE items SET label = 'waits for the row the test holds' WHERE id = 1000")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
SCOPE = ["public.alembic_version", "public.items", "public.notes"]


@pytest.fixture
def env(env):
    env["MIGRATION_LOCK_TIMEOUT"] = "120s"      # backup_scope is left at its default, auto
    return env


def project(tmp_path, env, second=COMMITS, third=FAILS, *, per_migration=True):
    ini = make_project(tmp_path / "project", {"a1.py": BASE, "b2.py": second, "c3.py": third},
                       transaction_per_migration=per_migration)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return ini


def cli_json(ini, *args, env, expect=0):
    return harness.cli_json("--config", str(ini), *args, env=env, expect=expect)


def sidecar(path) -> dict:
    return json.loads(sidecar_of(path).read_text())


def data_entries(archive, env) -> set:
    """The tables whose rows the archive holds (its TABLE DATA entries), but the wrapper's own."""
    command = f"zstd -dc '{archive}' | pg_restore --list" if str(archive).endswith(".zst") else \
        f"pg_restore --list '{archive}'"
    listing = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
    return {" ".join(line.split(" TABLE DATA ")[1].split()[:2]) for line in listing.splitlines()
            if " TABLE DATA " in line and not line.startswith(";") and " migration_safety " not in line}


def scope_list(archive) -> Path:
    archive = Path(archive)
    return archive.with_name(archive.name.split(".")[0] + ".scope.list")


def identity(database, table):
    return database.sql("SELECT oid, relfilenode FROM pg_class WHERE oid = %s::regclass", (table,))[0]


def test_the_backup_holds_the_schema_and_the_rows_of_the_tables_the_plan_changes(database, env, tmp_path):
    ini = project(tmp_path, env)
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env)
    assert payload["status"] == "applied", payload
    recorded = sidecar(payload["backup"])
    assert recorded["scope_tables"] == SCOPE and recorded["scope_note"].startswith("auto:")
    assert data_entries(payload["backup"], env) == {"public alembic_version", "public items", "public notes"}
    [row] = [r for r in cli_json(ini, "backups", "list", env=env)["backups"] if r["path"] == payload["backup"]]
    assert row["scope"] == "tables: " + ", ".join(SCOPE) and row["verified"]
    assert "tables: public.alembic_version" in run_cli("--config", str(ini), "backups", "list", env=env).stdout


def test_a_backup_of_a_fresh_database_says_it_holds_the_schema_only(database, env, tmp_path):
    # was "Backup verified: backup_....dump.zst (data of  only)": an empty list of tables
    ini = make_project(tmp_path / "project", {"a1.py": revision("a1", None, """
        op.execute("CREATE TABLE crops (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
        op.execute("INSERT INTO crops (name) VALUES ('maize')")
    """, 'op.execute("DROP TABLE crops")')})
    done = run_cli("--config", str(ini), "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(the schema only: no table the plan can change holds rows yet)" in done.stderr
    assert "data of  only" not in done.stderr


def test_a_delete_takes_in_the_tables_its_cascade_reaches(database, env, tmp_path):
    ini = project(tmp_path, env, second=revision("b2", "a1", """
        op.execute("DELETE FROM items WHERE id <= 10")
        op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
    """))
    before = fingerprint(database)
    payload = cli_json(ini, "upgrade", "--allow-unsafe", env=env, expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored" and payload["restore_mode"] == "selective", payload
    assert sidecar(payload["backup"])["scope_tables"] == ["public.alembic_version", "public.item_tags",
                                                          "public.items", "public.notes"]
    assert fingerprint(database) == before


def test_a_failed_run_is_restored_from_the_scoped_backup_exactly(database, env, tmp_path):
    ini = project(tmp_path, env)
    before, big = fingerprint(database), identity(database, "big")
    payload = cli_json(ini, "upgrade", env=env, expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored" and payload["restore_mode"] == "selective", payload
    assert sidecar(payload["backup"])["scope_tables"] == SCOPE
    assert fingerprint(database) == before
    assert identity(database, "big") == big


def test_commit_inside_a_revision_is_restored_from_the_scoped_backup(database, env, tmp_path):
    ini = project(tmp_path, env, second=revision("b2", "a1", """
        op.execute("UPDATE items SET label = 'committed' WHERE id = 1")
        op.execute("COMMIT")
        op.execute("INSERT INTO notes VALUES (1, 'x'), (1, 'duplicate key: fails')")
    """), per_migration=False)
    before = fingerprint(database)
    payload = cli_json(ini, "upgrade", "--allow-unsafe", env=env, expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored", payload
    assert sidecar(payload["backup"])["scope_tables"] == SCOPE
    assert fingerprint(database) == before


def test_pg_restore_dying_leaves_no_half_restore_and_restore_then_brings_the_scope_back(
        database, env, tmp_path, dying_pg_restore):  # noqa: F811
    ini = project(tmp_path, env)
    before = fingerprint(database)
    env["MIGRATION_PG_BIN_DIR"] = str(dying_pg_restore)      # killed inside the rows of items
    payload = cli_json(ini, "upgrade", env=env, expect=EXIT_ATTENTION)
    assert payload["status"] == "failed-restore-failed", payload
    assert sidecar(payload["backup"])["scope_tables"] == SCOPE
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]     # as the run left it
    env.pop("MIGRATION_PG_BIN_DIR")
    result = run_cli("--config", str(ini), "--format", "json", "recover", "--yes", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fingerprint(database) == before


def test_a_killed_run_is_recovered_from_its_scoped_backup(database, env, tmp_path):
    ini = project(tmp_path, env, third=WAITS_THEN_FAILS)
    before, big = fingerprint(database), identity(database, "big")
    holder = database.connect()                 # holds the row c3 waits for (a lock the reading can see)
    holder.cursor().execute("BEGIN; SELECT 1 FROM items WHERE id = 1000 FOR UPDATE")
    wrapper = start_upgrade(ini, env)
    try:
        wait_for(lambda: migration_waiting(database), "the migration to wait for the lock")
        wrapper.kill()
        wrapper.communicate()
    finally:
        holder.close()
    wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                                      " AND application_name = %s", (RUN_APPLICATION,)),
             "the killed run's session to end")
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    [archive] = [path for path in backup_files(tmp_path / "backups") if sidecar(path).get("scope_tables")]
    assert sidecar(archive)["scope_tables"] == SCOPE
    recovered = cli_json(ini, "recover", "--yes", env=env)
    assert recovered["action"] == "restored" and recovered["schema_verified"], recovered
    assert fingerprint(database) == before
    assert identity(database, "big") == big


def test_a_change_outside_the_scope_is_reported_with_exit_4(database, env, tmp_path):
    """tickets' default calls a function that writes audit: the reading sees an INSERT into
    tickets only; the photograph after the run sees audit changed."""
    ini = project(tmp_path, env, second=revision("b2", "a1", """
        op.execute("INSERT INTO tickets (title) VALUES ('first')")
    """))
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env, expect=EXIT_ATTENTION)
    assert payload["status"] == "applied-not-fully-protected", payload
    assert sidecar(payload["backup"])["scope_tables"] == ["public.alembic_version", "public.tickets"]
    assert "public.audit" in payload["message"] and "backup_scope = full" in payload["message"]
    assert database.sql("SELECT what FROM audit") == [("ticket issued",)]       # it really was written
    following = run_cli("--config", str(ini), "upgrade", "--revision", "c3", env=env)
    assert following.returncode == 0, following.stdout + following.stderr     # the journal does not block it


def test_a_failed_run_that_changed_a_table_outside_the_scope_is_not_restored_whole(database, env, tmp_path):
    ini = project(tmp_path, env, second=revision("b2", "a1", """
        op.execute("INSERT INTO tickets (title) VALUES ('first')")
        op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
    """))
    payload = cli_json(ini, "upgrade", env=env, expect=EXIT_ATTENTION)
    assert payload["status"] == "failed-restore-failed", payload
    assert "public.audit" in payload["message"] and "refused" in payload["message"]
    assert database.sql("SELECT count(*) FROM big") == [(3000,)]         # nothing was emptied


@pytest.mark.parametrize("body, reason", [
    ('op.execute(f"UPDATE items SET label = {1!r}")', "builds SQL at run time"),
    ('op.execute("SELECT next_ticket()")', "calls next_ticket()"),
    ('op.execute("DO $$ BEGIN UPDATE items SET label = label; END $$")', "runs DO"),
    ('sa.create_engine("postgresql://nobody@nowhere/none")', "opens a connection of its own"),
    ('import subprocess\nsubprocess.run(["true"])', "runs a program (subprocess.run)"),
    ('from os import system\nsystem("true")', "runs a program (system)"),
    ('import ctypes\nctypes.CDLL("libc.so.6")', "loads a native library (ctypes.CDLL)"),
    ('import json\njson.loads(str(op.get_bind().engine.url.port))', "hands its connection to json.loads()"),
    ('op.execute("CREATE TRIGGER t BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION keep()")',
     "calls keep()"),
    ('op.execute("CREATE TYPE mood AS ENUM (\'calm\')")', "creates a type"),
    ('op.execute("UPDATE audit SET what = what")', "public.audit has a trigger"),
])
def test_what_the_reading_cannot_bound_gets_the_whole_database_with_the_reason(database, env, tmp_path, body,
                                                                              reason):
    ini = project(tmp_path, env, second=revision("b2", "a1", body))
    database.sql("CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
                 "CREATE TRIGGER audit_keep BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION keep()")
    payload = json.loads(run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "b2",
                                 "--allow-unsafe", env=env).stdout)
    recorded = sidecar(payload["backup"])
    assert recorded["scope_tables"] is None and reason in recorded["scope_note"], recorded
    assert any(reason in note for note in payload["notes"]), payload["notes"]
    assert data_entries(payload["backup"], env) >= {"public big", "public items"}


def test_backup_scope_full_backs_up_everything(database, env, tmp_path):
    ini = project(tmp_path, env)
    env["MIGRATION_BACKUP_SCOPE"] = "full"
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env)
    recorded = sidecar(payload["backup"])
    assert recorded["scope_tables"] is None and recorded["scope_note"] == "backup_scope = full"
    assert "public big" in data_entries(payload["backup"], env)
    assert not scope_list(payload["backup"]).exists()          # a whole backup is restored whole
    env["MIGRATION_BACKUP_SCOPE"] = "some"
    bad = run_cli("--config", str(ini), "upgrade", env=env)
    assert bad.returncode == EXIT_USAGE and "MIGRATION_BACKUP_SCOPE" in bad.stderr


def test_restore_of_a_scoped_backup_restores_only_its_scope_and_refuses_a_whole_database(database, env,
                                                                                       tmp_path):
    ini = project(tmp_path, env)
    before, big = fingerprint(database), identity(database, "big")
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env)
    refused = run_cli("--config", str(ini), "restore", "--backup", payload["backup"], "--target-db", "copy",
                      "--yes", env=env)
    assert refused.returncode == EXIT_USAGE, refused.stdout + refused.stderr
    assert "public.items" in refused.stderr and "whole-database restore" in refused.stderr
    assert not database.sql("SELECT 1 FROM pg_database WHERE datname = 'copy'")

    restored = cli_json(ini, "restore", "--backup", payload["backup"], "--yes", env=env)
    assert "public.items" in restored["restored_only"] and restored["schema_verified"], restored
    assert fingerprint(database) == before
    assert identity(database, "big") == big                    # only the scope was rebuilt

    # a change outside the scope since the backup: the scope cannot bring the database back
    database.sql("UPDATE big SET payload = 'changed' WHERE id = 1")
    changed = fingerprint(database)
    refused = run_cli("--config", str(ini), "restore", "--backup", payload["backup"], "--yes", env=env)
    assert refused.returncode == EXIT_USAGE, refused.stdout + refused.stderr
    assert "public.big" in refused.stderr and "only its scope" in refused.stderr
    assert fingerprint(database) == changed


def test_a_sql_folder_run_gets_a_scoped_backup_and_is_restored_from_it(database, env, tmp_path):
    database.sql("CREATE TABLE big (id int PRIMARY KEY, payload text);"
                 "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 3000) g;"
                 "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);"
                 "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g")
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "001_relabel_UP.sql").write_text("UPDATE items SET label = 'relabelled' WHERE id <= 10;\n")
    (folder / "001_relabel_DOWN.sql").write_text("UPDATE items SET label = 'item ' || id WHERE id <= 10;\n")
    (folder / "002_fails_UP.sql").write_text("INSERT INTO items VALUES (1, 'duplicate key: fails');\n")
    (folder / "002_fails_DOWN.sql").write_text("SELECT 1;\n")
    before = fingerprint(database)
    result = run_cli("--sql-dir", str(folder), "--format", "json", "upgrade", env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed-restored", payload
    # schema_migrations is created by this first run: the restore drops it, it needs no rows
    assert sidecar(payload["backup"])["scope_tables"] == ["public.items"]
    assert data_entries(payload["backup"], env) == {"public items"}
    assert fingerprint(database) == before


def test_backups_verify_tells_a_changed_scope_list_or_photograph_from_the_ones_written(database, env, tmp_path):
    """The list beside a scoped backup tells a reader restoring by hand which entries to restore:
    a changed one could have them drop and rebuild other tables. The signed sidecar records its
    digest and the photograph's; `backups verify` checks both."""
    ini = project(tmp_path, env)
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env)
    checks = {check["check"]: check for check in cli_json(ini, "backups", "verify", "latest", env=env)["checks"]}
    assert checks["scope files"]["passed"] and "scope list" in checks["scope files"]["detail"], checks
    for changed in (scope_list(payload["backup"]), Path(payload["backup"].split(".")[0] + ".photo.json")):
        original = changed.read_bytes()
        changed.write_bytes(original.replace(b"public", b"public ", 1))
        verify = cli_json(ini, "backups", "verify", "latest", env=env, expect=1)
        failed = [check for check in verify["checks"] if not check["passed"]]
        assert [check["check"] for check in failed] == ["scope files"], verify
        assert changed.name in failed[0]["detail"]
        changed.write_bytes(original)
    assert cli_json(ini, "backups", "verify", "latest", env=env)["ok"] is True


def test_the_list_beside_a_scoped_backup_restores_its_scope_by_hand(database, env, tmp_path):
    """Recovering by hand (docs/backups.md): ``pg_restore --clean -L backup_X.scope.list`` puts the
    scope back exactly and leaves every other table's rows alone (item_tags references items: its
    foreign key is dropped and re-added, its rows stay); the archive restored whole would have
    emptied them."""
    ini = project(tmp_path, env)
    before, big = fingerprint(database), identity(database, "big")
    payload = cli_json(ini, "upgrade", "--revision", "b2", env=env)
    listing = scope_list(payload["backup"])
    text = listing.read_text()
    assert "SCOPED backup" in text and ", ".join(SCOPE) in text and listing.stat().st_mode & 0o777 == 0o600
    entries = [line for line in text.splitlines() if not line.startswith(";")]
    assert any(" FK CONSTRAINT public item_tags " in line for line in entries)
    assert not any(" public big " in line or " TABLE public item_tags " in line for line in entries)
    by_hand = (f"zstd -dc '{payload['backup']}' | pg_restore --clean --if-exists --single-transaction"
               f" -L '{listing}' --dbname='host={database.host} port={database.port} user={database.user}"
               f" dbname={database.name}'")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", by_hand], capture_output=True, text=True,
                          env=dict(env, PGPASSWORD=database.password))
    assert done.returncode == 0, done.stderr
    assert fingerprint(database) == before
    assert identity(database, "big") == big                    # never reloaded
