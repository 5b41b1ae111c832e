"""Runs that do not end normally, and what the tool knows about the database afterwards: the
wrapper killed mid-run, the server restarted mid-run, the lock session terminated, env.py
connecting to another database, commits SQLAlchemy never saw. Every end state is proven with
the fingerprint."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
import harness
from harness import REPO_ROOT, backup_files, fingerprint, new_database, run_cli, wait_for

EXIT_USAGE, EXIT_ATTENTION = 2, 4
RUN_APPLICATION = "migration_safety_run"


@pytest.fixture
def env(env):
    env["MIGRATION_LOCK_TIMEOUT"] = "120s"      # the migration waits for the test's lock, not the timeout
    return env


BASE = revision("a1", None, """
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
    op.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g")
    op.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
""")
COMMITS = revision("b2", "a1", """
    op.execute("UPDATE items SET label = 'relabelled ' || id WHERE id <= 500")
    op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
""")
WAITS_THEN_FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO notes VALUES (2, 'then waits for the test')")
    op.execute("SELECT pg_advisory_xact_lock(4242)")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


def project(tmp_path, env, third=WAITS_THEN_FAILS, *, per_migration=True) -> Path:
    ini = make_project(tmp_path / "project", {"a1.py": BASE, "b2.py": COMMITS, "c3.py": third},
                       transaction_per_migration=per_migration)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return ini


def cli_json(ini, *args, env, expect=0):
    return harness.cli_json("--config", str(ini), *args, env=env, expect=expect)


def start_upgrade(ini, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"),
                             "--config", str(ini), "--format", "json", "upgrade"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def hold_notes(database):
    """Another session holds the lock the third revision waits for, after b2 committed (an
    advisory lock: a table lock would stop the backup before the run starts)."""
    holder = database.connect()
    holder.cursor().execute("SELECT pg_advisory_lock(4242)")
    return holder


def migration_waiting(database):
    return database.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND application_name = %s AND wait_event_type = 'Lock'", (RUN_APPLICATION,))


def kill_mid_run(database, ini, env):
    """SIGKILL the wrapper while the third revision waits, after b2 committed."""
    holder = hold_notes(database)
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


def test_a_killed_run_is_reported_blocks_migrations_and_recover_restores_the_state_before_it(database, env,
                                                                                              tmp_path):
    ini = project(tmp_path, env)
    before = fingerprint(database)
    kill_mid_run(database, ini, env)
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]     # half-migrated
    half = fingerprint(database)

    status = cli_json(ini, "status", env=env)
    assert status["needs_attention"] is True
    [run] = status["unfinished_runs"]
    assert run["revision_before"] == ["a1"] and run["state"] == "running" and run["backup"]
    assert "INTERRUPTED RUN" in run_cli("--config", str(ini), "status", env=env).stdout
    health = cli_json(ini, "health", env=env, expect=1)
    assert any(c["check"] == "interrupted runs" and c["status"] == "fail" for c in health["checks"])

    refused = run_cli("--config", str(ini), "upgrade", env=env)
    assert refused.returncode == EXIT_ATTENTION, refused.stdout + refused.stderr
    assert "recover" in refused.stderr
    assert fingerprint(database) == half

    recovered = cli_json(ini, "recover", "--yes", env=env)
    assert recovered["action"] == "restored" and recovered["schema_verified"] is True
    assert fingerprint(database) == before
    assert cli_json(ini, "status", env=env)["needs_attention"] is False
    checks = json.loads(run_cli("--config", str(ini), "--format", "json", "health", env=env).stdout)["checks"]
    assert {c["check"]: c["status"] for c in checks}["interrupted runs"] == "ok"


def test_recover_accept_keeps_the_database_and_unblocks_migrations(database, env, tmp_path):
    ini = project(tmp_path, env)
    kill_mid_run(database, ini, env)
    half = fingerprint(database)
    accepted = cli_json(ini, "recover", "--accept", env=env)
    assert accepted["action"] == "accepted"
    assert fingerprint(database) == half
    assert cli_json(ini, "status", env=env)["needs_attention"] is False
    # migrations go on from where the database is (b2): c3 fails and is rolled back as usual
    payload = cli_json(ini, "upgrade", env=env, expect=1)
    assert payload["status"] == "failed-rolled-back" and payload["revision_before"] == ["b2"]
    assert fingerprint(database) == half


def test_server_restart_mid_run_is_waited_for_and_the_committed_part_restored(database, env, tmp_path, pg_cluster):
    ini = project(tmp_path, env)
    before = fingerprint(database)
    holder = hold_notes(database)
    wrapper = start_upgrade(ini, env)
    try:
        wait_for(lambda: migration_waiting(database), "the migration to wait for the lock")
        # a crash (immediate mode) and a start; the server's output goes to its log, not to a pipe of
        # ours that the new postmaster would keep open
        restart = subprocess.run(["runuser", "-u", "postgres", "--", str(pg_cluster.bin_dir / "pg_ctl"), "restart",
                                  "-D", str(pg_cluster.data_dir), "-m", "immediate", "-w", "-t", "60",
                                  "-l", str(pg_cluster.data_dir.parent / "server.log")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert restart.returncode == 0
    finally:
        holder.close()
    try:
        out, err = wrapper.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        wrapper.kill()
        out, err = wrapper.communicate()
        raise AssertionError(f"the run did not end after the restart: {err}")
    assert "internal error" not in err and "Traceback" not in err, err
    payload = json.loads(out)
    assert wrapper.returncode == 1, out + err
    assert payload["status"] == "failed-restored", payload
    assert fingerprint(database) == before
    assert cli_json(ini, "status", env=env)["needs_attention"] is False


def test_terminated_lock_session_is_regained_and_the_failure_still_restored(database, env, tmp_path):
    ini = project(tmp_path, env)
    before = fingerprint(database)
    holder = hold_notes(database)
    wrapper = start_upgrade(ini, env)
    try:
        wait_for(lambda: migration_waiting(database), "the migration to wait for the lock")
        [(lock_pid,)] = database.sql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
                                     " AND objsubid = 2 AND granted", (0x4D534146,))
        database.sql("SELECT pg_terminate_backend(%s)", (lock_pid,))
    finally:
        holder.close()
    out, err = wrapper.communicate(timeout=180)
    assert "Traceback" not in err, err
    payload = json.loads(out)
    assert payload["status"] == "failed-restored", payload
    assert fingerprint(database) == before


# -- the database backed up is the one Alembic migrates ----------------------------------------------

def test_env_py_connecting_to_another_database_is_refused_before_any_change(database, env, tmp_path, pg_cluster):
    ini = project(tmp_path, env)
    other = new_database(pg_cluster)
    try:
        env_py = tmp_path / "project" / "alembic" / "env.py"
        text = env_py.read_text()
        marker = 'config.get_section(config.config_ini_section, {}),'
        assert marker in text
        env_py.write_text("import os\n" + text.replace(
            marker, '{"sqlalchemy.url": os.environ["APP_DATABASE_URL"]},'))
        env["APP_DATABASE_URL"] = other.url.replace("postgresql://", "postgresql+psycopg2://")
        mine, theirs = fingerprint(database), fingerprint(other)
        result = run_cli("--config", str(ini), "upgrade", env=env)
        assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
        assert database.name in result.stderr and other.name in result.stderr
        assert fingerprint(database) == mine and fingerprint(other) == theirs
        assert not backup_files(tmp_path / "backups")[1:]     # only a1's own backup
    finally:
        pg_cluster.drop_database(other.name)


def test_env_py_import_error_is_a_configuration_error_without_a_backup(database, env, tmp_path):
    ini = project(tmp_path, env)
    backups_before = sorted((tmp_path / "backups").glob("backup_*"))
    env_py = tmp_path / "project" / "alembic" / "env.py"
    env_py.write_text("import myapp_that_is_not_installed  # noqa\n" + env_py.read_text())
    state = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert "myapp_that_is_not_installed" in result.stderr and "configuration" in result.stderr
    assert sorted((tmp_path / "backups").glob("backup_*")) == backups_before
    assert fingerprint(database) == state


# -- commits SQLAlchemy does not see --------------------------------------------------------------

COMMIT_STATEMENT = revision("c3", "b2", """
    op.execute("DELETE FROM items WHERE id <= 1000")
    op.execute("COMMIT")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
