"""The database's own record of the backups the tool made of it.

A sidecar's MAC proves who wrote a backup, not that it is the newest one: someone who can move
files in a shared backup directory can hide the newer backups, and a sidecar's ``created_at`` may
lie (a machine with a wrong clock holding the key). So every backup the tool makes is also
recorded, committed, in the wrapper's own schema of the database it is a backup of; ``latest``
is the newest recorded row (by insertion order, not by any clock) and must be found in the
directory with exactly the recorded bytes. Restores keep the wrapper's schema as it is, so the
record survives every restore.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..postgres.tools import query_all, query_one

SCHEMA = "migration_safety"
TABLE = f"{SCHEMA}.backups"


@dataclass(frozen=True)
class RecordedBackup:
    id: int
    file_name: str
    sha256: str
    size_bytes: int
    created_at: _dt.datetime
    database: str

    def describe(self) -> str:
        return f"{self.file_name} (taken {self.created_at.isoformat(timespec='seconds')})"


def ensure_table(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        cursor.execute(f"""
            CREATE TABLE IF NOT EXISTS {TABLE} (
                id bigserial PRIMARY KEY,
                file_name text NOT NULL,
                sha256 text NOT NULL,
                size_bytes bigint NOT NULL,
                created_at timestamptz NOT NULL,
                database text NOT NULL
            )""")


def record(connection, info) -> None:
    """Record a backup just made (a catalog.BackupInfo). The connection must be in autocommit
    mode (the lock session is), so the row is committed whatever the run does next."""
    ensure_table(connection)
    query_one(connection, f"INSERT INTO {TABLE} (file_name, sha256, size_bytes, created_at, database)"
                          " VALUES (%s, %s, %s, %s, %s) RETURNING id",
              (Path(info.file).name, info.sha256, info.size_bytes, info.created_at, info.database))


def recorded(connection, database: str) -> list[RecordedBackup]:
    """The recorded backups of ``database``, oldest first; none when nothing was ever recorded."""
    if not query_one(connection, "SELECT to_regclass(%s) IS NOT NULL", (TABLE,))[0]:
        return []
    rows = query_all(connection, f"SELECT id, file_name, sha256, size_bytes, created_at, database FROM {TABLE}"
                                 " WHERE database = %s ORDER BY id", (database,))
    return [RecordedBackup(*row) for row in rows]


def find(records: list[RecordedBackup], sha256: str) -> Optional[RecordedBackup]:
    """The newest record of these exact bytes."""
    for entry in reversed(records):
        if entry.sha256 == sha256:
            return entry
    return None


def made_after(records: list[RecordedBackup], entry: Optional[RecordedBackup]) -> list[RecordedBackup]:
    """The backups recorded after ``entry`` (all of them when it is not recorded), oldest first."""
    if entry is None:
        return list(records)
    return [later for later in records if later.id > entry.id]
