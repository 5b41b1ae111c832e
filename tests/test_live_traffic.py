"""A failed run on a live database: an application keeps writing in another process (its own
psycopg2 connection, a loop of short transactions) while the migration runs, fails and is
restored. Each test proves the end state by the fingerprint of everything the application does
not write, and by the application's own record of what it committed: no committed row may vanish
silently, and no sequence may hand out a value twice."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, fingerprint, run_cli, wait_for

EXIT_FAILED, EXIT_ATTENTION = 1, 4

BASE = revision("a1", None, """
    op.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL)")
    op.execute("INSERT INTO orders (note) SELECT 'old ' || g FROM generate_series(1, 50) g")
    op.execute("CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL)")
    op.execute("INSERT INTO products VALUES (1, 'hoe'), (2, 'rake')")
""")


def _waiting_failure(marker: Path, threshold: int) -> str:
    """The failing revision: it waits (inside its transaction) until the application has committed
    ``threshold`` orders in all, so the application certainly wrote while the run was in progress,
    then fails."""
    return f"""
    from pathlib import Path
    Path({str(marker)!r}).write_text("running")
    op.execute("DO $$ BEGIN WHILE (SELECT count(*) FROM orders) < {threshold} LOOP PERFORM pg_sleep(0.02); "
               "END LOOP; END $$")
    op.execute("INSERT INTO products VALUES (3, NULL)")
"""


WRITER = textwrap.dedent("""
    import sys, time, psycopg2
    from pathlib import Path
    dsn, log, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    connection = psycopg2.connect(dsn)
    with open(log, "a") as out:
        while not stop.exists():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO orders (note) VALUES ('live') RETURNING id")
                    order_id = cursor.fetchone()[0]
                connection.commit()
            except psycopg2.Error:          # a lock timeout during the restore: try again
                connection.rollback()
                time.sleep(0.01)
                continue
            out.write(f"{order_id}\\n")      # only once committed
            out.flush()
""")


class Application:
    """The application: another process inserting orders, one per transaction, recording each id
    once its transaction committed."""

    def __init__(self, database, tmp_path: Path):
        self.log, self.stop_file = tmp_path / "committed.txt", tmp_path / "stop"
        self.log.write_text("")
        dsn = (f"host={database.host} port={database.port} user={database.user} dbname={database.name} "
               f"password={database.password}")
        self.process = subprocess.Popen([sys.executable, "-c", WRITER, dsn, str(self.log), str(self.stop_file)])

    def committed(self) -> list[int]:
        return [int(line) for line in self.log.read_text().split()]

    def stop(self) -> list[int]:
        self.stop_file.write_text("stop")
        assert self.process.wait(timeout=60) == 0
        return self.committed()


@pytest.fixture
def application(database, tmp_path):
    apps = []

    def start() -> Application:
        apps.append(Application(database, tmp_path))
        wait_for(lambda: len(apps[-1].committed()) >= 5, "the application to commit orders")
        return apps[-1]

    yield start
    for app in apps:
        if app.process.poll() is None:
            app.stop_file.write_text("stop")
            app.process.wait(timeout=60)


def _project(tmp_path, env, committed_body: str, threshold: int):
    marker = tmp_path / "run-started"
    ini = make_project(tmp_path / "project", {
        "a1.py": BASE, "b2.py": revision("b2", "a1", committed_body),
        "c3.py": revision("c3", "b2", _waiting_failure(marker, threshold))}, transaction_per_migration=True)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return ini


def _without(print_: dict, table: str, sequence: str) -> dict:
    """The fingerprint of everything but the application's table and its sequence."""
    return {**print_, "tables": {k: v for k, v in print_["tables"].items() if k != table},
            "sequences": {k: v for k, v in print_["sequences"].items() if k != sequence}}


def _order_ids(database) -> set:
    return {row[0] for row in database.sql("SELECT id FROM orders")}


