"""Rehearsal (``upgrade --rehearse``, ``rehearse = always``): once the backup is verified and
before the real database changes, the pending revisions run on a scratch copy of it on the same
server, ``<db>_rehearsal_<pid>``. The locks are read two ways: the migration's own connections
read their own ``pg_locks`` after every statement (a lock is held to the end of its transaction,
so however short a lock's statement, it is seen; its release is the commit or rollback), and a
side connection samples the copy's other backends (side connections a revision opens, statements
in an autocommit block). The report says, per revision, how long it took and each statement's
time, whether it failed, and for each table the strongest lock it took and how long that lock was
held, next to the validator's estimate.
The real run goes on only when the rehearsal passed.

The copy is a clone (``CREATE DATABASE ... TEMPLATE``) when no session but the run's own lock
session is connected to the database: the clone needs every session off it, so the lock session
is closed for the copy (new connections wait for the copy meanwhile) and the lock taken again
right after. Otherwise the fresh backup is restored into an empty database (restore.py's
streaming, one-transaction restore). The copy is dropped afterwards, whatever happened; a copy
left by a killed run is dropped by the next run that gets this far.

The revisions reach the copy through the same migration source with the database setting
pointed at it; a guard refuses any connection that reaches another database (an env.py that
picks its own URL), so the rehearsal never touches the real database.
"""
from __future__ import annotations

import contextlib
import copy
import os
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..base.errors import ConfigurationError, MigrationSafetyError
from ..postgres.tools import connect, query_all, query_one
from .interruption import Interruption

# PostgreSQL's table lock modes, weakest first (the docs' conflict table order).
LOCK_MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
              "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
# The side sampler's resolution: a lock of another backend taken and released between two samples
# is not seen (the migration's own transactions are read exactly, see OwnTransactionLocks).
SAMPLE_INTERVAL_SECONDS = 0.025
SCRATCH_MARK = "_rehearsal_"
# How long a lost lock session may take to come back after the clone (the server is local to it).
RELOCK_WAIT_SECONDS = 10.0

_TABLE_LOCKS = """
SELECT n.nspname, c.relname, l.mode
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_class c ON c.oid = l.relation
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
   AND c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%'
"""
# The same, for the session that asks: the locks its own transaction holds now.
_OWN_LOCKS = _TABLE_LOCKS.replace("l.pid <> pg_catalog.pg_backend_pid()", "l.pid = pg_catalog.pg_backend_pid()")


@dataclass
class TableLock:
    table: str
    mode: str                       # the strongest mode the revision took on the table
    held_ms: int                    # from when it was first seen until it was released
    estimates: list = field(default_factory=list)   # the validator's findings on that table in that revision


@dataclass
class RevisionRehearsal:
    revision: str
    duration_ms: int
    failed: bool = False
    error: Optional[str] = None
    locks: list = field(default_factory=list)
    statements: list = field(default_factory=list)   # {"sql": first 200 characters, "ms": its own time}


@dataclass
class RehearsalReport:
    database: str
    method: Optional[str] = None    # clone | restore
    prepare_seconds: Optional[float] = None
    run_seconds: Optional[float] = None
    passed: bool = False
    error: Optional[str] = None
    revisions: list = field(default_factory=list)
    dropped: bool = False
    sample_interval_ms: int = int(SAMPLE_INTERVAL_SECONDS * 1000)


def scratch_name(database: str, pid: int) -> str:
    """``<db>_rehearsal_<pid>``, the database part cut so the name fits PostgreSQL's 63 bytes."""
    suffix = f"{SCRATCH_MARK}{pid}"
    prefix = database.encode()[:63 - len(suffix)].decode(errors="ignore")
    return prefix + suffix


