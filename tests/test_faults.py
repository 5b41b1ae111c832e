"""Faults outside the normal failure path, injected for real: a pg_restore that dies part-way
through its output, ... Each test proves the end state with the fingerprint: the database is
either exactly as before or exactly where the tool says it left it — never half restored."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, backup_files, fingerprint, new_database, run_cli, wait_for

EXIT_FAILED, EXIT_ATTENTION = 1, 4


def real_tool(name: str) -> str:
    from migration_safety.postgres.tools import find_tools

    return find_tools([name])[name].path


def pg_restore_cut_in_items(bin_dir: Path, then: str) -> Path:
    """A bin directory whose pg_restore writes the restore script of the archive it is given up to
    100 lines into the data of table ``items`` (a line boundary between two rows), then runs the
    shell command ``then``. Listing and schema-only runs pass through untouched."""
    bin_dir.mkdir()
    for name in ("pg_dump", "psql"):
        (bin_dir / name).symlink_to(real_tool(name))
    stand_in = bin_dir / "pg_restore"
    stand_in.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        real={real_tool("pg_restore")}
        for arg in "$@"; do
            case "$arg" in --list|-l|--version|-V|--schema-only|-s) exec "$real" "$@";; esac
        done
        out=$(mktemp)
        "$real" "$@" > "$out"
        line=$(grep -n '^COPY public.items ' "$out" | head -n 1 | cut -d: -f1)
        if [ -z "$line" ]; then cat "$out"; rm -f "$out"; exit 0; fi
        head -n $((line + 100)) "$out"
        rm -f "$out"
        {then}
        """))
    stand_in.chmod(0o755)
    return bin_dir


@pytest.fixture
def dying_pg_restore(tmp_path) -> Path:
    """pg_restore killed (SIGKILL, exit 137 — the OOM killer) 100 lines into the data of ``items``."""
    return pg_restore_cut_in_items(tmp_path / "pg_bin", "kill -9 $$")


ITEMS = revision("a1", None, """
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
    op.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g")
    op.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
""", 'op.execute("DROP TABLE notes"); op.execute("DROP TABLE items")')
RELABEL = revision("b2", "a1", """
    op.execute("UPDATE items SET label = 'relabelled ' || id")
    op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
""")
FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO notes VALUES (1, 'duplicate key: fails')")
""")


def items_project(tmp_path) -> Path:
    return make_project(tmp_path / "project", {"a1.py": ITEMS, "b2.py": RELABEL, "c3.py": FAILS},
                        transaction_per_migration=True)


def upgrade(ini: Path, env: dict, *args, expect: int = 0) -> dict:
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return json.loads(result.stdout)


# -- 1. a restore commits all or nothing, whatever happens to pg_restore --------------------------

@pytest.mark.parametrize("selective", ["on", "off"])
def test_automatic_restore_with_a_dying_pg_restore_leaves_no_half_restore(database, env, tmp_path, pg_cluster,
                                                                           dying_pg_restore, selective):
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    before = fingerprint(database)

    env.update(MIGRATION_PG_BIN_DIR=str(dying_pg_restore), MIGRATION_SELECTIVE_RESTORE=selective)
    payload = upgrade(ini, env, expect=EXIT_ATTENTION)
    assert payload["status"] == "failed-restore-failed", payload
    assert "rolled back" in payload["message"]

    # Exactly the state the failed run left (b2 committed), proven against a database that was
    # only ever upgraded to b2 — not a mix of that and the backup.
    reference = new_database(pg_cluster)
    try:
        reference_env = {**reference.env(), "MIGRATION_BACKUP_DIR": str(tmp_path / "reference_backups")}
        upgrade(ini, reference_env, "--revision", "b2")
        assert fingerprint(database) == fingerprint(reference)
    finally:
        pg_cluster.drop_database(reference.name)

    # and with a working pg_restore the backup taken before the run brings everything back
    env.pop("MIGRATION_PG_BIN_DIR")
    restored = run_cli("--config", str(ini), "restore", "--backup", payload["backup"], "--yes", env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert fingerprint(database) == before


def test_manual_restore_with_a_dying_pg_restore_changes_nothing(database, env, tmp_path, dying_pg_restore):
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    upgrade(ini, env, "--revision", "b2")                  # its backup holds items at a1
    database.sql("INSERT INTO items VALUES (5000, 'after the backup'); CREATE TABLE scratch (id int)")
    changed = fingerprint(database)

    env["MIGRATION_PG_BIN_DIR"] = str(dying_pg_restore)
    result = run_cli("--config", str(ini), "restore", "--backup", "latest", "--yes", env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "rolled back" in result.stderr
    assert fingerprint(database) == changed


def test_restore_into_a_new_database_with_a_dying_pg_restore_leaves_nothing(database, env, tmp_path,
                                                                            dying_pg_restore, pg_cluster):
    env["MIGRATION_BACKUP_SCOPE"] = "full"     # restore --target-db needs a whole-database backup
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    upgrade(ini, env, "--revision", "b2")
    before = fingerprint(database)
    copy = f"{database.name}_copy"
    env["MIGRATION_PG_BIN_DIR"] = str(dying_pg_restore)
    result = run_cli("--config", str(ini), "restore", "--backup", "latest", "--target-db", copy, "--yes", env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert not pg_cluster.database_exists(copy)
    assert fingerprint(database) == before


def test_restore_of_a_killed_wrapper_is_rolled_back_and_leaves_nothing_behind(database, env, tmp_path, pg_cluster):
    """SIGKILL of the wrapper while its restore waits for a lock: the restore's psql must not
    commit anything afterwards, no tool may live on, and no temporary file may stay."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env.update(TMPDIR=str(scratch), MIGRATION_SELECTIVE_RESTORE="off")
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")

    holder = database.connect()
    holder.autocommit = False
    holder.cursor().execute("SELECT 1 FROM items LIMIT 1")         # ACCESS SHARE: the restore's DROP waits
    wrapper = subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"),
                                "--config", str(ini), "upgrade"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        def restore_waiting():
            return database.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                " AND application_name = 'psql' AND wait_event_type = 'Lock'")
        [(psql_pid,)] = wait_for(restore_waiting, "the restore to wait for the lock")
        tools = psutil.Process(wrapper.pid).children(recursive=True)
        assert "psql" in {tool.name() for tool in tools}
        wrapper.kill()
        wrapper.wait()
    finally:
        holder.rollback()
        holder.close()
    wait_for(lambda: not database.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (psql_pid,)),
             "the restore's session to end")

    reference = new_database(pg_cluster)
    try:
        upgrade(ini, {**reference.env(), "MIGRATION_BACKUP_DIR": str(tmp_path / "ref")}, "--revision", "b2")
        assert fingerprint(database) == fingerprint(reference)      # b2's commit stands; no restore half-done
    finally:
        pg_cluster.drop_database(reference.name)
    assert list(scratch.iterdir()) == []
    _, alive = psutil.wait_procs(tools, timeout=30)
    assert alive == []