def _preserved_ids(database, run_id: str, kind: str = "written") -> list:
    """The orders of ``kind`` a restore recorded: 'written' ones are not in the table, the others are."""
    return [row[0] for row in database.sql(
        "SELECT (row_data->>'id')::int FROM migration_safety.preserved_rows WHERE run_id = %s"
        " AND table_name = 'public.orders' AND kind = %s", (run_id, kind))]


@pytest.mark.parametrize("committed_body", [
    'op.execute("UPDATE products SET name = upper(name)")',
    'op.execute("ALTER TABLE products ADD COLUMN price int")',
], ids=["rows", "schema"])
def test_a_table_only_the_application_wrote_is_not_reloaded(database, env, tmp_path, application, committed_body):
    """The run committed b2 (products), failed in c3; the application inserted orders all along.
    The restore gives products back and leaves orders alone: every committed order is there."""
    ini = _project(tmp_path, env, committed_body, threshold=0)
    before = fingerprint(database)
    app = application()
    threshold = len(_order_ids(database)) + 40
    (tmp_path / "project" / "alembic" / "versions" / "c3.py").write_text(
        revision("c3", "b2", _waiting_failure(tmp_path / "run-started", threshold)))
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--allow-unsafe", env=env)
    committed = app.stop()
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_FAILED, (payload["message"], payload["notes"])
    assert payload["status"] == "failed-restored" and payload["restore_mode"] == "selective", payload
    # orders is never reloaded; it is named as left alone when the application's counters reached
    # the shared statistics before the run ended (a backend flushes them at most once a second)
    restored = payload["message"].split("only what the run touched: ", 1)[1].split(") in ", 1)[0].split(", ")
    assert [item for item in restored if item.split(" ")[0] == "public.orders"] == [], restored
    assert set(committed) <= _order_ids(database)                      # no committed order vanished
    assert _without(fingerprint(database), "public.orders", "public.orders_id_seq") == \
        _without(before, "public.orders", "public.orders_id_seq")


@pytest.mark.parametrize("selective", ["1", "0"], ids=["selective", "full"])
def test_rows_others_wrote_to_a_table_the_restore_reloads_are_kept_aside(database, env, tmp_path, application,
                                                                          selective):
    """The run itself wrote to orders (b2 committed) and so did the application: the restore must
    reload orders, so the application's rows written meanwhile are copied to
    migration_safety.preserved_rows first and the run ends needing attention, saying where. With the
    selective restore off, the full restore reloads every table: the same must hold."""
    ini = _project(tmp_path, env, 'op.execute("INSERT INTO orders (id, note) VALUES (-1, \'by the run\')")',
                   threshold=0)
    before = fingerprint(database)
    app = application()
    threshold = len(_order_ids(database)) + 40
    (tmp_path / "project" / "alembic" / "versions" / "c3.py").write_text(
        revision("c3", "b2", _waiting_failure(tmp_path / "run-started", threshold)))
    result = run_cli("--config", str(ini), "--format", "json", "upgrade",
                     env={**env, "MIGRATION_SELECTIVE_RESTORE": selective})
    committed = app.stop()
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_ATTENTION, payload
    assert payload["status"] == "failed-restored-rows-aside", payload
    assert "migration_safety.preserved_rows" in payload["message"]
    in_table, aside = _order_ids(database), _preserved_ids(database, payload["run_id"])
    assert len(aside) == len(set(aside)) == payload["preserved_rows"]["public.orders"]
    assert set(committed) <= in_table | set(aside)                     # every committed order accounted for
    assert not in_table & set(aside)
    assert -1 not in in_table and -1 not in aside                      # the run's own row: undone, not kept
    assert _without(fingerprint(database), "public.orders", "public.orders_id_seq") == \
        _without(before, "public.orders", "public.orders_id_seq")
    # the journal is closed: the database is as before the run, only the rows need a person
    assert run_cli("--config", str(ini), "--format", "json", "upgrade", "--dry-run", env=env).returncode == 0


