"""The selective restore: after a failure that committed part of the run, only what the run
touched is rebuilt from the archive. Each test proves the database identical to before the run
with fingerprint() (schema dump, every table's content hash, every sequence's position), and that
the untouched large table was not rebuilt (same OID and file as before)."""
from __future__ import annotations

import json

import pytest

from alembic_projects import make_project, revision
from harness import fingerprint, run_cli, wait_for

BASE = revision("a1", None, """
    op.execute("CREATE TABLE big (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL)")
    op.execute("INSERT INTO big (payload) SELECT md5(i::text) FROM generate_series(1, 3000) AS i")
    op.execute("CREATE TABLE small (id serial PRIMARY KEY, big_id bigint REFERENCES big (id),"
               " name text NOT NULL DEFAULT 'x', CONSTRAINT small_name_long CHECK (length(name) < 50))")
    op.execute("CREATE INDEX ix_small_name ON small (name)")
    op.execute("INSERT INTO small (big_id, name) VALUES (1, 'a'), (2, 'b'), (NULL, 'c')")
    op.execute("ALTER TABLE big ADD COLUMN small_id int CONSTRAINT big_small_fk REFERENCES small (id)")
    op.execute("COMMENT ON CONSTRAINT big_small_fk ON big IS 'which small row'")
    op.execute("UPDATE big SET small_id = 1 + id % 3 WHERE id <= 30")
    op.execute("CREATE TABLE notes (id serial PRIMARY KEY, small_id int REFERENCES small (id), body text)")
    op.execute("INSERT INTO notes (small_id, body) VALUES (1, 'first'), (3, 'third')")
    op.execute("CREATE VIEW small_names AS SELECT id, name FROM small")
    op.execute("COMMENT ON TABLE small IS 'the small one'")
    op.execute("COMMENT ON COLUMN small.name IS 'a label'")
    op.execute("COMMENT ON INDEX ix_small_name IS 'lookup by name'")
    op.execute("GRANT SELECT ON small TO PUBLIC")
    op.execute("CREATE TABLE retired (id int PRIMARY KEY, note text)")
    op.execute("INSERT INTO retired VALUES (1, 'must come back')")
    op.execute("CREATE TABLE scratch (id int)")
    op.execute("INSERT INTO scratch SELECT generate_series(1, 5)")
    op.execute("CREATE INDEX ix_big_prefix ON big (left(payload, 4))")
    op.execute("COMMENT ON INDEX ix_big_prefix IS 'by prefix'")
    op.execute("CREATE SEQUENCE ticket_seq")
    op.execute("SELECT nextval('ticket_seq')")
""")
FAILING = revision("c3", "b2", """
    op.execute("INSERT INTO small (name) VALUES (NULL)")
""")


def _project(tmp_path, env, committed_body: str, *, pooled: bool = False):
    """a1 applied; b2 (``committed_body``) commits in its own transaction; c3 fails."""
    ini = make_project(tmp_path / "project", {"a1.py": BASE, "b2.py": revision("b2", "a1", committed_body),
                                              "c3.py": FAILING}, transaction_per_migration=True)
    if pooled:   # an env.py whose engine keeps connections in a pool after the run
        env_py = tmp_path / "project" / "alembic" / "env.py"
        env_py.write_text(env_py.read_text().replace("poolclass=pool.NullPool", "poolclass=pool.QueuePool"))
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return ini


def _identity(database, table: str):
    return database.sql("SELECT oid, relfilenode FROM pg_class WHERE oid = %s::regclass", (table,))[0]


def _fail_and_restore(database, env, ini) -> dict:
    # --allow-unsafe: these revisions drop and truncate on purpose
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--allow-unsafe", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed-restored", payload
    assert "schema and revision verified" in payload["message"]
    return payload


def _restored_selectively(database, env, tmp_path, committed_body: str, *, pooled: bool = False,
                          big_touched: bool = False) -> str:
    """Fail after ``committed_body`` committed; the restore must be selective and give back exactly
    the state before the run, and the large table must keep its OID and file unless the run
    touched it. Returns the run's message (it names what was rebuilt)."""
    ini = _project(tmp_path, env, committed_body, pooled=pooled)
    before, big_before = fingerprint(database), _identity(database, "big")
    payload = _fail_and_restore(database, env, ini)
    assert payload["restore_mode"] == "selective", payload["notes"]
    assert fingerprint(database) == before
    if not big_touched:
        assert _identity(database, "big") == big_before          # the large table was not rebuilt
    return payload["message"]


