"""The old runners' tracking table, ``schema_migrations``: one row per applied version (version,
name, applied_at, execution time in ms, SHA-256 of the UP file). A table an old runner created
is used as it is: its columns are read from the catalog and only those it has are written, and
versions are compared by number ('001' and 1 are the same version).

golang-migrate's table has another shape, ``(version bigint, dirty boolean)`` with one row, the
newest version applied (every lower one is applied too): it is recognised by its ``dirty``
column and kept in that shape, so golang-migrate can still read it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..base.errors import ConfigurationError
from ..migration_files.sql_file import version_number
from ..postgres.tools import query_all, query_one

TABLE = "schema_migrations"
CREATE_TABLE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    version varchar(255) PRIMARY KEY,
    name varchar(255),
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_time_ms integer,
    checksum varchar(64)
)"""
# Column names the old runners used for the duration and the checksum.
_DURATION_COLUMNS = ("execution_time_ms", "execution_time", "duration_ms")
_CHECKSUM_COLUMNS = ("checksum", "sha256")


@dataclass
class AppliedVersion:
    stored: object              # the version exactly as the table holds it
    number: int
    name: Optional[str]
    applied_at: object
    execution_ms: Optional[int]
    checksum: Optional[str]


def columns(connection) -> list[str]:
    """The table's columns; [] when it does not exist (in the search path)."""
    exists = query_one(connection, "SELECT to_regclass(%s)::oid", (TABLE,))[0]
    if exists is None:
        return []
    rows = query_all(connection, "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                                 "AND NOT attisdropped ORDER BY attnum", (exists,))
    return [row[0] for row in rows]


def _first(present: list, candidates) -> Optional[str]:
    return next((c for c in candidates if c in present), None)


def is_golang_migrate(present: list) -> bool:
    return "dirty" in present and "name" not in present


def read_applied(connection, known_versions=()) -> dict[int, AppliedVersion]:
    """Applied versions by number; for golang-migrate's one-row table, that version and every
    one of ``known_versions`` below it."""
    present = columns(connection)
    if not present:
        return {}
    if is_golang_migrate(present):
        return _golang_applied(connection, known_versions)
    duration, checksum = _first(present, _DURATION_COLUMNS), _first(present, _CHECKSUM_COLUMNS)
    selected = ["version", "name" if "name" in present else "NULL",
                "applied_at" if "applied_at" in present else "NULL", duration or "NULL", checksum or "NULL"]
    applied = {}
    for stored, name, at, ms, digest in query_all(connection, f"SELECT {', '.join(selected)} FROM {TABLE}"):
        number = version_number(stored)
        if number is not None:
            applied[number] = AppliedVersion(stored, number, name, at, ms, digest)
    return applied


def ensure_table(cursor) -> None:
    cursor.execute(CREATE_TABLE)


def record(cursor, present: list, *, version: str, name: str, execution_ms: int, checksum: Optional[str]) -> None:
    values = {"version": version, "name": name}
    duration, digest = _first(present, _DURATION_COLUMNS), _first(present, _CHECKSUM_COLUMNS)
    if duration:
        values[duration] = execution_ms
    if digest:
        values[digest] = checksum
    names = [name for name in values if name in present]
    cursor.execute(f"INSERT INTO {TABLE} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                   [values[name] for name in names])


def remove(cursor, stored) -> None:
    cursor.execute(f"DELETE FROM {TABLE} WHERE version = %s", (stored,))


def _golang_applied(connection, known_versions) -> dict[int, AppliedVersion]:
    rows = query_all(connection, f"SELECT version, dirty FROM {TABLE}")
    if not rows:
        return {}
    stored, dirty = max(rows, key=lambda row: row[0])
    if dirty:
        raise ConfigurationError(f"{TABLE} marks version {stored} dirty: a golang-migrate run failed in it and "
                                 "left the database in an unknown state; nothing was changed",
                                 hint="repair the database by hand, then `migrate force VERSION` as golang-migrate "
                                      "asks, before running migrations here")
    return {number: AppliedVersion(stored, number, None, None, None, None)
            for number in set(known_versions) | {int(stored)} if number <= int(stored)}


def set_golang_version(cursor, version: Optional[int]) -> None:
    """golang-migrate's table after an UP (the new version) or a DOWN (the one below; None: base)."""
    cursor.execute(f"DELETE FROM {TABLE}")
    if version is not None:
        cursor.execute(f"INSERT INTO {TABLE} (version, dirty) VALUES (%s, false)", (version,))