def test_rows_an_asyncpg_side_connection_deleted_come_back_and_the_applications_are_kept(database, env, tmp_path,
                                                                                         application):
    """The one pending revision deletes half of the orders there were before the run through an
    asyncpg connection of its own, imported by a computed name so that no static reading sees it
    (asyncpg commits each statement as it runs, where the tool cannot see it), while the
    application keeps inserting orders; then it fails. The run finds the connection as it opens,
    counts it as committed and restores: every order from before the run is back, every order the
    application committed is in the table or copied aside, never "rolled back, nothing to restore"."""
    ini = _project(tmp_path, env, 'op.execute("UPDATE products SET name = upper(name)")', threshold=0)
    assert run_cli("--config", str(ini), "upgrade", "--revision", "b2", env=env).returncode == 0
    before = fingerprint(database)
    orders_before = _order_ids(database)
    app = application()
    threshold = len(_order_ids(database)) + 40
    (tmp_path / "project" / "alembic" / "versions" / "c3.py").write_text(revision("c3", "b2", """
    import asyncio
    import importlib
    url = op.get_bind().engine.url
    driver = importlib.import_module("asyn" + "cpg")

    async def delete_half():
        side = await getattr(driver, "con" + "nect")(host=url.host, port=url.port, database=url.database,
                                                     user=url.username, password=url.password)
        await side.execute("DELETE FROM orders WHERE id <= 25")
        await side.close()

    asyncio.run(delete_half())
""" + _waiting_failure(tmp_path / "run-started", threshold)))
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--allow-unsafe", env=env)
    committed = app.stop()
    payload = json.loads(result.stdout)
    assert payload["committed_before_failure"] is True, payload
    assert any("asyncpg pid" in note for note in payload["notes"]), payload["notes"]
    # orders was written by the run and by the application: reloaded, the application's rows set aside
    assert result.returncode == EXIT_ATTENTION, (payload["message"], payload["notes"])
    assert payload["status"] == "failed-restored-rows-aside", payload
    in_table, aside = _order_ids(database), _preserved_ids(database, payload["run_id"])
    assert orders_before <= in_table                                   # the deleted half is back
    # ... and said: the asyncpg commits were unseen, so who deleted them cannot be told
    assert sorted(_preserved_ids(database, payload["run_id"], "absent")) == list(range(1, 26))
    assert set(committed) <= in_table | set(aside)                     # every committed order accounted for
    assert not in_table & set(aside)
    assert _without(fingerprint(database), "public.orders", "public.orders_id_seq") == \
        _without(before, "public.orders", "public.orders_id_seq")


HOLDER = textwrap.dedent("""
    import sys, time, psycopg2
    from pathlib import Path
    dsn, started, drew = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    with connection.cursor() as cursor:
        while not started.exists():
            time.sleep(0.02)
        cursor.execute("SELECT nextval('orders_id_seq') FROM generate_series(1, 10)")
        held = [row[0] for row in cursor.fetchall()]
        drew.write_text(" ".join(map(str, held)))
        sys.stdin.read()                           # until the test says: insert what you hold
        for order_id in held:
            cursor.execute("INSERT INTO orders (id, note) VALUES (%s, 'held')", (order_id,))
        for _ in range(10):
            cursor.execute("INSERT INTO orders (note) VALUES ('new')")
""")


def test_a_sequence_the_application_drew_from_is_not_rewound(database, env, tmp_path):
    """The application draws ten ids with nextval() itself during the failed run (pooling them)
    and inserts them afterwards, then ten more: all twenty inserts succeed — the failed run's
    sequence is left advanced (a gap), not rewound under the held values."""
    started, drew = tmp_path / "run-started", tmp_path / "drew"
    failing = revision("b2", "a1", f"""
    import time
    from pathlib import Path
    op.execute("INSERT INTO orders (note) SELECT 'by the run' FROM generate_series(1, 5)")
    Path({str(started)!r}).write_text("running")
    while not Path({str(drew)!r}).exists():
        time.sleep(0.02)
    op.execute("INSERT INTO products VALUES (3, NULL)")
""")
    ini = make_project(tmp_path / "project", {"a1.py": BASE, "b2.py": failing})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    before = fingerprint(database)
    dsn = (f"host={database.host} port={database.port} user={database.user} dbname={database.name} "
           f"password={database.password}")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, dsn, str(started), str(drew)], stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
        payload = json.loads(result.stdout)
        assert result.returncode == EXIT_FAILED and payload["status"] == "failed-rolled-back", payload
        assert any("left 1 sequence(s) advanced (orders_id_seq)" in note for note in payload["notes"]), \
            payload["notes"]
        _, errors = holder.communicate("go\n", timeout=60)
        assert holder.returncode == 0, errors          # no duplicate key among the twenty inserts
    finally:
        if holder.poll() is None:
            holder.kill()
    after = fingerprint(database)
    assert after["tables"]["public.orders"][0] == before["tables"]["public.orders"][0] + 20
    assert _without(after, "public.orders", "public.orders_id_seq") == \
        _without(before, "public.orders", "public.orders_id_seq")