def test_schema_and_data_changes_to_small_tables_restore_only_those(database, env, tmp_path):
    touched = _restored_selectively(database, env, tmp_path, """
        op.execute("ALTER TABLE small ADD COLUMN score int DEFAULT 0")
        op.execute("UPDATE small SET name = name || '!'")
        op.execute("CREATE TABLE created_by_run (id int REFERENCES small (id))")
        op.execute("CREATE INDEX ix_created ON created_by_run (id)")
        op.execute("DROP TABLE retired")
        op.execute("SELECT nextval('ticket_seq')")
    """)
    for name in ("public.small", "public.small_names", "public.retired", "public.alembic_version",
                 "public.ticket_seq (position)", "dropped what it created: public.created_by_run",
                 # tables referencing small keep their rows; only their foreign key is re-added
                 "public.big (foreign key big_small_fk)", "public.notes (foreign key notes_small_id_fkey)"):
        assert name in touched
    assert "public.scratch" not in touched


def test_an_analyze_of_a_large_table_nobody_wrote_to_does_not_reload_it(database, env, tmp_path):
    """An ANALYZE (autovacuum's, here the revision's own) resets the committed-change counter; with
    no row of the table inserted, updated or deleted, the table is still known untouched."""
    touched = _restored_selectively(database, env, tmp_path, """
        op.execute("UPDATE small SET name = name || '!'")
        op.execute("ANALYZE big")
    """)
    # big keeps its file (checked above); only its foreign key to small is re-added
    assert "public.small" in touched and touched.count("public.big") == touched.count("public.big (foreign key")


def test_index_changes_on_a_large_table_rebuild_only_those_indexes(database, env, tmp_path):
    message = _restored_selectively(database, env, tmp_path, """
        op.execute("DROP INDEX ix_big_prefix")
        op.execute("CREATE INDEX ix_big_payload ON big (payload)")
        op.execute("UPDATE small SET name = 'renamed' WHERE id = 1")
    """)
    assert "public.big (indexes)" in message and "public.small" in message
    assert database.sql("SELECT obj_description('ix_big_prefix'::regclass, 'pg_class')") == [("by prefix",)]


@pytest.mark.parametrize("pooled", [False, True], ids=["null-pool", "pooled-engine"])
def test_row_changes_and_truncate_without_schema_change_are_seen(database, env, tmp_path, pooled):
    # Only the statistics counters (and TRUNCATE's new file) say these tables changed: if they
    # were missed, the restored database would still hold the changed rows and this would fail.
    message = _restored_selectively(database, env, tmp_path, """
        op.execute("UPDATE big SET payload = 'changed' WHERE id = 7")
        op.execute("DELETE FROM notes WHERE id = 2")
        op.execute("TRUNCATE scratch")
    """, pooled=pooled, big_touched=True)
    for name in ("public.big", "public.notes", "public.scratch"):
        assert name in message
    assert "public.retired" not in message


@pytest.mark.parametrize("change, reason", [
    ('op.execute("CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$")', "routine"),
    ('op.execute("CREATE TYPE mood AS ENUM (\'ok\')")', "type"),
    ('op.execute("CREATE TABLE parent (id int) PARTITION BY RANGE (id)")\n'
     'op.execute("CREATE TABLE child PARTITION OF parent FOR VALUES FROM (0) TO (10)")', "partitioning"),
])
def test_changes_it_cannot_rebuild_take_the_full_restore(database, env, tmp_path, change, reason):
    ini = _project(tmp_path, env, change + '\nop.execute("UPDATE small SET name = \'z\'")')
    before = fingerprint(database)
    payload = _fail_and_restore(database, env, ini)
    assert payload["restore_mode"] == "full"
    assert any(note.startswith("full restore:") and reason in note for note in payload["notes"]), payload["notes"]
    assert fingerprint(database) == before


