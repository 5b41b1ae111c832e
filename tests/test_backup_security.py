"""The backup directory as a trust boundary (issue 16 items 1, 2, 4, 7) and a backup's origin and
concurrent writers (issue 9 items 5, 6). Each test performs the attack or fault — planting as
another OS user (`nobody`) where it matters — and proves from exit codes, files and the
database's fingerprint that it is refused and changes nothing."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import cli_json, APP_PASSWORD, APP_USER, Database, backup_files, example_project, fingerprint, new_database, run_cli, sidecar_of

import local_postgres


def as_nobody(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "nobody", "--", *argv], check=True, capture_output=True)


def only_backup(directory: Path) -> Path:
    [archive] = backup_files(directory)
    return archive


def newest_backup(directory: Path) -> Path:
    return backup_files(directory)[-1]


def resign(sidecar: Path, **changes) -> None:
    """Change a sidecar as the key holder would (a legitimate backup from elsewhere)."""
    from migration_safety.backup.integrity import load_key, sign_sidecar

    fields = {**json.loads(sidecar.read_text()), **changes}
    sidecar.write_text(json.dumps(sign_sidecar(fields, load_key(create=False))))


# -- 16.1: the backup directory is private or refused ---------------------------------------------

def test_backup_directory_and_files_are_private_whatever_the_umask(database, env, tmp_path):
    previous = os.umask(0)
    try:
        cli_json("upgrade", env=env)
    finally:
        os.umask(previous)
    backups = tmp_path / "backups"
    archive = only_backup(backups)
    assert oct(backups.stat().st_mode & 0o777) == "0o700"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert oct(sidecar_of(archive).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("exposure", ["group-writable", "world-writable", "owned-by-nobody", "nobody's-symlink"])
def test_a_backup_directory_others_can_write_is_refused(database, env, shared_root, exposure):
    real = shared_root / "backups"
    real.mkdir(mode=0o700)
    backup_dir = real
    if exposure == "group-writable":
        os.chmod(real, 0o770)
    elif exposure == "world-writable":
        os.chmod(real, 0o777)
    elif exposure == "owned-by-nobody":
        shutil.chown(real, "nobody")
    else:
        parent = shared_root / "public"
        parent.mkdir()
        os.chmod(parent, 0o1777)                                  # like /tmp
        backup_dir = parent / "backups"
        as_nobody("ln", "-s", str(real), str(backup_dir))
    env["MIGRATION_BACKUP_DIR"] = str(backup_dir)
    before = fingerprint(database)

    upgrade = run_cli("upgrade", env=env)
    assert upgrade.returncode == 2, upgrade.stdout + upgrade.stderr
    expected = {"group-writable": "chmod 700", "world-writable": "chmod 700",
                "owned-by-nobody": "owned by nobody", "nobody's-symlink": "symlink"}[exposure]
    assert expected in upgrade.stderr and "MIGRATION_BACKUP_DIR_SHARED" in upgrade.stderr
    restore = run_cli("restore", "--yes", env=env)
    assert restore.returncode == 2 and expected in restore.stderr
    assert fingerprint(database) == before
    assert not list(real.iterdir())                                 # no backup, no probe written


def test_a_shared_directory_is_accepted_knowingly(database, env, tmp_path):
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)                                    # latest backup: at 002
    os.chmod(tmp_path / "backups", 0o777)
    assert run_cli("restore", "--yes", env=env).returncode == 2
    assert run_cli("health", env=env).returncode == 1
    env["MIGRATION_BACKUP_DIR_SHARED"] = "on"
    assert run_cli("health", env=env).returncode == 0
    assert cli_json("restore", "--yes", env=env)["revision_now"] == ["002"]


# -- 16.2: the sidecar MAC -------------------------------------------------------------------------

def _forged_archive(database: Database, destination: Path) -> None:
    """A real archive of a database holding what an attacker wants restored."""
    database.sql("CREATE TABLE pwned (note text)")
    dump_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    dump_env["PGPASSWORD"] = database.password
    subprocess.run(["pg_dump", "-Fc", "-f", str(destination), "--no-password",
                    f"--dbname=host={database.host} port={database.port} user={database.user} dbname={database.name}"],
                   env=dump_env, check=True)
    database.sql("DROP TABLE pwned")


@pytest.mark.parametrize("mac", ["kept", "removed"])
def test_a_forged_backup_with_a_recomputed_sha256_is_refused(database, env, tmp_path, mac):
    import hashlib

    cli_json("upgrade", env=env)
    archive = only_backup(tmp_path / "backups")
    _forged_archive(database, tmp_path / "forged.dump")
    forged = (tmp_path / "forged.dump").read_bytes()
    archive.write_bytes(forged)                                    # same user, but without the key
    sidecar = sidecar_of(archive)
    meta = json.loads(sidecar.read_text())
    meta.update(sha256=hashlib.sha256(forged).hexdigest(), size_bytes=len(forged))
    if mac == "removed":
        del meta["mac"]
    sidecar.write_text(json.dumps(meta))
    before = fingerprint(database)

    verify = run_cli("--format", "json", "backups", "verify", "latest", env=env)
    assert verify.returncode == 1
    checks = {c["check"]: c["passed"] for c in json.loads(verify.stdout)["checks"]}
    assert checks["signature"] is False and checks["sha256"] is True      # the hash alone would pass
    [row] = cli_json("backups", "list", env=env)["backups"]
    assert row["verified"] is False and row["signature"] == ("invalid" if mac == "kept" else "missing")
    restore = run_cli("restore", "--yes", env=env)
    assert restore.returncode == 1 and "refusing" in restore.stderr and "--trust-unsigned-backup" in restore.stderr
    assert fingerprint(database) == before
    assert not database.sql("SELECT 1 FROM pg_tables WHERE tablename = 'pwned'")
    assert len(backup_files(tmp_path / "backups")) == 1   # not even a pre-restore backup


def test_an_unsigned_backup_of_known_origin_is_restored_only_when_trusted(database, env, tmp_path):
    cli_json("upgrade", "--revision", "002", env=env)
    at_002 = fingerprint(database)
    cli_json("upgrade", env=env)
    sidecar = sidecar_of(newest_backup(tmp_path / "backups"))
    meta = json.loads(sidecar.read_text())
    del meta["mac"]
    sidecar.write_text(json.dumps(meta))
    at_003 = fingerprint(database)
    assert run_cli("restore", "--yes", env=env).returncode == 1
    assert fingerprint(database) == at_003
    restored = cli_json("restore", "--yes", "--trust-unsigned-backup", env=env)
    assert restored["revision_now"] == ["002"] and fingerprint(database) == at_002


def test_backups_move_between_machines_with_the_key(database, env, tmp_path):
    cli_json("upgrade", env=env)
    key = (Path(os.environ["XDG_CONFIG_HOME"]) / "migration_safety" / "backup.key").read_text().strip()
    assert oct((Path(os.environ["XDG_CONFIG_HOME"]) / "migration_safety" / "backup.key").stat().st_mode & 0o777) == "0o600"
    elsewhere = dict(env, XDG_CONFIG_HOME=str(tmp_path / "other_machine_config"))
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "backups", moved)
    elsewhere["MIGRATION_BACKUP_DIR"] = str(moved)
    assert run_cli("backups", "verify", env=elsewhere).returncode == 1           # no key there
    assert cli_json("backups", "list", env=elsewhere)["backups"][0]["signature"] == "no-key"
    wrong = dict(elsewhere, MIGRATION_BACKUP_KEY="another machine's key, not shared")
    assert cli_json("backups", "list", env=wrong)["backups"][0]["signature"] == "invalid"
    shared = dict(elsewhere, MIGRATION_BACKUP_KEY=key)
    assert cli_json("backups", "verify", env=shared)["ok"] is True
    assert cli_json("backups", "list", env=shared)["backups"][0]["verified"] is True


# -- 16.4: no planted link is followed -------------------------------------------------------------

def test_links_planted_by_another_user_redirect_nothing(database, env, shared_root):
    backups = shared_root / "backups"
    backups.mkdir()
    env["MIGRATION_BACKUP_DIR"] = str(backups)
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)                                    # the real latest backup: at 002
    os.chmod(backups, 0o777)
    env["MIGRATION_BACKUP_DIR_SHARED"] = "on"
    victim = shared_root / "victim.txt"
    victim.write_text("precious\n")
    # every name a backup written in the next minute could use, and the old fixed temporary names
    now = dt.datetime.now().astimezone()
    links = []
    for offset in range(-2, 90):
        stamp = (now + dt.timedelta(seconds=offset)).strftime("%Y%m%d_%H%M%S")
        for name in (f"backup_{stamp}.json", f".backup_{stamp}.json.tmp", f"backup_{stamp}.dump"):
            if not os.path.lexists(backups / name):
                links.append(f"ln -s '{victim}' '{backups / name}'\n")
    script = shared_root / "plant.sh"
    script.write_text("set -e\n" + "".join(links))
    as_nobody("sh", str(script))
    # newer "backups": a link to an archive elsewhere, and a copy of it that nobody owns
    _forged_archive(database, shared_root / "forged.dump")
    os.chmod(shared_root / "forged.dump", 0o644)
    planted = backups / "backup_29991231_000000.dump"
    as_nobody("ln", "-s", str(shared_root / "forged.dump"), str(planted))
    foreign = backups / "backup_29991231_000001.dump"
    as_nobody("cp", str(shared_root / "forged.dump"), str(foreign))

    listed = run_cli("--format", "json", "backups", "list", env=env)
    assert listed.returncode == 0 and planted.name not in listed.stdout and foreign.name not in listed.stdout
    assert f"ignoring {planted}" in listed.stderr and f"ignoring {foreign}" in listed.stderr
    restored = run_cli("--format", "json", "restore", "--yes", env=env)   # backs up the current state first
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["revision_now"] == ["002"]
    assert victim.read_text() == "precious\n"
    assert not database.sql("SELECT 1 FROM pg_tables WHERE tablename = 'pwned'")
    by_link = run_cli("restore", "--yes", "--backup", str(planted), env=env)
    assert by_link.returncode == 2 and "not a regular file" in by_link.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("002",)]


def test_a_backup_outside_the_directory_must_be_a_verified_regular_file(database, env, tmp_path):
    # carried as archive + sidecar and restored whole (a scoped backup also needs its photograph)
    env["MIGRATION_BACKUP_SCOPE"] = "full"
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)
    archive = newest_backup(tmp_path / "backups")
    outside = tmp_path / "carried"
    outside.mkdir()
    copy = outside / archive.name
    shutil.copy(archive, copy)
    shutil.copy(sidecar_of(archive), sidecar_of(copy))
    (outside / "link.dump").symlink_to(copy)
    assert run_cli("restore", "--yes", "--backup", str(outside / "link.dump"), env=env).returncode == 2
    result = run_cli("--format", "json", "restore", "--yes", "--backup", str(copy), env=env)
    assert result.returncode == 0, result.stderr
    assert "outside the backup directory" in result.stderr
    assert "outside the backup directory" in json.loads(result.stdout)["note"]
    assert database.sql("SELECT version_num FROM alembic_version") == [("002",)]


# -- 16.7: malformed sidecars ------------------------------------------------------------------------

HOSTILE_SIDECARS = {
    "backup_29990101_000001": "[1, 2, 3]",
    "backup_29990101_000002": "not json at all",
    "backup_29990101_000003": None,        # naive created_at
    "backup_29990101_000004": None,        # a string where a number belongs
    "backup_29990101_000005": None,        # 300 MB
}


def test_malformed_sidecars_are_skipped_with_a_warning_and_never_latest(database, env, tmp_path):
    cli_json("upgrade", "--revision", "002", env=env)
    at_002 = fingerprint(database)
    cli_json("upgrade", env=env)                                   # the newest valid backup: at 002
    backups = tmp_path / "backups"
    real = newest_backup(backups)
    meta = json.loads(sidecar_of(real).read_text())
    for stem, text in HOSTILE_SIDECARS.items():
        shutil.copy(real, backups / f"{stem}.dump")
        sidecar = backups / f"{stem}.json"
        if stem.endswith("3"):
            text = json.dumps({**meta, "created_at": "2999-01-01T00:00:03"})
        elif stem.endswith("4"):
            text = json.dumps({**meta, "size_bytes": "12345"})
        if text is None:
            sidecar.write_bytes(b"")
            os.truncate(sidecar, 300 * 1024 * 1024)
        else:
            sidecar.write_text(text)

    for command in (("status",), ("health",), ("backups", "list")):
        result = run_cli("--format", "json", *command, env=env)
        assert result.returncode == 0, (command, result.stdout + result.stderr)
        for stem in HOSTILE_SIDECARS:
            assert f"{stem}.json" in result.stderr, (command, result.stderr)
    assert json.loads(run_cli("--format", "json", "status", env=env).stdout)["last_backup"]["file"] == str(real)
    listed = {row["file"]: row["verified"] for row in cli_json("backups", "list", env=env)["backups"]}
    assert listed[real.name] is True and not any(listed[f"{stem}.dump"] for stem in HOSTILE_SIDECARS)
    assert "no sidecar is larger" in run_cli("backups", "list", env=env).stderr
    assert cli_json("restore", "--yes", env=env)["revision_now"] == ["002"]      # latest = the valid one
    assert fingerprint(database) == at_002
    upgrade = cli_json("upgrade", env=env)                          # the run estimates from the catalog
    assert upgrade["status"] == "applied"


# -- 9.5: a backup belongs to one server -------------------------------------------------------------

@pytest.fixture
def other_server(shared_root):
    cluster = local_postgres.start_cluster(shared_root / "other" / "data", fast=True)
    try:
        cluster.create_role(APP_USER, APP_PASSWORD)
        yield cluster
    finally:
        cluster.stop()


def _system_identifier(cluster) -> str:
    connection = cluster.admin_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT system_identifier FROM pg_control_system()")
            return str(cursor.fetchone()[0])
    finally:
        connection.close()


def _restore_on_a_terminal(env, answer: str, *args):
    """`restore` with a pseudo-terminal as stdin, ``answer`` typed at its prompt."""
    import pty
    import sys

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve().parent.parent / "migrations" /
                                                    "migration_utils.py"), "restore", *args],
                               stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    os.close(slave)
    os.write(master, (answer + "\n").encode())
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        os.close(master)
    return process.returncode, stderr


def test_a_backup_from_another_server_is_refused_unless_intended(database, env, other_server, tmp_path):
    other_server.create_database(database.name, APP_USER)          # staging: same database name
    staging = Database(other_server, database.name)
    # the staging backup is restored over production as a whole database
    staging_env = dict(staging.env(), MIGRATION_BACKUP_DIR=env["MIGRATION_BACKUP_DIR"], MIGRATION_BACKUP_SCOPE="full")
    cli_json("upgrade", "--revision", "001", env=staging_env)
    cli_json("upgrade", env=staging_env)                           # the staging backup (at 001) is latest
    staging_id = _system_identifier(other_server)
    for row in cli_json("backups", "list", env=env)["backups"]:
        assert staging_id in row["origin"] and row["verified"] is True
    production = fingerprint(database)

    refused = run_cli("restore", "--yes", env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "another server" in refused.stderr and staging_id in refused.stderr
    assert "--allow-other-server" in refused.stderr
    assert fingerprint(database) == production
    code, stderr = _restore_on_a_terminal(env, "not-the-name", "--allow-other-server")
    assert code == 2 and "not confirmed" in stderr
    assert f"server {staging_id}" in stderr                         # the prompt names the origin
    assert fingerprint(database) == production
    intended = cli_json("restore", "--yes", "--allow-other-server", env=env)
    assert intended["revision_now"] == ["001"] and "another server" in intended["other_server"]


def test_a_backup_of_a_dropped_and_recreated_database_needs_the_flag(database, env, pg_cluster):
    env["MIGRATION_BACKUP_SCOPE"] = "full"         # restored whole into the re-created, empty database
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)
    pg_cluster.drop_database(database.name)
    pg_cluster.create_database(database.name, APP_USER)            # same name, another OID
    empty = fingerprint(database)
    refused = run_cli("restore", "--yes", env=env)
    assert refused.returncode == 2 and "another database" in refused.stderr
    assert fingerprint(database) == empty
    assert cli_json("restore", "--yes", "--allow-other-server", env=env)["revision_now"] == ["002"]


def test_server_identity_falls_back_to_the_address_without_pg_control_system(other_server):
    from types import SimpleNamespace

    from migration_safety.postgres.tools import connect, server_identity

    other_server.create_database("fallback", APP_USER)
    # function privileges live in each database's catalog: as a managed platform would have it
    other_server.execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC", dbname="fallback")
    settings = SimpleNamespace(libpq_keywords=lambda: {"host": "127.0.0.1", "port": other_server.port,
                                                        "user": APP_USER, "dbname": "fallback"},
                               password=APP_PASSWORD)
    connection = connect(settings)
    try:
        identity = server_identity(connection)
    finally:
        connection.close()
    assert identity["method"] == "address" and identity["port"] == other_server.port
    assert identity["address"] == "127.0.0.1" and identity["database_oid"] > 0


# -- 9.6: concurrent runs never break each other -----------------------------------------------------

def _slow_tools(root: Path, go: Path) -> Path:
    """A pg_dump that, its dump written, waits for ``go`` before exiting: a backup in progress."""
    real = local_postgres.find_pg_bin_dir()
    tools = root / "slow_bin"
    tools.mkdir()
    (tools / "pg_dump").write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version) exec {real}/pg_dump "$@";; esac\n'
        f'{real}/pg_dump "$@"; status=$?\n'
        f"while [ ! -e {go} ]; do sleep 0.05; done\n"
        "exit $status\n")
    os.chmod(tools / "pg_dump", 0o755)
    for name in ("pg_restore", "psql"):
        (tools / name).symlink_to(real / name)
    return tools


def test_a_second_run_leaves_a_backup_in_progress_alone(database, env, pg_cluster, tmp_path):
    backups = tmp_path / "backups"
    go = tmp_path / "go"
    # the example's copy, as run_cli uses: the checkout's migrations/versions may hold a user's revisions
    first_env = dict(env, MIGRATION_PG_BIN_DIR=str(_slow_tools(tmp_path, go)), ALEMBIC_CONFIG=str(example_project()))
    first = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parent.parent / "migrations" / "migration_utils.py"),
         "--format", "json", "upgrade"], env=first_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(backups.glob(".backup_*.partial")):
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.poll() else ""
            time.sleep(0.05)
        [in_progress] = list(backups.glob(".backup_*.partial"))
        stale = backups / ".backup_killed_run.partial"              # what a SIGKILLed run leaves
        stale.write_bytes(b"half an archive")

        other = new_database(pg_cluster)                             # another database, same directory
        try:
            second = cli_json("upgrade", env=dict(other.env(), MIGRATION_BACKUP_DIR=str(backups)))
            assert second["status"] == "applied"
            assert any(".backup_killed_run.partial" in note for note in second["notes"])
        finally:
            pg_cluster.drop_database(other.name)
        assert in_progress.exists() and not stale.exists()
    finally:
        go.touch()
        stdout, stderr = first.communicate(timeout=180)
    assert first.returncode == 0, stdout + stderr
    assert json.loads(stdout)["status"] == "applied"
    assert database.sql("SELECT version_num FROM alembic_version") == [("003",)]
    assert len(backup_files(backups)) == 2 and not list(backups.glob(".backup_*.partial"))
    for row in cli_json("backups", "list", env=env)["backups"]:
        assert row["verified"] is True


def test_an_archive_naming_roles_this_server_lacks_is_restored_without_ownership_or_grants(database, env,
                                                                                        pg_cluster):
    """Least privilege: the owners and GRANTs of an archive from elsewhere (here: a role that no
    longer exists) are not replayed; everything belongs to the restoring role."""
    # app_user is a member of ghost_owner, which may create in public: a run refuses objects its
    # restore could not replace as they are
    pg_cluster.execute("CREATE ROLE ghost_owner; GRANT ghost_owner TO app_user;"
                       " GRANT CREATE ON SCHEMA public TO ghost_owner", dbname=database.name)
    pg_cluster.execute("CREATE TABLE public.ghost_table (id int); ALTER TABLE public.ghost_table OWNER TO ghost_owner;"
                       " GRANT SELECT ON public.ghost_table TO app_user; INSERT INTO public.ghost_table VALUES (7)",
                       dbname=database.name)
    env["MIGRATION_BACKUP_SCOPE"] = "full"     # ghost_table, outside the run's scope, is restored from it
    cli_json("upgrade", env=env)                                      # its backup holds ghost_table
    pg_cluster.execute("DROP TABLE public.ghost_table; DROP OWNED BY ghost_owner; DROP ROLE ghost_owner",
                       dbname=database.name)
    restored = cli_json("restore", "--backup", "latest", "--yes", env=env)
    assert "ghost_owner" in restored["ownership"] and restored["schema_verified"] is True
    assert database.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'ghost_table'") == [("app_user",)]
    assert database.sql("SELECT id FROM ghost_table") == [(7,)]


def test_verify_reads_every_data_block_not_only_the_table_of_contents(database, env, tmp_path):
    """An archive damaged inside its data whose sidecar matches it (as if pg_dump had written it
    so): the table of contents still lists, but `backups verify` reads every block and fails.
    The custom format's own case: a .dump.zst's damage is caught by zstd's checksum already
    (test_zstd_backups)."""
    import hashlib

    env["MIGRATION_BACKUP_SCOPE"] = "full"         # filler's rows, outside the run's scope, are the damaged data
    env["MIGRATION_BACKUP_FORMAT"] = "custom"

    database.sql("CREATE TABLE filler (id int, body text);"
                 " INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
    cli_json("upgrade", env=env)
    archive = only_backup(tmp_path / "backups")
    data = bytearray(archive.read_bytes())
    middle = len(data) * 3 // 4
    data[middle:middle + 64] = bytes(64)              # zeros in the compressed data of a table
    archive.write_bytes(bytes(data))
    resign(sidecar_of(archive), sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    verify = cli_json("backups", "verify", "latest", env=env, expect=1)
    checks = {check["check"]: check["passed"] for check in verify["checks"]}
    assert checks["sha256"] and checks["signature"] and checks["pg_restore --list"]
    assert checks["data"] is False