DELETER = textwrap.dedent("""
    import sys, time, psycopg2
    from pathlib import Path
    dsn, started, done, stop, statements = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5:]
    connection = psycopg2.connect(dsn)
    while not started.exists():
        if stop.exists():                          # the run never started (refused)
            sys.exit(0)
        time.sleep(0.02)
    for statement in statements:                   # each in a transaction of its own
        with connection.cursor() as cursor:
            cursor.execute(statement)
        connection.commit()
    done.write_text("done")
    while not stop.exists():                       # stays connected, as a pooled application does
        time.sleep(0.02)
""")


@pytest.fixture
def deleting_application(database, tmp_path):
    """Start (with the statements it commits once the run is in progress) an application process
    that waits for the run to start, commits each statement and stays connected; the failing
    revision waits for ``done`` before it fails."""
    started, done, stop = tmp_path / "run-started", tmp_path / "app-done", tmp_path / "app-stop"
    dsn = (f"host={database.host} port={database.port} user={database.user} dbname={database.name} "
           f"password={database.password}")
    processes = []

    def start(*statements: str):
        processes.append(subprocess.Popen([sys.executable, "-c", DELETER, dsn, str(started), str(done), str(stop),
                                           *statements]))
        return processes[-1]

    yield start
    stop.write_text("stop")
    for process in processes:
        process.wait(timeout=60)


def _deleting_project(tmp_path, env, committed_body: str):
    """a1 applied; b2 commits ``committed_body``; c3 waits until the application is done, then fails."""
    started, done = tmp_path / "run-started", tmp_path / "app-done"
    ini = make_project(tmp_path / "project", {
        "a1.py": BASE, "b2.py": revision("b2", "a1", committed_body),
        "c3.py": revision("c3", "b2", f"""
    import time
    from pathlib import Path
    Path({str(started)!r}).write_text("running")
    deadline = time.monotonic() + 60
    while not Path({str(done)!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    op.execute("INSERT INTO products VALUES (3, NULL)")
""")}, transaction_per_migration=True)
    done_a1 = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done_a1.returncode == 0, done_a1.stdout + done_a1.stderr
    return ini


def _preserved(database, run_id: str) -> dict:
    """kind -> sorted order ids set aside for the run (a database without the kind column: 'written')."""
    has_kind = database.sql("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid ="
                            " to_regclass('migration_safety.preserved_rows') AND attname = 'kind')")[0][0]
    if database.sql("SELECT to_regclass('migration_safety.preserved_rows') IS NULL")[0][0]:
        return {}
    kind = "kind" if has_kind else "'written'"
    kept = {}
    for row_kind, order_id in database.sql(
            f"SELECT {kind}, (row_data->>'id')::int FROM migration_safety.preserved_rows WHERE run_id = %s"
            " AND table_name = 'public.orders' ORDER BY 2", (run_id,)):
        kept.setdefault(row_kind, []).append(order_id)
    return kept


