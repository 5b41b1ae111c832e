"""A PostgreSQL advisory lock per database, so two runs never migrate it at once.

The lock is held by a dedicated session for the whole run (backup, migration, restore) and
released when that session ends, even if the process is killed.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator, Optional

from ..base.errors import LockBusyError, MigrationSafetyError
from ..postgres.tools import client_check_settings, connect, query_all, query_one

# classid of the two-key advisory lock: "MSAF"; objid: hashtext(current_database()).
LOCK_NAMESPACE = 0x4D534146


def _holder_description(connection) -> str:
    rows = query_all(
        connection,
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'),"
        " to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = hashtext(current_database())::oid"
        " AND l.granted", (LOCK_NAMESPACE,))
    if not rows:
        return "another session"
    pid, application, client, started = rows[0]
    return f"session pid {pid} ({application or 'unknown application'} from {client}, connected {started})"


def _checking_its_client(connection):
    """The server checks that the run is still there while one of its own statements runs
    (postgres.tools.client_check_settings): a run killed while its read of the catalog waits for a
    table an application has locked (printing an index takes its table's share lock) leaves the
    lock queue at once, not when its lock timeout ends it."""
    for name, value in client_check_settings(connection.server_version // 10000).items():
        query_one(connection, "SELECT pg_catalog.set_config(%s, %s, false)", (name, value))
    return connection


def _try_lock(connection) -> bool:
    return query_one(connection, "SELECT pg_try_advisory_lock(%s, hashtext(current_database()))",
                     (LOCK_NAMESPACE,))[0]


class LockSession:
    """The session holding the database's migration lock. If it is lost — the server restarted
    or the session was terminated — ``regain`` waits (bounded) for the server and takes the lock
    again, so the run can still decide from facts what state it left."""

    def __init__(self, settings, connection) -> None:
        self.settings = settings
        self.connection = connection

    def alive(self) -> bool:
        try:
            query_one(self.connection, "SELECT 1")
            return True
        except Exception:
            return False

    def regain(self, wait_seconds: float) -> Optional[str]:
        """None when the lock is held again; otherwise why not."""
        import psycopg2

        if self.alive():
            return None
        with contextlib.suppress(Exception):
            self.connection.close()
        deadline = time.monotonic() + wait_seconds
        reason = "the server did not come back"
        while time.monotonic() < deadline:
            try:
                connection = _checking_its_client(connect(self.settings))
            except (MigrationSafetyError, psycopg2.Error) as exc:
                reason = f"the server did not come back within {wait_seconds:g}s ({exc})"
                time.sleep(0.5)
                continue
            if _try_lock(connection):
                self.connection = connection
                return None
            reason = f"another run took the migration lock meanwhile: {_holder_description(connection)}"
            connection.close()
            return reason
        return reason

    def close(self) -> None:
        """Release the lock, then end the session. Closing alone would release it only when the
        server process notices the client left, a moment after this command has returned: a run
        started right after it (the next CI step) could still find the lock held."""
        with contextlib.suppress(Exception):
            query_one(self.connection, "SELECT pg_advisory_unlock(%s, hashtext(current_database()))",
                      (LOCK_NAMESPACE,))
        with contextlib.suppress(Exception):
            self.connection.close()


@contextlib.contextmanager
def migration_lock(settings, *, wait_seconds: float = 0.0) -> Iterator[LockSession]:
    """Hold the database's migration lock; raise LockBusyError when another run has it."""
    session = LockSession(settings, _checking_its_client(connect(settings)))
    try:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(session.connection):
            if time.monotonic() >= deadline:
                holder = _holder_description(session.connection)
                waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                raise LockBusyError(
                    f"another migration run holds the lock on database {settings.database!r}{waited}: {holder}; "
                    "nothing was changed", hint="wait for it to finish, or pass --lock-wait SECONDS")
            time.sleep(0.25)
        yield session
    finally:
        session.close()


def lock_holder(connection) -> Optional[str]:
    """Who holds the migration lock now, or None when nobody does (read without taking it)."""
    rows = query_all(connection, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
                                 " AND objid = hashtext(current_database())::oid AND granted", (LOCK_NAMESPACE,))
    return _holder_description(connection) if rows else None