def rehearse_first(run, *, dry_run: bool = False) -> bool:
    """The pipeline's one call, after the verified backup and before the journal entry: drops
    copies a killed run left, rehearses when asked (``run.rehearse``), and says whether the real
    run goes on. When it does not (the rehearsal failed, or a rehearsed dry run is complete) the
    result says why; the real database was not changed."""
    from .outcome import Outcome

    _drop_leftovers(run)
    if not run.rehearse:
        return True
    report = rehearse(run)
    result = run.result
    result.rehearsal = asdict(report)
    if not report.passed:
        failed = next((r for r in report.revisions if r.failed), None)
        where = f" in {failed.revision}" if failed else ""
        result.status, result.error, result.failed_step = Outcome.REHEARSAL_FAILED, report.error, \
            failed.revision if failed else None
        result.message = (f"the rehearsal on a copy failed{where}: {report.error}. Nothing ran on "
                          f"{run.settings.database}; it is unchanged at {', '.join(run.current) or 'base'}")
        return False
    seconds = f"{report.run_seconds:.2f}s" if report.run_seconds is not None else "?"
    if dry_run:
        result.status = Outcome.DRY_RUN
        result.message = (f"dry run: the rehearsal of {len(run.plan.steps)} revision(s) on a copy passed in "
                          f"{seconds}; {run.settings.database} was not changed"
                          + (f" (backup {Path(result.backup).name} kept)" if result.backup else ""))
        return False
    run.events.step(f"Rehearsal passed in {seconds}; running for real")
    return True


def rehearse(run) -> RehearsalReport:
    """Copy, run the plan on the copy while sampling its locks, drop the copy."""
    name = scratch_name(run.settings.database, os.getpid())
    report = RehearsalReport(database=name)
    started = time.monotonic()
    with run.interruption.catching():
        try:
            run.events.step(f"Rehearsing on {name}")
            report.method = _make_copy_or_explain(run, name)
            report.prepare_seconds = round(time.monotonic() - started, 3)
            _run_on_copy(run, name, report)
        except KeyboardInterrupt:
            from .outcome import describe_failure

            report.error = f"{describe_failure(KeyboardInterrupt(), run.interruption)} during the rehearsal"
        finally:
            with Interruption.deferred(lambda signal_name: run.events.warn(
                    f"{signal_name} received: the rehearsal database is dropped first")):
                report.dropped = _drop(run, name)
    return report


# -- the copy ------------------------------------------------------------------------------------
def _make_copy_or_explain(run, name: str) -> str:
    """The copy, or a one-line reason it cannot be made (nothing was changed either way)."""
    import psycopg2

    from ..base.errors import RestoreError

    try:
        return _make_copy(run, name)
    except psycopg2.Error as exc:
        if run.interruption.signal_name:        # the signal cancelled the statement: stop, as asked
            raise KeyboardInterrupt from None
        raise ConfigurationError(f"cannot rehearse: the rehearsal database {name} could not be created "
                                 f"({' '.join(str(exc).split())[:200]}); nothing was changed",
                                 hint="the role needs CREATEDB, or run without --rehearse") from None
    except RestoreError as exc:
        raise MigrationSafetyError(f"cannot rehearse: the backup could not be restored into the rehearsal "
                                   f"database ({exc}); nothing was changed") from None


def _make_copy(run, name: str) -> str:
    """``clone`` when the database can be cloned now, else ``restore`` (of the fresh backup)."""
    if _only_our_session(run):
        why_not = _clone(run, name)
        if why_not is None:
            _mark(run, name)
            return "clone"
        run.notes.append(f"rehearsal: restored the backup instead of cloning ({why_not})")
    if run.backup is None:
        raise ConfigurationError("cannot rehearse: other sessions are connected, so the database cannot be "
                                 "cloned, and --no-backup leaves no backup to restore from; nothing was changed")
    _execute(run.connection, "CREATE DATABASE {}", name)
    _mark(run, name)
    _restore_backup_into(run, name)
    return "restore"


def _only_our_session(run) -> bool:
    # autovacuum workers do not count: CREATE DATABASE ends them itself
    return not query_one(run.connection, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = "
                                         "pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid() "
                                         "AND backend_type = 'client backend'")[0]


def _clone(run, name: str) -> Optional[str]:
    """Clone the database into ``name``; None when done, else why not (nothing was created).
    The lock session is closed for the copy, since the copy needs every session off the
    database; it is taken again before anything else happens, or the run stops."""
    import psycopg2

    maintenance = _maintenance_connection(run)
    if maintenance is None:
        return "neither the postgres nor the template1 database accepts a connection"
    strategy = " STRATEGY file_copy" if run.server.major >= 15 else ""
    run.lock.connection.close()
    try:
        _execute(maintenance, "CREATE DATABASE {} TEMPLATE {}" + strategy, name, run.settings.database)
        return None
    except psycopg2.Error as exc:   # another session arrived meanwhile, not the database's owner, ...
        if run.interruption.signal_name:        # the signal cancelled the copy: stop, as asked
            raise KeyboardInterrupt from None
        return " ".join(str(exc).split())[:200]
    finally:
        maintenance.close()
        lost = run.lock.regain(RELOCK_WAIT_SECONDS)
        if lost is not None:
            raise MigrationSafetyError(f"the migration lock could not be taken again after cloning the database for "
                                       f"the rehearsal ({lost}); nothing was changed")