def test_bytes_that_differ_from_the_recorded_hash_are_never_committed(database, env, tmp_path):
    """Same size, other bytes (a rewrite in place of the checked archive): the restore hashes what
    it feeds pg_restore and rolls back instead of committing."""
    from migration_safety.config.settings import DatabaseSettings
    from migration_safety.base.errors import RestoreError
    from migration_safety.postgres.tools import find_tools
    from migration_safety.backup.restore import OpenedArchive, restore_in_place

    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    upgrade(ini, env, "--revision", "b2")                  # its backup holds items at a1
    changed = fingerprint(database)
    [archive] = backup_files(tmp_path / "backups")[-1:]
    settings = DatabaseSettings(host=database.host, port=database.port, database=database.name,
                                user=database.user, password=database.password)
    tools = find_tools(("pg_dump", "pg_restore", "psql"))
    with OpenedArchive(archive, expected_sha256="0" * 64, expected_size=archive.stat().st_size) as opened:
        with pytest.raises(RestoreError, match="SHA-256"):
            restore_in_place(settings, opened, pg_restore=tools["pg_restore"], psql=tools["psql"],
                             pg_dump=tools["pg_dump"], preserved_schemas=("migration_safety",))
    assert fingerprint(database) == changed


@pytest.fixture
def pausing_pg_restore(tmp_path) -> Path:
    """pg_restore that writes half of the data of ``items`` and then waits until it is killed: a
    restore caught mid-way."""
    return pg_restore_cut_in_items(tmp_path / "pg_bin_pausing", "exec sleep 600")


def test_restore_into_a_new_database_waits_for_the_migration_lock(database, env, tmp_path, pg_cluster):
    """restore --target-db takes the same migration lock as every restore: while another run holds
    it, nothing is created."""
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    copy = f"{database.name}_copy"
    holder = database.connect()          # another run's migration lock
    holder.cursor().execute("SELECT pg_advisory_lock(%s, hashtext(current_database()))", (0x4D534146,))
    try:
        result = run_cli("--config", str(ini), "restore", "--backup", "latest", "--target-db", copy, "--yes",
                         "--lock-wait", "0", env=env)
    finally:
        holder.close()
    assert result.returncode != 0, result.stdout + result.stderr
    assert "lock" in result.stderr
    assert not pg_cluster.database_exists(copy)


