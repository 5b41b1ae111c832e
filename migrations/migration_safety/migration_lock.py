"""A PostgreSQL advisory lock per database, so two runs never migrate it at once.

The lock is held by a dedicated session for the whole run (backup, migration, restore) and
released when that session ends, even if the process is killed.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

from .errors import LockBusyError
from .pgtools import connect, query_all, query_one

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


@contextlib.contextmanager
def migration_lock(settings, *, wait_seconds: float = 0.0) -> Iterator[object]:
    """Hold the database's migration lock; raise LockBusyError when another run has it."""
    connection = connect(settings)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            acquired = query_one(connection, "SELECT pg_try_advisory_lock(%s, hashtext(current_database()))",
                                 (LOCK_NAMESPACE,))[0]
            if acquired:
                break
            if time.monotonic() >= deadline:
                holder = _holder_description(connection)
                waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                raise LockBusyError(
                    f"another migration run holds the lock on database {settings.database!r}{waited}: {holder}; "
                    "nothing was changed", hint="wait for it to finish, or pass --lock-wait SECONDS")
            time.sleep(0.25)
        yield connection
    finally:
        connection.close()