@pytest.mark.parametrize("selective", ["1", "0"], ids=["selective", "full"])
def test_rows_the_application_deleted_during_the_run_are_reported_not_silently_restored(
        database, env, tmp_path, deleting_application, selective):
    """b2 updates some orders and commits; while c3 waits, the application deletes three other
    orders and inserts one, then c3 fails. The restore reloads orders from the backup (the run wrote
    it): the three deleted orders come back, so they are reported as deleted by other sessions,
    next to the inserted one copied aside; the run needs attention (exit 4)."""
    ini = _deleting_project(tmp_path, env, 'op.execute("UPDATE orders SET note = upper(note) WHERE id > 40")')
    before = fingerprint(database)
    deleting_application("DELETE FROM orders WHERE id IN (3, 4, 5)",
                         "INSERT INTO orders (id, note) VALUES (1000, 'live')")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade",
                     env={**env, "MIGRATION_SELECTIVE_RESTORE": selective})
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_ATTENTION, (payload["message"], payload["notes"])
    assert payload["status"] == "failed-restored-rows-aside", payload
    assert _preserved(database, payload["run_id"]) == {"deleted": [3, 4, 5], "written": [1000]}
    assert payload["rows_deleted_by_others"] == {"public.orders": 3} and payload["preserved_rows"] == \
        {"public.orders": 1} and payload["rows_absent_before_restore"] == {}
    jsonschema.validate(payload, json.loads((REPO_ROOT / "docs" / "schemas" / "run.schema.json").read_text()))
    assert "deleted by other sessions" in payload["message"] and "public.orders: 3" in payload["message"], \
        payload["message"]
    after = fingerprint(database)
    assert after["tables"] == before["tables"]                         # orders is exactly the backup's
    # the recipe of docs/live-databases.md deletes them again
    database.sql("DELETE FROM public.orders t WHERE pg_catalog.to_jsonb(t) IN (SELECT row_data FROM"
                 " migration_safety.preserved_rows WHERE run_id = %s AND table_name = 'public.orders'"
                 " AND kind = 'deleted')", (payload["run_id"],))
    assert _order_ids(database) == set(range(1, 51)) - {3, 4, 5}
    assert _without(after, "public.orders", "public.orders_id_seq") == \
        _without(before, "public.orders", "public.orders_id_seq")


def test_rows_the_run_itself_deleted_come_back_unreported(database, env, tmp_path):
    """b2 deletes ten orders and commits, c3 fails, nobody else is connected: the restore brings
    the ten back, which is what it is for — nothing is reported, exit 1."""
    ini = _deleting_project(tmp_path, env, 'op.execute("DELETE FROM orders WHERE id <= 10")')
    (tmp_path / "app-done").write_text("done")                         # no application: c3 fails at once
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_FAILED, (payload["message"], payload["notes"])
    assert payload["status"] == "failed-restored", payload
    assert _preserved(database, payload["run_id"]) == {}
    assert fingerprint(database) == before


def test_rows_deleted_where_the_run_deleted_too_are_reported_as_absent_before_the_restore(
        database, env, tmp_path, deleting_application):
    """b2 deletes orders 1-5 and commits; the application deletes orders 20-22 while c3 waits. Who
    deleted which cannot be told from row versions: all eight come back and are reported as absent
    before the restore (deleted by the run or by another session), exit 4, nothing lost."""
    ini = _deleting_project(tmp_path, env, 'op.execute("DELETE FROM orders WHERE id <= 5")')
    # preserved_rows as an earlier version created it, holding an earlier restore's row
    database.sql("CREATE SCHEMA IF NOT EXISTS migration_safety; CREATE TABLE migration_safety.preserved_rows"
                 " (run_id text NOT NULL, table_name text NOT NULL, row_data jsonb NOT NULL, row_xmin bigint NOT NULL,"
                 " preserved_at timestamptz NOT NULL DEFAULT now());"
                 " INSERT INTO migration_safety.preserved_rows VALUES ('earlier', 'public.orders', '{\"id\": 7}', 9)")
    before = fingerprint(database)
    deleting_application("DELETE FROM orders WHERE id BETWEEN 20 AND 22")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_ATTENTION, (payload["message"], payload["notes"])
    assert payload["status"] == "failed-restored-rows-aside", payload
    assert _preserved(database, payload["run_id"]) == {"absent": [1, 2, 3, 4, 5, 20, 21, 22]}
    assert "deleted by the run or by another session" in payload["message"], payload["message"]
    assert _preserved(database, "earlier") == {"written": [7]}
    assert fingerprint(database)["tables"] == before["tables"]


