"""Fixtures: a real PostgreSQL cluster for the whole session (started here, in a temp dir,
as the postgres user when we are root; one per xdist worker) and a fresh database per test."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import harness  # noqa: F401  (puts migrations/, the repo root and scripts/ on sys.path)
from harness import APP_PASSWORD, APP_USER, new_database

import local_postgres


@pytest.fixture(scope="session", autouse=True)
def private_backup_key_home():
    """The backup key is created on first use in $XDG_CONFIG_HOME: keep the suite's out of the
    real home (the CLI subprocesses inherit this environment)."""
    home = tempfile.mkdtemp(prefix="migration_safety_config_")
    previous = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = home
    try:
        yield Path(home)
    finally:
        if previous is None:
            os.environ.pop("XDG_CONFIG_HOME", None)
        else:
            os.environ["XDG_CONFIG_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """Under pytest-xdist (scripts/run_tests.sh) a session is one worker's: each worker has a
    cluster of its own (own folder, own free port), so tests that restart the server, change a
    role or fill a database never meet another worker's tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    root = Path(tempfile.mkdtemp(prefix=f"migration_safety_pg_{worker}_"))
    os.chmod(root, 0o755)
    cluster = local_postgres.start_cluster(root / "data", fast=True)
    try:
        cluster.create_role(APP_USER, APP_PASSWORD)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database(pg_cluster):
    db = new_database(pg_cluster)
    try:
        yield db
    finally:
        pg_cluster.drop_database(db.name)


@pytest.fixture
def env(database, tmp_path):
    """The CLI's environment for ``database``, with a backup directory of the test's own."""
    environment = database.env()
    environment["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    return environment


# Under pytest-xdist with --dist loadgroup (scripts/run_tests.sh) tests go one by one to whichever
# worker is free, except those of one xdist_group, which all run on one worker. These modules build
# something expensive once per module (a module-scoped fixture: an installed virtualenv, a
# PostgreSQL 18 server); split over two workers they would build it twice.
ONE_WORKER_MODULES = {"test_packaging.py": "packaging", "test_version_skew.py": "postgres18"}


@pytest.hookimpl(tryfirst=True)          # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        group = ONE_WORKER_MODULES.get(item.path.name)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def shared_root():
    """A folder `nobody` can reach (pytest's tmp_path is private to root), for the attacks a
    second local user performs."""
    root = Path(tempfile.mkdtemp(prefix="migration_safety_shared_"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
