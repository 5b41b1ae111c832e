"""Fixtures: a real PostgreSQL cluster for the whole session (started here, in a temp dir,
as the postgres user when we are root) and a fresh database per test."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import harness  # noqa: F401  (puts migrations/, the repo root and scripts/ on sys.path)
from harness import APP_PASSWORD, APP_USER, new_database

import local_postgres


@pytest.fixture(scope="session")
def pg_cluster():
    root = Path(tempfile.mkdtemp(prefix="migration_safety_pg_"))
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