@pytest.mark.parametrize("committed_body, absent", [
    ('op.execute("TRUNCATE orders")', list(range(1, 51))),
    ('op.execute("UPDATE orders SET id = id + 1000 WHERE id <= 2")', [1, 2, 10]),
    # the key's type changed (a rewrite): keys compared as text, so the comparison still holds
    ('op.execute("ALTER TABLE orders ALTER COLUMN id TYPE bigint")', [10]),
], ids=["truncate", "key-update", "key-type-change"])
def test_rows_the_run_removed_without_a_counted_delete_are_not_blamed_on_others(
        database, env, tmp_path, deleting_application, committed_body, absent):
    """b2 removes rows without a DELETE the statistics count (TRUNCATE; an UPDATE that changes
    their key) while the application, connected, deletes order 10 (or nothing the TRUNCATE left):
    the missing rows come back and are reported as absent before the restore, never as deleted
    by other sessions."""
    ini = _deleting_project(tmp_path, env, committed_body)
    before = fingerprint(database)
    deleting_application("DELETE FROM orders WHERE id = 10")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--allow-unsafe", env=env)
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_ATTENTION, (payload["message"], payload["notes"])
    assert _preserved(database, payload["run_id"]) == {"absent": absent}
    assert fingerprint(database)["tables"] == before["tables"]


def test_a_table_without_a_primary_key_is_compared_by_a_unique_index_on_not_null_columns(
        database, env, tmp_path, deleting_application):
    """No primary key, but a unique index on NOT NULL columns identifies each row (as logical
    replication would use it): the row the application deleted during the run is reported as
    deleted by another session, not silently restored."""
    ini = _deleting_project(tmp_path, env, 'op.execute("UPDATE subscribers SET plan = plan")')
    database.sql("CREATE TABLE subscribers (email text NOT NULL, plan text);"
                 " CREATE UNIQUE INDEX subscribers_plan ON subscribers (plan);"     # plan may be NULL: no key
                 " CREATE UNIQUE INDEX subscribers_email ON subscribers (email);"
                 " INSERT INTO subscribers VALUES ('a@example.org', 'free'), ('b@example.org', 'pro')")
    before = fingerprint(database)
    deleting_application("DELETE FROM subscribers WHERE email = 'b@example.org'")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade",
                     env={**env, "MIGRATION_SELECTIVE_RESTORE": "0"})
    payload = json.loads(result.stdout)
    assert result.returncode == EXIT_ATTENTION, (payload["message"], payload["notes"])
    assert payload["rows_deleted_by_others"] == {"public.subscribers": 1}, payload
    assert database.sql("SELECT row_data->>'email', kind FROM migration_safety.preserved_rows WHERE run_id = %s",
                        (payload["run_id"],)) == [("b@example.org", "deleted")]
    assert fingerprint(database)["tables"] == before["tables"]


def test_a_table_without_a_primary_key_is_named_in_the_notes(database, env, tmp_path, deleting_application):
    """A reloaded table with no primary key, nor a unique index on NOT NULL columns (one on a column
    that allows NULL identifies nothing), cannot be compared row by row: the notes say so instead
    of guessing, and the table is the backup's."""
    ini = _deleting_project(tmp_path, env, 'op.execute("UPDATE events SET what = what")')
    database.sql("CREATE TABLE events (what text UNIQUE)")
    database.sql("INSERT INTO events VALUES ('a'), ('b')")
    before = fingerprint(database)
    deleting_application("DELETE FROM events WHERE what = 'a'")
    result = run_cli("--config", str(ini), "--format", "json", "upgrade",
                     env={**env, "MIGRATION_SELECTIVE_RESTORE": "0"})
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed-restored", (payload["message"], payload["notes"])
    assert any("public.events: no primary key" in note for note in payload["notes"]), payload["notes"]
    assert fingerprint(database)["tables"] == before["tables"]
