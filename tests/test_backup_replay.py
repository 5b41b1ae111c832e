"""Backups that are real, signed and intact, but not the ones asked for (issue 21 items 1, 2, 10):
an old backup renamed to the name an interrupted run's journal records, another database's
backup under that name, newer backups hidden so that an older one looks latest, a sidecar dated
in the future, a shared directory holding other databases' backups. The attacker is another OS
user (`nobody`) who can rename files in a shared backup directory; each test proves by the
database's real state (fingerprint, the rows a restore would bring back) that nothing was
rolled back."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import cli_json, backup_files, fingerprint, new_database, run_cli, sidecar_of
from test_interrupted_runs import kill_mid_run, project

EXIT_FAILED, EXIT_USAGE = 1, 2


@pytest.fixture
def env(env, shared_root):
    env["MIGRATION_BACKUP_DIR"] = str(shared_root / "backups")
    env["MIGRATION_LOCK_TIMEOUT"] = "120s"      # kill_mid_run: the migration waits for the test's lock
    return env


def as_nobody(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "nobody", "--", *argv], check=True, capture_output=True)


def share(directory: Path, env: dict) -> None:
    """The directory becomes writable by everyone, accepted knowingly (MIGRATION_BACKUP_DIR_SHARED)."""
    os.chmod(directory, 0o777)
    env["MIGRATION_BACKUP_DIR_SHARED"] = "on"


def move_as_nobody(archive: Path, destination: Path) -> None:
    """Another user moves a backup and its sidecar (both ours: a rename keeps the owner)."""
    as_nobody("mv", "-f", str(archive), str(destination))
    as_nobody("mv", "-f", str(sidecar_of(archive)), str(sidecar_of(destination)))


def interrupted_run_backup(ini, env) -> Path:
    [run] = cli_json("--config", str(ini), "status", env=env)["unfinished_runs"]
    assert run["backup_sha256"] and run["backup_size"]
    return Path(run["backup"])


# -- 21.1: recover restores exactly its run's backup --------------------------------------------------

def test_recover_refuses_an_old_backup_renamed_to_its_runs_backup(database, env, tmp_path, shared_root):
    ini = project(tmp_path, env)                                    # at a1
    database.sql("INSERT INTO notes VALUES (99, 'deleted before the run')")
    old = Path(cli_json("--config", str(ini), "backups", "create", env=env)["backup"])   # holds row 99, at a1
    database.sql("DELETE FROM notes WHERE id = 99")
    kill_mid_run(database, ini, env)
    half = fingerprint(database)
    runs_backup = interrupted_run_backup(ini, env)
    assert runs_backup != old and runs_backup.suffix == old.suffix
    share(shared_root / "backups", env)
    move_as_nobody(old, runs_backup)          # same database, same server, same revision, signed: only the bytes differ

    refused = run_cli("--config", str(ini), "recover", "--yes", env=env)
    assert refused.returncode == EXIT_FAILED, refused.stdout + refused.stderr
    assert f"refusing to recover from {runs_backup.name}" in refused.stderr
    assert "holds other bytes" in refused.stderr
    assert fingerprint(database) == half
    assert not database.sql("SELECT 1 FROM notes WHERE id = 99")           # deleted data stayed deleted
    assert cli_json("--config", str(ini), "status", env=env)["needs_attention"] is True


def test_recover_refuses_another_databases_backup_under_its_runs_backup_name(database, env, tmp_path, shared_root,
                                                                             pg_cluster):
    ini = project(tmp_path, env)
    kill_mid_run(database, ini, env)
    half = fingerprint(database)
    runs_backup = interrupted_run_backup(ini, env)
    other = new_database(pg_cluster)
    try:
        other.sql("CREATE TABLE planted (id int)")
        other_env = dict(other.env(), MIGRATION_BACKUP_DIR=env["MIGRATION_BACKUP_DIR"])
        theirs = Path(cli_json("--config", str(ini), "backups", "create", env=other_env)["backup"])
    finally:
        pg_cluster.drop_database(other.name)
    share(shared_root / "backups", env)
    move_as_nobody(theirs, runs_backup)

    refused = run_cli("--config", str(ini), "recover", "--yes", env=env)
    assert refused.returncode == EXIT_FAILED, refused.stdout + refused.stderr
    assert f"is a backup of database {other.name!r}, not {database.name!r}" in refused.stderr
    assert fingerprint(database) == half
    assert not database.sql("SELECT to_regclass('planted')")[0][0]


def test_recover_restores_its_runs_backup_from_a_journal_table_of_an_older_version(database, env, tmp_path):
    """A journal table made before the backup's SHA-256 was recorded gets the columns in place;
    an entry it holds without them cannot be proven and is refused, saying how to go on."""
    ini = project(tmp_path, env)
    before = fingerprint(database)
    database.sql("ALTER TABLE migration_safety.run_journal DROP COLUMN IF EXISTS backup_sha256,"
                 " DROP COLUMN IF EXISTS backup_size")
    kill_mid_run(database, ini, env)              # writes the entry with the columns added back
    recovered = cli_json("--config", str(ini), "recover", "--yes", env=env)
    assert recovered["action"] == "restored" and fingerprint(database) == before
    kill_mid_run(database, ini, env)
    half = fingerprint(database)
    database.sql("UPDATE migration_safety.run_journal SET backup_sha256 = NULL WHERE state = 'running'")
    refused = run_cli("--config", str(ini), "recover", "--yes", env=env)
    assert refused.returncode == EXIT_FAILED and "records no SHA-256" in refused.stderr, refused.stderr
    assert fingerprint(database) == half


# -- 21.2: latest is the newest backup of this database, recorded in the database --------------------

def test_hiding_the_newer_backups_makes_latest_refuse_not_roll_back(database, env, shared_root):
    backups = shared_root / "backups"
    at_base = fingerprint(database)
    cli_json("upgrade", "--revision", "002", env=env)               # its backup: at base
    cli_json("upgrade", env=env)                                    # its backup: at 002
    at_003 = fingerprint(database)
    old, newest = backup_files(backups)
    share(backups, env)
    hidden = shared_root / "hidden"
    hidden.mkdir()
    shutil.chown(hidden, "nobody")
    move_as_nobody(newest, hidden / newest.name)

    refused = run_cli("restore", "--yes", env=env)
    assert refused.returncode == EXIT_FAILED, refused.stdout + refused.stderr
    assert f"the newest backup of {database.name}, {newest.name}" in refused.stderr and "is not there" in refused.stderr
    assert fingerprint(database) == at_003
    # the old backup renamed to the newest one's name: other bytes under the recorded name
    move_as_nobody(old, newest)
    refused = run_cli("restore", "--yes", env=env)
    assert refused.returncode == EXIT_FAILED and "refusing" in refused.stderr, refused.stdout + refused.stderr
    assert fingerprint(database) == at_003
    # named explicitly, the older backup is restored, saying which later backup's state is lost
    move_as_nobody(newest, old)
    named = run_cli("--format", "json", "restore", "--yes", "--backup", old.name, env=env)
    assert named.returncode == 0, named.stdout + named.stderr
    assert "is older than the newest backup" in named.stderr and newest.name in named.stderr
    assert json.loads(named.stdout)["backups_made_after"] == [newest.name]
    assert fingerprint(database) == at_base


@pytest.mark.parametrize("record", ["recorded", "not-recorded"])
def test_a_future_dated_sidecar_does_not_win_latest(database, env, shared_root, record):
    from test_backup_security import resign

    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)
    at_003 = fingerprint(database)
    cli_json("downgrade", "--revision", "002", env=env)              # its backup (at 003) is the newest
    old = backup_files(shared_root / "backups")[0]                 # at base
    resign(sidecar_of(old), created_at="2999-01-01T00:00:00+00:00")   # a key holder's wrong clock
    if record == "not-recorded":                                    # backups made before the record existed
        database.sql("DROP TABLE migration_safety.backups")
    assert Path(cli_json("backups", "verify", "latest", env=env)["backup"]).name != old.name
    restored = cli_json("restore", "--yes", env=env)
    assert restored["revision_now"] == ["003"] and fingerprint(database) == at_003


@pytest.mark.parametrize("record", ["recorded", "not-recorded"])
def test_latest_in_a_shared_directory_is_this_databases_newest(database, env, shared_root, pg_cluster, record):
    cli_json("upgrade", "--revision", "002", env=env)
    cli_json("upgrade", env=env)                                    # this database's newest: at 002
    other = new_database(pg_cluster)
    try:
        other_env = dict(other.env(), MIGRATION_BACKUP_DIR=env["MIGRATION_BACKUP_DIR"])
        cli_json("backups", "create", env=other_env)                # the directory's newest
    finally:
        pg_cluster.drop_database(other.name)
    share(shared_root / "backups", env)
    if record == "not-recorded":
        database.sql("DROP TABLE migration_safety.backups")
    restored = cli_json("restore", "--yes", env=env)
    assert restored["revision_now"] == ["002"]


# -- 21.10: backups create honours the shared-directory setting -------------------------------------

def test_backups_create_honours_the_shared_directory_setting(database, env, shared_root):
    backups = shared_root / "backups"
    backups.mkdir()
    os.chmod(backups, 0o777)
    refused = run_cli("backups", "create", env=env)
    assert refused.returncode == EXIT_USAGE and "MIGRATION_BACKUP_DIR_SHARED" in refused.stderr
    assert not list(backups.iterdir())
    env["MIGRATION_BACKUP_DIR_SHARED"] = "on"
    created = cli_json("backups", "create", env=env)
    assert Path(created["backup"]).parent == backups and backup_files(backups) == [Path(created["backup"])]