def test_a_killed_restore_into_a_new_database_is_journaled_and_recover_drops_it(database, env, tmp_path, pg_cluster,
                                                                                pausing_pg_restore):
    """SIGKILL of the wrapper while it restores into a new database: the journal of the configured
    database says so (status), an upgrade of the configured database is not blocked by it (that
    database was never changed), and `recover` drops the partly restored database."""
    env["MIGRATION_BACKUP_SCOPE"] = "full"     # restore --target-db needs a whole-database backup
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    upgrade(ini, env, "--revision", "b2")
    before = fingerprint(database)
    copy = f"{database.name}_copy"
    slow = dict(env, MIGRATION_PG_BIN_DIR=str(pausing_pg_restore))
    wrapper = subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"), "--config",
                                str(ini), "restore", "--backup", "latest", "--target-db", copy, "--yes"], env=slow,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(p.name() == "sleep" for p in psutil.Process(wrapper.pid).children(recursive=True)),
                 "the restore to be half-way")
        for process in psutil.Process(wrapper.pid).children(recursive=True) + [psutil.Process(wrapper.pid)]:
            process.kill()
    finally:
        wrapper.wait(timeout=30)
    assert pg_cluster.database_exists(copy)

    status = json.loads(run_cli("--config", str(ini), "--format", "json", "status", env=env).stdout)
    [entry] = status["unfinished_runs"]
    assert entry["command"] == "restore-into" and entry["target"] == copy

    # not refused as "needs attention" (exit 4): c3 runs, fails and is rolled back (exit 1)
    assert upgrade(ini, env, expect=EXIT_FAILED)["status"] == "failed-rolled-back"
    recovered = run_cli("--config", str(ini), "recover", "--yes", env=env)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert not pg_cluster.database_exists(copy)
    status = json.loads(run_cli("--config", str(ini), "--format", "json", "status", env=env).stdout)
    assert status["unfinished_runs"] == []
    assert fingerprint(database) == before


# -- the backup file disappears between the backup and the restore -------------------------------

_REMOVE_BACKUP_FILES = ("for name in os.listdir(directory):\n"
                        "        if name.startswith('backup_'):\n"
                        "            os.remove(os.path.join(directory, name))")


@pytest.mark.parametrize("removal, selective", [(_REMOVE_BACKUP_FILES, "on"), ("shutil.rmtree(directory)", "off")],
                         ids=["file-deleted-selective", "directory-removed-full"])
def test_the_automatic_restore_reads_the_backup_held_open_when_its_file_is_gone(database, env, tmp_path, removal,
                                                                                 selective):
    """b2 deletes the backup (its files, or the whole directory) and commits; c3 fails. The restore
    reads the archive through the descriptor opened when the backup was verified: the database ends
    exactly as before the run."""
    vanishing = revision("b2", "a1", f"""
    import os, shutil
    op.execute("UPDATE items SET label = 'relabelled ' || id")
    op.execute("INSERT INTO notes VALUES (1, 'written by b2')")
    directory = os.environ["MIGRATION_BACKUP_DIR"]
    {removal}
""")
    ini = make_project(tmp_path / "project", {"a1.py": ITEMS, "b2.py": vanishing, "c3.py": FAILS},
                       transaction_per_migration=True)
    upgrade(ini, env, "--revision", "a1")
    before = fingerprint(database)
    env["MIGRATION_SELECTIVE_RESTORE"] = selective
    payload = upgrade(ini, env, "--allow-unsafe", expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored", payload
    assert not Path(payload["backup"]).exists()                # really gone: read through the descriptor
    assert fingerprint(database) == before


# -- objects owned by a role the tool's role is not a member of ----------------------------------

def test_an_object_a_restore_could_not_replace_is_refused_before_the_run(database, env, tmp_path, pg_cluster):
    """A table owned by another role: a full restore could not drop it, so the run is refused
    before anything changes, naming the table and the privilege; with that privilege granted, a
    failed run is restored exactly (the full restore, selective off)."""
    ini = items_project(tmp_path)
    upgrade(ini, env, "--revision", "a1")
    owner = f"owner_{database.name}"
    pg_cluster.execute(f"CREATE ROLE {owner}; CREATE TABLE public.ledger (id int PRIMARY KEY);"
                       f" INSERT INTO public.ledger VALUES (1), (2); ALTER TABLE public.ledger OWNER TO {owner};"
                       " GRANT ALL ON public.ledger TO app_user", dbname=database.name)
    try:
        before = fingerprint(database)
        backups_before = backup_files(tmp_path / "backups")
        refused = run_cli("--config", str(ini), "upgrade", env={**env, "MIGRATION_SELECTIVE_RESTORE": "off"})
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "public.ledger" in refused.stderr and f"GRANT {owner} TO app_user" in refused.stderr
        assert fingerprint(database) == before and backup_files(tmp_path / "backups") == backups_before

        pg_cluster.execute(f"GRANT {owner} TO app_user", dbname=database.name)
        refused = run_cli("--config", str(ini), "upgrade", env=env)    # pg_restore's OWNER TO needs CREATE
        assert refused.returncode == 2 and f"GRANT CREATE ON SCHEMA public TO {owner}" in refused.stderr, \
            refused.stdout + refused.stderr
        pg_cluster.execute(f"GRANT CREATE ON SCHEMA public TO {owner}", dbname=database.name)
        before = fingerprint(database)
        payload = upgrade(ini, {**env, "MIGRATION_SELECTIVE_RESTORE": "off"}, "--allow-unsafe", expect=EXIT_FAILED)
        assert payload["status"] == "failed-restored" and payload["restore_mode"] == "full", payload
        assert fingerprint(database) == before
        assert database.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'ledger'") == [(owner,)]
    finally:
        pg_cluster.execute(f"DROP TABLE IF EXISTS public.ledger; DROP OWNED BY {owner}; DROP ROLE {owner}",
                           dbname=database.name)
