"""The backup key handled as a key (issue 21 item 7): too short, in a directory or file another
user owns or can write, inside the backup directory, or missing while backups signed with it
exist. Each is refused before anything changes (exit 2, one line), proven by the database's
fingerprint and the files left behind; a missing key is never silently re-created."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness import backup_files, fingerprint, run_cli

EXIT_USAGE = 2


@pytest.fixture
def key_file(env, shared_root) -> Path:
    """A key file of this test's own (the suite's key is shared by every test)."""
    env["XDG_CONFIG_HOME"] = str(shared_root / "config")
    return shared_root / "config" / "migration_safety" / "backup.key"


def write_key(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.write_text(key + "\n")
    os.chmod(path, 0o600)


def refused_upgrade(database, env, tmp_path, expected: str):
    """An upgrade refused on the key, in one line, before any change or backup."""
    before = fingerprint(database)
    result = run_cli("upgrade", env=env)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert fingerprint(database) == before
    assert not backup_files(tmp_path / "backups")
    return errors[0]


def test_a_key_shorter_than_32_bytes_is_refused(database, env, tmp_path, key_file):
    env["MIGRATION_BACKUP_KEY"] = "a" * 31
    refused_upgrade(database, env, tmp_path, "31 bytes; a key needs at least 32")
    del env["MIGRATION_BACKUP_KEY"]
    write_key(key_file, "b" * 20)
    refused_upgrade(database, env, tmp_path, "20 bytes; a key needs at least 32")
    env["MIGRATION_BACKUP_KEY"] = "c" * 32
    assert run_cli("upgrade", env=env).returncode == 0


@pytest.mark.parametrize("exposure", ["directory-of-nobody", "directory-writable-by-others", "file-of-nobody",
                                      "file-readable-by-others"])
def test_a_key_another_user_could_read_or_replace_is_refused(database, env, tmp_path, key_file, exposure):
    write_key(key_file, "k" * 64)
    os.chmod(key_file.parent.parent, 0o755)
    if exposure == "directory-of-nobody":
        shutil.chown(key_file.parent, "nobody")
        expected = f"backup key directory {key_file.parent} is owned by nobody"
    elif exposure == "directory-writable-by-others":
        os.chmod(key_file.parent, 0o777)
        expected = f"backup key directory {key_file.parent} is writable by others"
    elif exposure == "file-of-nobody":
        shutil.chown(key_file, "nobody")                           # a key another user can rewrite
        expected = "owner nobody"
    else:
        os.chmod(key_file, 0o644)
        expected = "mode 644"
    refused_upgrade(database, env, tmp_path, expected)


def test_a_key_inside_the_backup_directory_is_refused(database, env, tmp_path):
    inside = tmp_path / "backups" / "backup.key"
    write_key(inside, "k" * 64)
    os.chmod(inside.parent, 0o700)
    env["MIGRATION_BACKUP_KEY_FILE"] = str(inside)
    refused_upgrade(database, env, tmp_path, "is inside the backup directory")
    refused = run_cli("backups", "list", env=env)
    assert refused.returncode == EXIT_USAGE and "is inside the backup directory" in refused.stderr


def test_a_missing_key_is_not_recreated_while_signed_backups_exist(database, env, tmp_path, key_file):
    assert run_cli("upgrade", "--revision", "002", env=env).returncode == 0    # makes the key, signs a backup
    [signed] = backup_files(tmp_path / "backups")
    key_file.unlink()
    line = refused_upgrade_after_backup(database, env, tmp_path, [signed])
    assert "the backup key is missing" in line and "1 backup(s)" in line and "cannot be verified" in line
    assert "--trust-unsigned-backup" in line and "token_hex" in line
    assert not key_file.exists()
    listed = run_cli("backups", "list", env=env)                               # reading creates nothing either
    assert listed.returncode == 0 and not key_file.exists()
    # a directory without signed backups starts a key as before
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "fresh")
    assert run_cli("upgrade", env=env).returncode == 0 and key_file.exists()


def refused_upgrade_after_backup(database, env, tmp_path, existing: list) -> str:
    before = fingerprint(database)
    result = run_cli("upgrade", env=env)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert fingerprint(database) == before
    assert backup_files(tmp_path / "backups") == existing
    return errors[0]