def _maintenance_connection(run):
    for database in ("postgres", "template1"):
        with contextlib.suppress(MigrationSafetyError):
            return connect(run.settings, database=database)
    return None


def _mark(run, name: str) -> None:
    """Say what the copy is, for whoever lists the server's databases."""
    from psycopg2 import sql

    with run.connection.cursor() as cursor:
        cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(name)),
                       (f"migration_safety rehearsal of {run.settings.database} (pid {os.getpid()}); safe to drop",))


def _restore_backup_into(run, name: str) -> None:
    from ..backup.restore import OpenedArchive, apply_in_one_transaction, archive_toc, ownership_options, prelude_sql

    tools, backup = run.tools, run.backup
    with OpenedArchive(Path(backup.file), expected_sha256=backup.sha256, expected_size=backup.size_bytes) as archive:
        toc, options = None, []
        if archive.format != "plain":
            toc = archive_toc(archive, tools["pg_restore"])
            options, _ = ownership_options(run.connection, toc)
        apply_in_one_transaction(run.settings.with_database(name), archive, toc, prelude_sql("60s", []),
                                 pg_restore=tools["pg_restore"], psql=tools["psql"], progress=None,
                                 restore_options=options)


def _execute(connection, statement: str, *names: str) -> None:
    from psycopg2 import sql

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL(statement).format(*(sql.Identifier(n) for n in names)))


def _drop(run, name: str) -> bool:
    """Drop the copy (its sessions ended first); False, with a note, when it could not be."""
    try:
        with contextlib.closing(connect(run.settings)) as connection:
            _drop_database(connection, name, run.server.major)
        return True
    except Exception as exc:  # the next run drops it; say so rather than fail the run for it
        run.notes.append(f"could not drop the rehearsal database {name} ({' '.join(str(exc).split())[:200]}); "
                         "the next run drops it, or DROP DATABASE it by hand")
        return False