SIDE_CONNECTION = revision("c3", "b2", """
    import psycopg2
    url = op.get_bind().engine.url
    side = psycopg2.connect(host=url.host, port=url.port, dbname=url.database, user=url.username,
                            password=url.password)
    with side, side.cursor() as cursor:
        cursor.execute("DELETE FROM items WHERE id <= 1000")
    side.close()
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


COMMIT_AFTER_A_COMMENT = revision("c3", "b2", """
    op.execute("DELETE FROM items WHERE id <= 1000")
    op.execute("-- keep what was deleted\\nCOMMIT")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
OWN_TRANSACTION_IN_ONE_STRING = revision("c3", "b2", """
    op.execute("/* its own transaction */ BEGIN; DELETE FROM items WHERE id <= 1000; COMMIT;")
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
DBAPI_COMMIT = revision("c3", "b2", """
    op.execute("DELETE FROM items WHERE id <= 1000")
    op.get_bind().connection.dbapi_connection.commit()
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
SIDE_CONNECTION_THEN_ANALYZE = revision("c3", "b2", """
    import psycopg2
    url = op.get_bind().engine.url
    keywords = dict(host=url.host, port=url.port, dbname=url.database, user=url.username, password=url.password)
    side = psycopg2.connect(**keywords)
    with side, side.cursor() as cursor:
        cursor.execute("DELETE FROM items WHERE id <= 1000")
    side.close()
    other = psycopg2.connect(**keywords)
    other.autocommit = True
    other.cursor().execute("ANALYZE items")     # resets the committed-change counters
    other.close()
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


PSQL_SUBPROCESS = revision("c3", "b2", """
    import os, subprocess
    url = op.get_bind().engine.url
    subprocess.run(["psql", "-X", "-q", "-h", url.host, "-p", str(url.port), "-U", url.username, "-d", url.database,
                    "-c", "DELETE FROM items WHERE id <= 1000"], env={**os.environ, "PGPASSWORD": url.password},
                   check=True)
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


# asyncpg commits every statement outside a transaction block the moment it runs, on a connection
# SQLAlchemy never sees; here opened inside upgrade() through asyncio.run, as a sync revision must
ASYNCPG_SIDE_CONNECTION = revision("c3", "b2", """
    import asyncio
    import asyncpg
    url = op.get_bind().engine.url

    async def delete_half():
        side = await asyncpg.connect(host=url.host, port=url.port, database=url.database, user=url.username,
                                     password=url.password)
        await side.execute("DELETE FROM items WHERE id <= 1000")
        await side.close()

    asyncio.run(delete_half())
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
# the same where no static reading can see the opener: the driver imported by a computed name, its
# connect() reached through getattr; then ANALYZE from another connection resets the committed-change
# counters of the table it emptied by half
HIDDEN_ASYNCPG_THEN_ANALYZE = revision("c3", "b2", """
    import asyncio
    import importlib
    url = op.get_bind().engine.url
    opener = getattr(importlib.import_module("asyn" + "cpg"), "con" + "nect")
    keywords = dict(host=url.host, port=url.port, database=url.database, user=url.username, password=url.password)

    async def delete_half_then_analyze():
        side = await opener(**keywords)
        await side.execute("DELETE FROM items WHERE id <= 1000")
        await side.close()
        other = await opener(**keywords)
        await other.execute("ANALYZE items")
        await other.close()

    asyncio.run(delete_half_then_analyze())
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


@pytest.mark.parametrize("third", [COMMIT_STATEMENT, SIDE_CONNECTION, COMMIT_AFTER_A_COMMENT,
                                   OWN_TRANSACTION_IN_ONE_STRING, DBAPI_COMMIT, SIDE_CONNECTION_THEN_ANALYZE,
                                   PSQL_SUBPROCESS, ASYNCPG_SIDE_CONNECTION],
                         ids=["commit-statement", "side-connection", "commit-after-comment", "begin-commit-in-a-string",
                              "dbapi-commit", "side-connection-then-analyze", "psql-subprocess", "asyncpg"])
def test_commits_behind_sqlalchemys_back_are_seen_and_restored(database, env, tmp_path, third):
    ini = project(tmp_path, env, third, per_migration=False)
    cli_json(ini, "upgrade", "--revision", "b2", env=env)
    before = fingerprint(database)
    # the validator flags both revisions (transaction control, side connection): run them anyway
    payload = cli_json(ini, "upgrade", "--allow-unsafe", env=env, expect=1)
    assert payload["status"] == "failed-restored", payload
    assert payload["committed_before_failure"] is True
    assert fingerprint(database) == before
    assert database.sql("SELECT count(*) FROM items") == [(2000,)]


# The helper module of an application, imported by env.py (so before any run): it took asyncpg's
# connect under a name of its own long before the revision calls it.
SIDEKICK = """
import asyncio

from asyncpg import connect as open_connection


def delete_half(url):
    async def work():
        side = await open_connection(host=url.host, port=url.port, database=url.database, user=url.username,
                                     password=url.password)
        await side.execute("DELETE FROM items WHERE id <= 1000")
        await side.close()

    asyncio.run(work())
"""
HELPER_MODULE_OPENS_ASYNCPG = revision("c3", "b2", """
    import sidekick
    sidekick.delete_half(op.get_bind().engine.url)
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
# psycopg2 reached by a computed name, in autocommit (no commit() to watch), then ANALYZE from another
# connection: only the counters can tell, and the ANALYZE reset the one that counts committed changes
HIDDEN_PSYCOPG2_AUTOCOMMIT_THEN_ANALYZE = revision("c3", "b2", """
    import importlib
    url = op.get_bind().engine.url
    driver = importlib.import_module("psy" + "copg2")
    keywords = dict(host=url.host, port=url.port, dbname=url.database, user=url.username, password=url.password)
    side = getattr(driver, "con" + "nect")(**keywords)
    side.autocommit = True
    side.cursor().execute("DELETE FROM items WHERE id <= 1000")
    side.close()
    other = getattr(driver, "con" + "nect")(**keywords)
    other.autocommit = True
    other.cursor().execute("ANALYZE items")
    other.close()
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")
# libpq itself through ctypes — what psycopg 3's pure-Python implementation is — left connected: no
# hook of the tool's sees it open or commit; the server lists it under the run's application_name
LIBPQ_LEFT_OPEN = revision("c3", "b2", """
    import ctypes
    url = op.get_bind().engine.url
    libpq = ctypes.CDLL("libpq.so.5")       # by the dynamic linker (find_library would start a program)
    libpq.PQconnectdb.restype = libpq.PQexec.restype = ctypes.c_void_p
    libpq.PQstatus.argtypes = libpq.PQclear.argtypes = [ctypes.c_void_p]
    libpq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    conninfo = f"host={url.host} port={url.port} dbname={url.database} user={url.username} password={url.password}"
    side = libpq.PQconnectdb(conninfo.encode())
    assert libpq.PQstatus(side) == 0, "libpq could not connect"
    libpq.PQclear(libpq.PQexec(side, b"DELETE FROM items WHERE id <= 1000"))
    KEPT.append(side)                       # never PQfinish()ed: connected until the process ends
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""").replace("\ndef upgrade():", "\nKEPT = []\n\n\ndef upgrade():")


def _with_sidekick(ini: Path) -> None:
    """env.py imports the application's helper module first, as env.py files import models."""
    (ini.parent / "sidekick.py").write_text(SIDEKICK)
    env_py = ini.parent / "alembic" / "env.py"
    env_py.write_text("import os, sys\nsys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
                      "import sidekick  # noqa: F401\n" + env_py.read_text())


@pytest.mark.parametrize("third, found_by", [
    (HIDDEN_ASYNCPG_THEN_ANALYZE, "whose commits cannot be seen (asyncpg pid "),
    (HELPER_MODULE_OPENS_ASYNCPG, "whose commits cannot be seen (asyncpg pid "),
    (HIDDEN_PSYCOPG2_AUTOCOMMIT_THEN_ANALYZE, "a connection the revision opened itself committed changes to public.items"),
    (LIBPQ_LEFT_OPEN, "not by psycopg2)"),
], ids=["asyncpg-imported-by-name-then-analyze", "asyncpg-in-a-helper-imported-before-the-run",
        "psycopg2-autocommit-by-name-then-analyze", "libpq-left-connected"])
def test_connections_no_static_reading_sees_are_found_as_the_run_opens_them(database, env, tmp_path, third, found_by):
    """Half of items deleted and committed through a connection the validator cannot see (so
    nothing in the plan says it may commit), then the run fails: the run itself finds the
    connection — by the driver's connect function, by the committed-change counters (which an
    ANALYZE cannot hide), or as a backend of the run's in the server's list — and restores; never
    "rolled back, nothing to restore"."""
    ini = project(tmp_path, env, third, per_migration=False)
    if third is HELPER_MODULE_OPENS_ASYNCPG:
        _with_sidekick(ini)
    cli_json(ini, "upgrade", "--revision", "b2", env=env)
    flagged = run_cli("--config", str(ini), "validate", env=env)
    assert "side-connection-in-revision" not in flagged.stdout + flagged.stderr
    database.sql("ANALYZE items")            # no committed change pending before the run: the ANALYZE's reset hides all
    before = fingerprint(database)
    payload = cli_json(ini, "upgrade", "--allow-unsafe", env=env, expect=1)
    assert payload["status"] == "failed-restored", payload
    assert payload["committed_before_failure"] is True
    assert any(found_by in note for note in payload["notes"]), payload["notes"]
    assert fingerprint(database) == before
    assert database.sql("SELECT count(*), min(id) FROM items") == [(2000, 1)]


def test_an_archive_swapped_during_the_run_is_never_restored(database, env, tmp_path, pg_cluster):
    """Someone replaces the run's backup (same name, another archive) while the migration runs:
    the automatic restore reads the archive through the descriptor opened when the backup was
    verified, so it restores the genuine backup, never the forged file now under its name."""
    ini = project(tmp_path, env)
    before = fingerprint(database)
    forged_source = new_database(pg_cluster)
    try:
        forged_source.sql("CREATE TABLE planted_backdoor (id int)")
        forged = tmp_path / "forged.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(forged),
                        f"--dbname=host={forged_source.host} port={forged_source.port} user={forged_source.user}"
                        f" dbname={forged_source.name}"],
                       env={"PGPASSWORD": forged_source.password, "PATH": "/usr/bin:/bin"}, check=True)
    finally:
        pg_cluster.drop_database(forged_source.name)
    holder = hold_notes(database)
    wrapper = start_upgrade(ini, env)
    try:
        wait_for(lambda: migration_waiting(database), "the migration to wait for the lock")
        backup = backup_files(tmp_path / "backups")[-1]
        half = tmp_path / "swap.tmp"
        half.write_bytes(forged.read_bytes())
        half.replace(backup)                                          # swapped under the same name
    finally:
        holder.close()
    out, err = wrapper.communicate(timeout=180)
    payload = json.loads(out)
    assert wrapper.returncode == 1, out + err
    assert payload["status"] == "failed-restored", payload
    assert not database.sql("SELECT to_regclass('planted_backdoor')")[0][0]
    assert fingerprint(database) == before


def killed_run_and_a_newer_backup(database, ini, env) -> tuple[dict, Path]:
    """A run killed mid-step (its journal entry open), then a newer backup of the same database:
    retention keeping one backup per database would now remove the one `recover` needs. Returns
    the unfinished run (as `status` shows it) and that backup."""
    kill_mid_run(database, ini, env)
    [run] = cli_json(ini, "status", env=env)["unfinished_runs"]
    needed = Path(run["backup"])
    cli_json(ini, "backups", "create", env=env)
    assert len(backup_files(needed.parent)) == 3           # before a1, before the killed run, the newest
    return run, needed


def test_the_backup_an_interrupted_runs_recover_needs_survives_prune(database, env, tmp_path):
    """After a killed run, a newer backup of the same database and a prune keeping one per database:
    the killed run's backup is kept (and prune says why) until `recover` has used it."""
    ini = project(tmp_path, env)
    before = fingerprint(database)
    run, needed = killed_run_and_a_newer_backup(database, ini, env)
    pruned = cli_json(ini, "backups", "prune", "--keep-last", "1", env=env)
    assert needed.exists()
    assert [row["file"] for row in pruned["kept_for_recover"]] == [needed.name]
    assert needed.name not in [row["file"] for row in pruned["removed"]] and len(pruned["removed"]) == 1
    assert "recover` needs this backup" in run_cli("--config", str(ini), "backups", "prune", "--keep-last", "1",
                                                   env=env).stdout
    assert cli_json(ini, "recover", "--yes", env=env)["action"] == "restored"
    assert fingerprint(database) == before
    # recovered: the entry is closed, so the backup is like any other again
    pruned = cli_json(ini, "backups", "prune", "--keep-last", "1", env=env)
    assert needed.name in [row["file"] for row in pruned["removed"]] and not pruned["kept_for_recover"]


def test_another_databases_retention_in_the_shared_directory_keeps_the_backup_recover_needs(database, env, tmp_path,
                                                                                             pg_cluster):
    """A run on one database is killed mid-step; a newer backup of that database is taken; then a
    second database, whose backups go to the same directory, upgrades with a retention that keeps
    one backup per database — and prunes that directory by hand too. Neither reads the first
    database's journal, yet the killed run's backup is kept (and they say why), and `recover` on
    the first database restores exactly the state before the killed run."""
    ini = project(tmp_path, env)
    before = fingerprint(database)
    run, needed = killed_run_and_a_newer_backup(database, ini, env)

    other = new_database(pg_cluster)
    try:
        other_env = {**other.env(), "MIGRATION_BACKUP_DIR": env["MIGRATION_BACKUP_DIR"],
                     "MIGRATION_LOCK_TIMEOUT": env["MIGRATION_LOCK_TIMEOUT"]}
        applied = cli_json(ini, "upgrade", "--revision", "b2", env={**other_env, "MIGRATION_BACKUP_KEEP_LAST": "1"})
        assert applied["status"] == "applied", applied
        removed = [note for note in applied["notes"] if note.startswith("retention removed")]
        assert len(removed) == 1 and needed.name not in removed[0], applied["notes"]     # the first one's oldest
        assert any(note.startswith(f"retention kept {needed.name}: `recover` of interrupted run {run['run_id'][:8]}")
                   for note in applied["notes"]), applied["notes"]
        pruned = cli_json(ini, "backups", "prune", "--keep-last", "1", env=other_env)
        assert [row["file"] for row in pruned["kept_for_recover"]] == [needed.name]
        assert needed.exists()
        assert other.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    finally:
        pg_cluster.drop_database(other.name)

    recovered = cli_json(ini, "recover", "--yes", env=env)
    assert recovered["action"] == "restored" and recovered["schema_verified"] is True
    assert fingerprint(database) == before
    assert cli_json(ini, "status", env=env)["needs_attention"] is False


FAILS_AT_ONCE = revision("c3", "b2", """
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the tools the wrapper started run in sessions of their own)."""
    tree, unvisited = [], [pid]
    while unvisited:
        parent = unvisited.pop()
        tree.append(parent)
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        unvisited.extend(int(child) for child in children)
    return tree


@pytest.mark.parametrize("whole_tree", [True, False], ids=["the machine dies", "the wrapper alone is killed"])
def test_a_restore_killed_while_it_waits_for_an_applications_lock_leaves_the_lock_queue(database, env, tmp_path,
                                                                                        whole_tree):
    """The restore's transaction waits for a lock an application holds when the wrapper and every
    tool it started die at once (a stopped container), or the wrapper alone is SIGKILLed (the OOM
    killer picks the largest process; a CI runner kills the PID it started). The restore's session
    asks the server to check its client every second, and psql, in a session of its own that no
    signal to the wrapper's group reaches, dies with the wrapper: the request leaves the lock queue
    at once, rather than holding up the application's statements on the table behind it until the
    application lets go, then reloading tables for nobody. `recover` then restores."""
    ini = project(tmp_path, env, FAILS_AT_ONCE)
    before = fingerprint(database)
    holder = database.connect()
    holder.autocommit = False
    holder.cursor().execute("LOCK TABLE notes IN ROW EXCLUSIVE MODE")    # as an open write transaction does
    wrapper = start_upgrade(ini, env)
    try:
        [[restoring]] = wait_for(lambda: database.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND pid <> %s", (holder.get_backend_pid(),)), "the restore to wait for the application's lock")
        tools = [pid for pid in _process_tree(wrapper.pid) if pid != wrapper.pid]
        assert tools, "the restore runs no tool"
        for pid in [wrapper.pid] + (tools if whole_tree else []):
            subprocess.run(["kill", "-KILL", str(pid)], capture_output=True)
        wrapper.communicate()
        wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (restoring,)),
                 "the restore's session to end while the application still holds its lock", timeout=20)
        wait_for(lambda: not [pid for pid in tools if _alive(pid)], "the wrapper's tools to be gone")
    finally:
        holder.rollback()
        holder.close()
    recovered = cli_json(ini, "recover", "--yes", env=env)
    assert recovered["action"] == "restored", recovered
    assert fingerprint(database) == before


@pytest.mark.parametrize("table, waiting", [("audit_log", "pg_dump"), ("notes", "migration_safety")],
                         ids=["pg_dump", "the wrapper's catalog read"])
def test_a_backup_whose_wrapper_alone_is_killed_leaves_the_lock_queue_at_once(database, env, tmp_path, table,
                                                                              waiting):
    """The same before the backup: pg_dump, or the wrapper's own read of the catalog (printing an
    index takes its table's share lock), waits for a lock an application holds (both wait up to a
    minute) when the wrapper is killed. pg_dump dies with the wrapper, and the server checks both
    sessions' clients every second: the request leaves the lock queue at once. (``audit_log`` has no
    index or default, so only pg_dump waits for it.)"""
    ini = project(tmp_path, env, FAILS_AT_ONCE)
    database.sql("CREATE TABLE audit_log (line text)")
    holder = database.connect()
    holder.autocommit = False
    holder.cursor().execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    wrapper = start_upgrade(ini, env)
    try:
        [[session]] = wait_for(lambda: database.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND application_name = %s", (waiting,)), f"{waiting} to wait for the application's lock")
        wrapper.kill()
        wrapper.communicate()
        wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (session,)),
                 f"{waiting}'s session to end while the application still holds its lock", timeout=20)
    finally:
        holder.rollback()
        holder.close()


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_run_killed_while_its_revision_waits_does_not_stay_in_the_lock_queue(database, env, tmp_path):
    """SIGKILL of the wrapper while a revision waits for a lock (a cancelled CI job): the server
    notices the vanished client within seconds and ends the revision's transaction, instead of
    leaving it queued for the lock (where it would block the application's statements behind it)
    until the lock timeout, then running the rest of the revision for nobody."""
    ini = project(tmp_path, env)
    holder = hold_notes(database)
    wrapper = start_upgrade(ini, env)
    try:
        [[waiting]] = wait_for(lambda: migration_waiting(database), "the migration to wait for the lock")
        wrapper.kill()
        wrapper.communicate()
        wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (waiting,)),
                 "the server to end the killed run's session while the lock is still held", timeout=20)
    finally:
        holder.close()