def test_selective_restore_can_be_switched_off(database, env, tmp_path):
    env["MIGRATION_SELECTIVE_RESTORE"] = "off"
    ini = _project(tmp_path, env, 'op.execute("UPDATE small SET name = \'z\'")')
    before, big_before = fingerprint(database), _identity(database, "big")
    payload = _fail_and_restore(database, env, ini)
    assert payload["restore_mode"] == "full" and payload["notes"] == []
    assert fingerprint(database) == before
    assert _identity(database, "big") != big_before           # the full restore rebuilt everything


def test_a_selective_restore_that_misses_a_change_rolls_back(database, tmp_path):
    """The check inside the restore's transaction: a plan that leaves out a changed relation must
    not commit. The plan is cut short on purpose here; the database must stay as it was."""
    import subprocess

    from migration_safety.config.settings import DatabaseSettings
    from migration_safety.base.errors import RestoreError
    from migration_safety.postgres.tools import find_tools
    from migration_safety.backup.restore import OpenedArchive, archive_toc, toc_without_schemas
    from migration_safety.backup.selective_restore import photograph, plan_selective_restore, restore_touched

    database.sql("CREATE TABLE big (id int PRIMARY KEY, v text); CREATE TABLE small (id int PRIMARY KEY, v text);"
                 " INSERT INTO big VALUES (1, 'one'); INSERT INTO small VALUES (1, 'one')")
    settings = DatabaseSettings(host=database.host, port=database.port, database=database.name,
                                user=database.user, password=database.password)
    tools = find_tools(("pg_dump", "pg_restore", "psql"))
    connection = database.connect()
    before = photograph(connection, ())
    archive_path = tmp_path / "before.dump"
    subprocess.run([tools["pg_dump"].path, "-Fc", "-f", str(archive_path), f"--dbname={settings.conninfo()}"],
                   env=settings.child_environment(), check=True)
    archive = OpenedArchive(archive_path)
    database.sql("ALTER TABLE big ADD COLUMN extra int; ALTER TABLE small ADD COLUMN extra int")
    plan = plan_selective_restore(connection, before, photograph(connection, ()),
                                  toc_without_schemas(archive_toc(archive, tools["pg_restore"]), ()))
    assert {r.name for r in plan.touched} == {"big", "small"}
    plan.touched = [r for r in plan.touched if r.name != "big"]
    plan.dropped_now = [r for r in plan.dropped_now if r.name != "big"]
    plan.toc_lines = [line for line in plan.toc_lines if " big " not in line and "big_pkey" not in line]
    changed = fingerprint(database)
    with pytest.raises(RestoreError, match="selective restore check"):
        restore_touched(settings, archive, plan, before, pg_restore=tools["pg_restore"], psql=tools["psql"],
                        pg_dump=tools["pg_dump"])
    connection.close()
    archive.close()
    assert fingerprint(database) == changed


def test_a_table_whose_changes_the_failed_revision_rolled_back_is_not_reloaded(database, env, tmp_path):
    """The failing revision updates every row of the large table, then fails: its transaction
    rolled that back, so only the earlier, committed revision's table is rebuilt (committed
    changes, n_mod_since_analyze, not attempted ones, n_tup_upd)."""
    ini = make_project(tmp_path / "project", {
        "a1.py": BASE, "b2.py": revision("b2", "a1", 'op.execute("UPDATE small SET name = \'b2\' WHERE id = 2")'),
        "c3.py": revision("c3", "b2", """
            op.execute("UPDATE big SET payload = 'rolled back'")
            op.execute("INSERT INTO small (name) VALUES (NULL)")
        """)}, transaction_per_migration=True)
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    # Autovacuum analyzes big (3,000 new rows) when it chooses; on a busy machine that can fall
    # within the failing run, and a reset counter plus an attempted update cannot be told from a
    # committed change, so the run rebuilds big to be safe. Analyzed here (once a1's session, and
    # with it its row counts, is gone), autovacuum has nothing to analyze.
    wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                                      " AND pid <> pg_backend_pid()"), "the a1 upgrade's session to end")
    database.sql("ANALYZE big")
    before, big_before = fingerprint(database), _identity(database, "big")
    payload = _fail_and_restore(database, env, ini)
    assert payload["restore_mode"] == "selective", payload["notes"]
    assert "public.small" in payload["message"] and "public.big," not in payload["message"] + ","
    assert _identity(database, "big") == big_before
    assert fingerprint(database) == before