def _drop_database(connection, name: str, server_major: int) -> None:
    if server_major >= 13:
        _execute(connection, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
        return
    deadline = time.monotonic() + 10
    while True:
        query_all(connection, "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
                              "WHERE datname = %s", (name,))
        try:
            _execute(connection, "DROP DATABASE IF EXISTS {}", name)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def leftover_databases(connection, database: str) -> list:
    """Copies of ``database`` that rehearsals left (``<db>_rehearsal_<pid>``, owned by the current
    role): a run killed during its rehearsal cannot drop its own."""
    prefix = scratch_name(database, 0)[:-1]
    pattern = re.compile(re.escape(prefix) + r"\d+")
    rows = query_all(connection, "SELECT datname FROM pg_catalog.pg_database WHERE starts_with(datname, %s) "
                                 "AND datdba = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) "
                                 "ORDER BY 1", (prefix,))
    return [name for (name,) in rows if pattern.fullmatch(name)]


def _drop_leftovers(run) -> None:
    """Under the migration lock no other run of this database is rehearsing: every copy found was
    left by a killed run, and is dropped."""
    for name in leftover_databases(run.connection, run.settings.database):
        try:
            _drop_database(run.connection, name, run.server.major)
            run.notes.append(f"dropped {name}, a rehearsal database left by an interrupted run")
        except Exception as exc:
            run.notes.append(f"could not drop {name}, a rehearsal database left by an interrupted run: "
                             f"{' '.join(str(exc).split())[:200]}")


# -- running on the copy ---------------------------------------------------------------------------
def _project_on(project, database: str):
    """The project with its database setting pointed at ``database`` (its source built anew)."""
    pointed = copy.copy(project)
    pointed.__dict__["database"] = project.database.with_database(database)
    pointed.__dict__.pop("source", None)
    return pointed


def _run_on_copy(run, name: str, report: RehearsalReport) -> None:
    from ..postgres.identity import TargetGuard, identify
    from ..sources import alembic_runner
    from ..sources.alembic_runner import CommitTracker
    from .outcome import describe_failure

    project = _project_on(run.project, name)
    source = project.source
    with contextlib.closing(connect(project.database)) as copy_connection:
        guard = TargetGuard(identify(copy_connection))
    tracker, failure = CommitTracker(), None
    sampler, own = LockSampler(project.database), OwnTransactionLocks()
    started = time.monotonic()
    sampler.start()
    try:
        with tracker.listening(guard), own.listening(), source.watching() as running, \
                alembic_runner.session_options(run.safety.lock_timeout, run.safety.statement_timeout,
                                               server_major=run.server.major):
            try:
                source.run(run.plan, tracker, run.events, [])
            except BaseException as exc:   # KeyboardInterrupt included: the rehearsal failed
                failure = exc
        ended = time.monotonic()
    finally:
        sampler.stop()
        tracker.close_connections()
    if guard.refused is not None:
        raise ConfigurationError(f"the rehearsal cannot run for this env.py: {guard.refused}; nothing was changed",
                                 hint="make env.py use the URL the wrapper hands it (sqlalchemy.url), or run "
                                      "without --rehearse") from None
    report.run_seconds = round(ended - started, 3)
    report.revisions = _per_revision(running.starts(), running.durations_ms(ended),
                                     lock_episodes(sampler.samples) + own.episodes(ended), run.plan, run.report,
                                     own.statements)
    if failure is not None:
        report.error = describe_failure(failure, run.interruption)
        if report.revisions:
            report.revisions[-1].failed, report.revisions[-1].error = True, report.error
    elif sampler.problem:
        report.error = f"the locks could not be sampled: {sampler.problem}"
    report.passed = report.error is None


class OwnTransactionLocks:
    """The locks the migration's own (SQLAlchemy) connections hold, read by each of them after
    each of its statements; every statement timed. A lock is first taken by the statement that
    was running (its start counts) and held until the transaction's commit or rollback, so no lock
    of the migration's transaction is missed however short its statement. ``episodes`` are in
    ``lock_episodes``' form: (table, mode rank, since, released)."""

    def __init__(self) -> None:
        self.statements: list = []         # (started, sql, milliseconds)
        self._open: dict = {}              # connection id -> {table: [(rank, since), ...]}
        self._closed: list = []
        self._started: dict = {}

    @contextlib.contextmanager
    def listening(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        listeners = [(Engine, "before_cursor_execute", self._before), (Engine, "after_cursor_execute", self._after),
                     (Engine, "commit", self._released), (Engine, "rollback", self._released)]
        for target, name, function in listeners:
            event.listen(target, name, function)
        try:
            yield self
        finally:
            for target, name, function in listeners:
                event.remove(target, name, function)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started[id(cursor)] = time.monotonic()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        started = self._started.pop(id(cursor), time.monotonic())
        self.statements.append((started, " ".join(str(statement).split())[:200],
                                round((time.monotonic() - started) * 1000, 1)))
        dbapi = getattr(cursor, "connection", None)
        if dbapi is None or getattr(dbapi, "autocommit", True):
            return          # not psycopg2, or autocommit: the statement's locks are gone already (the sampler's)
        try:
            with dbapi.cursor() as own:
                own.execute(_OWN_LOCKS)
                held = own.fetchall()
        except Exception:  # psycopg2.Error: the transaction is failing; what it held shows at the rollback
            return
        entries = self._open.setdefault(id(conn.connection.dbapi_connection), {})
        for schema, table, mode in held:
            name = table if schema == "public" else f"{schema}.{table}"
            rank = LOCK_MODES.index(mode) if mode in LOCK_MODES else -1
            episodes = entries.setdefault(name, [])
            if not episodes or rank > episodes[-1][0]:
                episodes.append((rank, started))

    def _released(self, conn) -> None:
        moment = time.monotonic()
        entries = self._open.pop(id(conn.connection.dbapi_connection), {})
        self._closed += [(table, rank, since, moment) for table, ranks in entries.items() for rank, since in ranks]

    def episodes(self, ended: float) -> list:
        still_open = [(table, rank, since, ended) for entries in self._open.values()
                      for table, ranks in entries.items() for rank, since in ranks]
        return self._closed + still_open


class LockSampler(threading.Thread):
    """A side connection to the copy that reads the table locks of every other session on it
    every SAMPLE_INTERVAL_SECONDS: ``samples`` is a list of (time.monotonic(), {table: mode rank})."""

    def __init__(self, settings) -> None:
        super().__init__(daemon=True, name="rehearsal-lock-sampler")
        self.connection = connect(settings)
        self.samples: list = []
        self.problem: Optional[str] = None
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while True:
                self.samples.append((time.monotonic(), self._sample()))
                if self._stopped.wait(SAMPLE_INTERVAL_SECONDS):
                    self.samples.append((time.monotonic(), self._sample()))   # what outlived the run
                    return
        except Exception as exc:
            self.problem = " ".join(str(exc).split())[:200]
        finally:
            self.connection.close()

    def _sample(self) -> dict:
        held: dict = {}
        for schema, table, mode in query_all(self.connection, _TABLE_LOCKS):
            name = table if schema == "public" else f"{schema}.{table}"
            rank = LOCK_MODES.index(mode) if mode in LOCK_MODES else -1
            held[name] = max(rank, held.get(name, -1))
        return held

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=30)


def lock_episodes(samples: list) -> list:
    """(table, mode rank, first seen, released) from the samples: each time a table's lock
    reaches a stronger mode than it held since it was last free, an entry that lasts until the
    table is free again (a lock is held to the end of its transaction). 'Released' is the first
    sample without it, so a duration errs by at most one interval, upwards."""
    episodes, open_entries = [], {}      # table -> [(rank, since), ...] while the table is locked
    for moment, held in samples:
        for table in list(open_entries):
            if table not in held:
                episodes += [(table, rank, since, moment) for rank, since in open_entries.pop(table)]
        for table, rank in held.items():
            entries = open_entries.setdefault(table, [])
            if not entries or rank > entries[-1][0]:
                entries.append((rank, moment))
    last = samples[-1][0] if samples else 0.0
    for table, entries in open_entries.items():
        episodes += [(table, rank, since, last) for rank, since in entries]
    return episodes


def _per_revision(starts: list, durations_ms: dict, episodes: list, plan, report, statements=()) -> list:
    """One entry per revision that started: its duration, its statements' times and, per table,
    the strongest lock first taken while it ran, held the longest of what the two readings saw (a
    lock seen before the first revision started, e.g. on the version table, counts towards the
    first)."""
    revisions = [RevisionRehearsal(revision, durations_ms.get(revision, 0)) for revision, _ in starts
                 if revision is not None]
    if not revisions:
        return []
    by_revision = {r.revision: r for r in revisions}
    for started, sql, milliseconds in statements:
        revision = _running_at(starts, started)
        if revision in by_revision:
            by_revision[revision].statements.append({"sql": sql, "ms": milliseconds})
    strongest: dict = {}                 # (revision, table) -> (rank, held seconds)
    for table, rank, since, released in episodes:
        revision = _running_at(starts, since) or revisions[0].revision
        key = (revision, table)
        if rank >= 0 and (key not in strongest or rank > strongest[key][0]
                          or rank == strongest[key][0] and released - since > strongest[key][1]):
            strongest[key] = (rank, released - since)
    paths = {step.revision: Path(step.path).resolve() for step in plan.steps}
    for (revision, table), (rank, held) in sorted(strongest.items(), key=lambda item: -item[1][0]):
        if revision in by_revision:
            by_revision[revision].locks.append(TableLock(table, LOCK_MODES[rank], round(held * 1000),
                                                         _estimates(report, paths.get(revision), table)))
    return revisions


def _running_at(starts: list, moment: float) -> Optional[str]:
    running = None
    for revision, started in starts:
        if started <= moment:
            running = revision
    return running


def _estimates(report, path: Optional[Path], table: str) -> list:
    """The validator's findings on ``table`` in the revision at ``path``, with its lock-time
    estimate in seconds when it made one (validation/judge.py)."""
    if report is None or path is None:
        return []
    bare = table.rsplit(".", 1)[-1]
    return [{"rule": f.rule, "severity": f.severity,
             "estimate_seconds": f.details.get("lock_seconds_estimate")}
            for f in report.findings
            if f.table and f.table.rsplit(".", 1)[-1] == bare and Path(f.file).resolve() == path]
