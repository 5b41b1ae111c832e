"""The run journal: what must outlive the wrapper, written before the run changes anything.

A process can die at any instant (SIGKILL, the OOM killer, a reboot, a server crash, its lock
session terminated). Whatever it knew dies with it, so before Alembic runs, one committed row in
the wrapper's own schema says which run this is, which revisions it starts from and goes to,
and which backup was taken before it — its file name, SHA-256 and size, so that ``recover``
restores exactly those bytes and nothing renamed into their place. The row is closed when the
run ends in a state the wrapper reported. A row still open when the next run holds the migration lock is an interrupted run: the
database may be partially migrated, and migrations stop until a person chooses (``recover``
restores the backup taken before it, ``recover --accept`` keeps the database as it is) — as
Flyway's failed schema-history entry blocks migrations until ``repair``.
"""
from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..backup.catalog import pin_for_recover, unpin
from ..postgres.tools import query_all, query_one

SCHEMA = "migration_safety"
TABLE = f"{SCHEMA}.run_journal"

# States of a journal entry. RUNNING and ATTENTION are unfinished: migrations stop until recover.
RUNNING = "running"                 # the run is (or was, if its process is gone) changing the database
ATTENTION = "needs-attention"       # it ended with the database possibly half-migrated (restore failed...)
FINISHED = "finished"               # it ended in a state it reported (applied, rolled back, restored)
RECOVERED = "recovered"             # `recover` restored the backup taken before it
ACCEPTED = "accepted"               # `recover --accept`: a person kept the database as the run left it
UNFINISHED = (RUNNING, ATTENTION)
# The command of a `restore --target-db` entry: its target is the new database, the configured one is untouched.
RESTORE_INTO = "restore-into"


@dataclass
class JournalEntry:
    run_id: str
    command: str
    target: str
    revision_before: list
    backup_file: Optional[str]
    started_at: object
    os_user: str
    hostname: str
    pid: int
    state: str
    detail: Optional[str]
    backup_sha256: Optional[str] = None     # None: written by a version that did not record it
    backup_size: Optional[int] = None

    def describe(self) -> str:
        started = self.started_at.isoformat(timespec="seconds") if hasattr(self.started_at, "isoformat") \
            else str(self.started_at)
        backup = f"backup {self.backup_file}" if self.backup_file else "no backup was taken"
        how = "was interrupted" if self.state == RUNNING else "ended needing attention"
        return (f"run {self.run_id[:8]} ({self.command} from {', '.join(self.revision_before) or 'base'} to "
                f"{self.target}, started {started} by {self.os_user}@{self.hostname} pid {self.pid}) {how}"
                + (f": {self.detail}" if self.detail else "") + f"; {backup}")

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "command": self.command, "target": self.target,
                "revision_before": list(self.revision_before), "backup": self.backup_file,
                "started_at": str(self.started_at), "by": f"{self.os_user}@{self.hostname}", "pid": self.pid,
                "state": self.state, "detail": self.detail, "backup_sha256": self.backup_sha256,
                "backup_size": self.backup_size}


_COLUMNS = ("run_id", "command", "target", "revision_before", "backup_file", "started_at", "os_user", "hostname",
            "pid", "state", "detail", "backup_sha256", "backup_size")


def ensure_table(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        cursor.execute(f"""
            CREATE TABLE IF NOT EXISTS {TABLE} (
                run_id uuid PRIMARY KEY,
                command text NOT NULL,
                target text NOT NULL,
                revision_before text[] NOT NULL,
                backup_file text,
                started_at timestamptz NOT NULL DEFAULT now(),
                os_user text NOT NULL,
                hostname text NOT NULL,
                pid integer NOT NULL,
                state text NOT NULL,
                detail text,
                closed_at timestamptz
            )""")
        # tables made before the backup's bytes were recorded get the columns in place
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS backup_sha256 text")
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS backup_size bigint")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid())


def open_entry(connection, *, command: str, target: str, revision_before, backup=None) -> str:
    """Record, committed, that a run is about to change the database; returns its id. ``backup``
    (a catalog.BackupInfo, None without one) is the backup taken before it. The connection must
    be in autocommit mode (the lock session is)."""
    ensure_table(connection)
    run_id = str(uuid.uuid4())
    query_one(connection,
              f"INSERT INTO {TABLE} (run_id, command, target, revision_before, backup_file, backup_sha256,"
              " backup_size, os_user, hostname, pid, state) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
              " RETURNING run_id",
              (run_id, command, target, list(revision_before), backup.file if backup else None,
               backup.sha256 if backup else None, backup.size_bytes if backup else None, _os_user(),
               socket.gethostname(), os.getpid(), RUNNING))
    if backup is not None:
        pin_for_recover(Path(backup.file), run_id, query_one(connection, "SELECT current_database()")[0])
    return run_id


def close_entry(connection, run_id: str, state: str, detail: Optional[str] = None) -> None:
    """Close (or mark needing attention) the entry; once closed, its backup is no longer needed
    by ``recover`` and retention may remove it like any other."""
    backup_file = query_one(connection, f"UPDATE {TABLE} SET state = %s, detail = %s, closed_at = now()"
                                        " WHERE run_id = %s RETURNING backup_file", (state, detail, run_id))[0]
    if backup_file and state not in UNFINISHED:
        unpin(Path(backup_file))


def unfinished(connection) -> list[JournalEntry]:
    """Entries of runs that did not end in a reported state, oldest first. Read under the
    migration lock, a RUNNING entry belongs to a process that is gone."""
    exists = query_one(connection, "SELECT to_regclass(%s) IS NOT NULL", (TABLE,))[0]
    if not exists:
        return []
    present = {row[0] for row in query_all(
        connection, "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                    " AND NOT attisdropped", (TABLE,))}
    # read without altering: a table of an older version lacks the backup's SHA-256 and size
    columns = [name if name in present else f"NULL AS {name}" for name in _COLUMNS]
    rows = query_all(connection, f"SELECT {', '.join(columns)} FROM {TABLE} WHERE state = ANY(%s)"
                                 " ORDER BY started_at", (list(UNFINISHED),))
    return [JournalEntry(str(row[0]), *row[1:]) for row in rows]
