"""The audit trail: one row per revision step of every run, kept in the database in the
wrapper's own schema (``migration_safety``), which restores never drop and autogenerate never
sees (it is not in the application's schema). Rows are written after the outcome is known, so
the record of a failed run is written after its restore.
"""
from __future__ import annotations

import getpass
import hashlib
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ..base.redaction import mask
from ..postgres.tools import query_all, query_one

SCHEMA = "migration_safety"


def _table(name: str) -> str:
    return f'{SCHEMA}."{name}"'


def ensure_table(connection, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        cursor.execute(f"""
            CREATE TABLE IF NOT EXISTS {_table(name)} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id uuid NOT NULL,
                revision text,
                direction text NOT NULL,
                started_at timestamptz NOT NULL,
                duration_ms bigint NOT NULL,
                os_user text NOT NULL,
                hostname text NOT NULL,
                backup_file text,
                outcome text NOT NULL,
                checksum text,
                error text
            )""")
        # who asked, when a run came through the service (issue 13); NULL for the CLI
        for column in ACTOR_COLUMNS:
            cursor.execute(f"ALTER TABLE {_table(name)} ADD COLUMN IF NOT EXISTS {column} text")
        # how many times the step started (retries, issue 12); NULL in rows older versions wrote
        cursor.execute(f"ALTER TABLE {_table(name)} ADD COLUMN IF NOT EXISTS attempts integer")


def file_checksum(path: str | Path) -> Optional[str]:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


ACTOR_COLUMNS = ("api_token_name", "client_address", "user_agent")


@dataclass(frozen=True)
class Actor:
    """Who asked for a run through the service: the token's name (never the token), the client's
    address and its user agent. Stored with the run record, shown by ``history``."""
    token_name: str
    client_address: Optional[str] = None
    user_agent: Optional[str] = None

    def describe(self) -> str:
        return f"token {self.token_name} from {self.client_address or 'unknown address'}"


@dataclass
class StepRecord:
    revision: Optional[str]
    checksum: Optional[str]
    duration_ms: Optional[int] = None     # the step's own; None: the run's (a step that did not start)
    attempts: Optional[int] = None        # times the step started: 1, more after retries, 0 never; None: not a step


def record_run(connection, table: str, *, direction: str, started_at, duration_ms: int, backup_file: Optional[str],
               outcome: str, steps: Iterable[StepRecord], error: Optional[str], actor: Optional[Actor] = None) -> str:
    """Write one row per step (one row with no revision when the run had none); returns the run id.
    Each row holds its step's own ``duration_ms`` when the pipeline timed it, else the run's, and
    how many attempts the step took (``attempts``, retries included).
    The error is stored with the password masked: an env.py may have put the URL into it."""
    ensure_table(connection, table)
    run_id = str(uuid.uuid4())
    rows = list(steps) or [StepRecord(None, None)]
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    who = (actor.token_name, actor.client_address, actor.user_agent) if actor else (None, None, None)
    with connection.cursor() as cursor:
        for step in rows:
            cursor.execute(
                f"INSERT INTO {_table(table)} (run_id, revision, direction, started_at, duration_ms, os_user,"
                f" hostname, backup_file, outcome, checksum, error, {', '.join(ACTOR_COLUMNS)}, attempts)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (run_id, step.revision, direction, started_at,
                 duration_ms if step.duration_ms is None else step.duration_ms, user, socket.gethostname(),
                 backup_file, outcome, step.checksum, mask(error), *who, step.attempts))
    return run_id


def table_exists(connection, table: str) -> bool:
    return query_one(connection, "SELECT to_regclass(%s) IS NOT NULL", (f'{SCHEMA}."{table}"',))[0]


def read_runs(connection, table: str, limit: int = 200) -> list[dict]:
    if not table_exists(connection, table):
        return []
    columns = ("run_id", "revision", "direction", "started_at", "duration_ms", "os_user", "hostname",
               "backup_file", "outcome", "checksum", "error", *ACTOR_COLUMNS, "attempts")
    # a table written before the actor or attempts columns existed reads them as NULL (reading
    # changes nothing; the next run's record adds them)
    present = {row[0] for row in query_all(
        connection, "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (SCHEMA, table))}
    selected = ", ".join(column if column in present else f"NULL AS {column}" for column in columns)
    rows = query_all(connection, f"SELECT {selected} FROM {_table(table)} ORDER BY id DESC LIMIT %s", (limit,))
    return [dict(zip(columns, row)) for row in rows]


def runs_by_outcome(connection, table: str) -> dict[str, int]:
    """How many runs ended in each outcome (a run is one run_id, whatever its number of steps)."""
    if not table_exists(connection, table):
        return {}
    return dict(query_all(connection, f"SELECT outcome, count(DISTINCT run_id) FROM {_table(table)} GROUP BY outcome"))


def applied_checksums(connection, table: str) -> dict[str, str]:
    """For each revision, the checksum of its file when it was last applied by an upgrade."""
    if not table_exists(connection, table):
        return {}
    rows = query_all(connection, f"""
        SELECT DISTINCT ON (revision) revision, checksum FROM {_table(table)}
        WHERE direction = 'upgrade' AND outcome = 'applied' AND revision IS NOT NULL AND checksum IS NOT NULL
        ORDER BY revision, id DESC""")
    return {revision: checksum for revision, checksum in rows}


@dataclass
class Drift:
    revision: str
    problem: str            # 'changed' | 'missing' | 'cycle'
    detail: str


def find_drift(heads: Iterable[str], recorded: dict[str, str], files: dict[str, tuple]) -> list[Drift]:
    """Applied revisions whose file changed since it was applied, or is gone (Flyway's validate).

    The applied revisions are the database's heads and everything Alembic counts as below them
    (down revisions and depends_on, through its RevisionMap: ``revision_graph``); ``files`` maps
    revision -> (path, Declared) as Project.revision_files reads them, ``recorded`` revision ->
    checksum as applied.
    """
    from ..migration_files.revision_file import alembic_revision_module, applied_below

    heads = list(heads)
    declared = {revision: entry[1] for revision, entry in files.items()}
    try:
        applied = applied_below(declared, heads)
    except alembic_revision_module().CycleDetected as exc:
        return [Drift(", ".join(exc.revisions), "cycle", f"the revision files form a cycle Alembic refuses: {exc}")]
    gone = {revision for revision in heads if revision not in files}
    gone |= {down for revision in applied for down in declared[revision].downs if down not in files}
    drift = [Drift(revision, "missing", "applied to the database but its revision file is gone") for revision in gone]
    for revision in applied:
        expected = recorded.get(revision)
        if expected is None:
            continue            # applied before the wrapper kept records: nothing to compare with
        path = files[revision][0]
        actual = file_checksum(path)
        if actual != expected:
            drift.append(Drift(revision, "changed", f"{Path(path).name} changed since it was applied "
                                                    f"(sha256 {expected[:12]}… then, {str(actual)[:12]}… now)"))
    return sorted(drift, key=lambda d: d.revision)
