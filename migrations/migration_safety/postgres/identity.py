"""Which database a connection reaches, and a guard that every connection a run opens reaches
the database that was backed up.

A stock env.py connects to ``sqlalchemy.url``; many real ones read a setting of their own. If
that is another database, the wrapper would back up, lock, check and restore one database while
Alembic migrates another. So every connection the run opens — SQLAlchemy's (any driver, through
the pool's ``connect`` event, before its first statement) and any psycopg2 connection a revision
opens on the side — is identified and compared with the backed-up database before it is used.

A server is identified by ``pg_control_system().system_identifier`` where the role may read it
(superuser or pg_monitor), otherwise by the postmaster's start time (readable by every role, and
the same for every connection to one running server); a database by its OID and name.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Optional

IDENTITY_SQL = """
SELECT (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),
       pg_catalog.current_database(),
       pg_catalog.pg_postmaster_start_time()::text,
       CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
            THEN (SELECT system_identifier FROM pg_catalog.pg_control_system())::text END,
       coalesce(pg_catalog.host(pg_catalog.inet_server_addr()), 'local socket')
         || ':' || coalesce(pg_catalog.inet_server_port()::text, pg_catalog.current_setting('port'))
"""


@dataclass(frozen=True)
class DatabaseIdentity:
    database_oid: int
    database: str
    server_started: str
    system_identifier: Optional[str]
    address: str

    def describe(self) -> str:
        server = f"system identifier {self.system_identifier}" if self.system_identifier \
            else f"server started {self.server_started}"
        return f"database {self.database!r} (oid {self.database_oid}) at {self.address}, {server}"

    def same_as(self, other: "DatabaseIdentity") -> bool:
        if self.database_oid != other.database_oid or self.database != other.database:
            return False
        if self.system_identifier and other.system_identifier:
            return self.system_identifier == other.system_identifier
        return self.server_started == other.server_started


def identify(dbapi_connection) -> DatabaseIdentity:
    """The identity of the database a DB-API connection reaches. Leaves no transaction open."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(IDENTITY_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if not getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.rollback()
    return identity_from_row(row)


def identity_from_row(row) -> DatabaseIdentity:
    return DatabaseIdentity(int(row[0]), row[1], row[2], row[3], row[4])


class WrongDatabase(Exception):
    """A connection of the run reaches another database than the one backed up."""

    def __init__(self, expected: DatabaseIdentity, found: DatabaseIdentity, how: str):
        super().__init__(f"{how} connected to {found.describe()}, but the wrapper backed up and protects "
                         f"{expected.describe()}")
        self.expected, self.found = expected, found


class TargetGuard:
    """Refuses, before its first statement, any connection of the run that reaches another
    database than ``expected``."""

    def __init__(self, expected: DatabaseIdentity) -> None:
        self.expected = expected
        self.refused: Optional[WrongDatabase] = None

    def check(self, dbapi_connection, how: str) -> None:
        found = identify(dbapi_connection)
        if not found.same_as(self.expected):
            self.refused = WrongDatabase(self.expected, found, how)
            dbapi_connection.close()
            raise self.refused

    def _on_pool_connect(self, dbapi_connection, connection_record) -> None:
        self.check(dbapi_connection, "env.py")

    @contextlib.contextmanager
    def watching(self) -> Iterator["TargetGuard"]:
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        # insert=True: before any other listener (ours or the application's) runs a statement
        event.listen(Pool, "connect", self._on_pool_connect, insert=True)
        try:
            yield self
        finally:
            event.remove(Pool, "connect", self._on_pool_connect)
