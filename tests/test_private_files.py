"""Issue 21 item 6: the cache folder, the folder the backup key is created in and the log file are
private, and no write follows a link. Each test performs the attack — another OS user (`nobody`)
planting links or files in a shared folder, or a umask of 000 — and proves from the files it
leaves that it fails."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import run_cli

ITEMS = revision("a1", None, 'op.execute("CREATE TABLE items (id int)")', 'op.execute("DROP TABLE items")')
ROOT_ONLY = "owned by root, mode 0600: must never be overwritten\n"


def as_nobody(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "nobody", "--", *argv], check=True, capture_output=True)


@pytest.fixture
def root_only_file(tmp_path) -> Path:
    target = tmp_path / "root_only.txt"
    target.write_text(ROOT_ONLY)
    target.chmod(0o600)
    return target


@pytest.fixture
def ini(tmp_path) -> Path:
    return make_project(tmp_path / "project", {"a1.py": ITEMS})


def upgrade(ini: Path, env: dict, *args) -> subprocess.CompletedProcess:
    return run_cli("--config", str(ini), *args, "upgrade", env=env)


def test_cache_and_key_folders_are_private_whatever_the_umask(database, ini, tmp_path):
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), XDG_CACHE_HOME=str(tmp_path / "cache" / "deep"),
               XDG_CONFIG_HOME=str(tmp_path / "config" / "deep"))
    env.pop("MIGRATION_BACKUP_KEY", None)
    previous = os.umask(0)
    try:
        result = upgrade(ini, env)
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stdout + result.stderr
    cache = tmp_path / "cache" / "deep" / "migration_safety"
    key = tmp_path / "config" / "deep" / "migration_safety" / "backup.key"
    assert (cache / "tool_versions.json").is_file() and key.is_file()
    for folder in (cache, cache.parent, cache.parent.parent, key.parent, key.parent.parent, key.parent.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (*cache.iterdir(), key):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_cache_folder_others_can_write_is_neither_read_nor_written(database, ini, tmp_path, shared_root,
                                                                   root_only_file):
    cache = shared_root / "cache" / "migration_safety"
    cache.mkdir(parents=True)
    cache.chmod(0o777)                  # what the old code left under umask 000
    as_nobody("ln", "-s", str(root_only_file), str(cache / "tool_versions.json"))
    planted = set(os.listdir(cache))
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), XDG_CACHE_HOME=str(shared_root / "cache"))

    result = upgrade(ini, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"not using {cache}: it can be written by other users" in result.stderr
    assert root_only_file.read_text() == ROOT_ONLY
    assert set(os.listdir(cache)) == planted            # nothing written there


def test_a_cache_folder_of_another_user_is_not_used(database, ini, tmp_path, shared_root, root_only_file):
    cache = shared_root / "cache" / "migration_safety"
    cache.mkdir(parents=True)
    shutil.chown(cache, "nobody")
    cache.chmod(0o755)
    forged = {"anything": [99, "99.0"]}
    as_nobody("sh", "-c", f"echo '{json.dumps(forged)}' > {cache}/tool_versions.json")
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), XDG_CACHE_HOME=str(shared_root / "cache"))

    result = upgrade(ini, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "belongs to another user" in result.stderr
    assert json.loads((cache / "tool_versions.json").read_text()) == forged


def test_a_link_in_our_own_cache_folder_is_replaced_not_written_through(tmp_path, root_only_file, monkeypatch):
    from migration_safety.base.cache_files import read_cache, write_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "migration_safety"
    cache.mkdir(parents=True, mode=0o700)
    (cache / "tool_versions.json").symlink_to(root_only_file)
    assert read_cache("tool_versions.json") == {}        # a link is not read either
    write_cache("tool_versions.json", {"k": 1})
    assert root_only_file.read_text() == ROOT_ONLY
    assert not (cache / "tool_versions.json").is_symlink()
    assert read_cache("tool_versions.json") == {"k": 1}


def test_the_log_file_is_never_a_link_nor_another_users_file(database, ini, tmp_path, shared_root, root_only_file):
    logs = shared_root / "logs"
    logs.mkdir()
    shutil.chown(logs, "nobody")
    as_nobody("ln", "-s", str(root_only_file), str(logs / "linked.jsonl"))
    as_nobody("touch", str(logs / "theirs.jsonl"))
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"))
    for name, reason in (("linked.jsonl", "symbolic link"), ("theirs.jsonl", "not a regular file of your own")):
        env["MIGRATION_LOG_FILE"] = str(logs / name)
        result = upgrade(ini, env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert reason in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert root_only_file.read_text() == ROOT_ONLY
    assert (logs / "theirs.jsonl").read_text() == ""
