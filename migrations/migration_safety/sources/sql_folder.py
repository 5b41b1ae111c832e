"""A folder of plain-SQL migrations as a migration source (see ``sources``): versions are the
files' numbers, the database's state is the ``schema_migrations`` table the old runners kept.

Each file runs in one transaction the wrapper owns, on one psycopg2 connection opened while
``alembic_runner.session_options`` is in force (the run's lock and statement timeouts and its
application name, as Alembic's connections get them; a new one when the server ended the last and
the file is tried again, ``retry``); its bookkeeping row is written (or, for a
DOWN file, removed) in that same transaction, and the CommitTracker is told of each commit. A
file headed ``-- migration-safety: no-transaction`` runs statement by statement in autocommit
(CREATE INDEX CONCURRENTLY), and each of its statements counts as committed."""
from __future__ import annotations

import contextlib
import os
import time
from functools import cached_property
from typing import Iterator

from ..base.errors import ConfigurationError
from ..migration_files.sql_file import SqlFolder, read_folder, read_script, version_number
from . import schema_migrations
from .alembic_runner import Plan, PlannedStep, controls_transactions
from .retry import with_retries
from .steps import StepTimes


class SqlStatementFailed(Exception):
    """A statement of a SQL file failed; ``orig`` is PostgreSQL's error (the pipeline reports its
    first line), the message says where."""

    def __init__(self, where: str, original: BaseException, *, connection_lost: bool = False) -> None:
        super().__init__(f"{where}: {' '.join(str(original).split())}")
        self.orig = original
        self.connection_lost = connection_lost      # the server ended the session: a transient cause


class _Running(StepTimes):
    """The step running now, and each step's start (steps.StepTimes)."""


class SqlFolderSource:
    kind = "sql"

    def __init__(self, project) -> None:
        self.project = project
        self.directory = project.sql_dir
        self._running = _Running()
        self._connection = None
        self._commit_sent = False

    @cached_property
    def folder(self) -> SqlFolder:
        return read_folder(self.directory)

    # -- the database's state ------------------------------------------------------------------
    def applied(self, connection) -> dict:
        return schema_migrations.read_applied(connection, [m.version for m in self.folder.migrations])

    def current(self, connection) -> tuple:
        """The applied versions, in the order the folder runs them (versions whose file is gone last)."""
        applied = self.applied(connection)
        known = [m.label for m in self.folder.migrations if m.version in applied]
        numbers = {m.version for m in self.folder.migrations}
        gone = [str(a.stored) for n, a in sorted(applied.items()) if n not in numbers]
        return tuple(known + gone)

    def nothing_pending_by_the_files(self, current: tuple, direction: str, target: str) -> bool:
        if direction != "upgrade" or target not in ("head", "heads"):
            return False
        applied = {version_number(v) for v in current}
        return all(m.version in applied for m in self.folder.migrations) and not self._folder_errors()

    def _folder_errors(self) -> bool:
        return any(p.rule == "sql-migration-folder" for p in self.folder.problems)

    def probe(self, guard, connection) -> tuple:
        """No env.py to run: the state is read on the run's own (guarded) connection."""
        return self.current(connection)

    # -- planning --------------------------------------------------------------------------------
    def plan(self, current: tuple, direction: str, target: str) -> Plan:
        applied = {version_number(v) for v in current}
        order = self.folder.migrations
        if direction == "upgrade":
            pending = [m for m in order if m.version not in applied]
            if target not in ("head", "heads"):
                wanted = self._migration(target)
                position = order.index(wanted)
                pending = [m for m in pending if order.index(m) <= position]
            steps, before = [], [m for m in order if m.version in applied]
            for migration in pending:
                steps.append(PlannedStep(migration.label, before[-1].label if before else None, migration.title,
                                         str(migration.up), True))
                before.append(migration)
            return Plan(direction, target, tuple(current), steps)
        done = [m for m in order if m.version in applied]
        missing = sorted(applied - {m.version for m in order})
        if missing:
            raise ConfigurationError(f"applied version(s) {', '.join(map(str, missing))} have no file in "
                                     f"{self.directory}; a downgrade cannot run them")
        undo = self._downgrade_range(done, target)
        refusals = [m.downgrade_refusal() for m in undo if m.downgrade_refusal()]
        if refusals:
            raise ConfigurationError(f"downgrade to {target} refused: {'; '.join(refusals)}; nothing was changed")
        steps = []
        for migration in reversed(undo):
            position = done.index(migration)
            steps.append(PlannedStep(migration.label, done[position - 1].label if position else None,
                                     migration.title, str(migration.up), False))
        return Plan(direction, target, tuple(current), steps)

    def _migration(self, target: str):
        migration = self.folder.by_version(target)
        if migration is None:
            raise ConfigurationError(f"no migration {target!r} in {self.directory} (versions: "
                                     f"{', '.join(m.label for m in self.folder.migrations) or 'none'})")
        return migration

    def _downgrade_range(self, done: list, target: str) -> list:
        if target == "base":
            return list(done)
        if target.startswith("-") and target[1:].isdigit():
            count = int(target[1:])
            if count > len(done):
                raise ConfigurationError(f"downgrade {target}: only {len(done)} version(s) are applied")
            return done[len(done) - count:]
        wanted = self._migration(target)
        if wanted not in done:
            raise ConfigurationError(f"downgrade to {target}: version {wanted.label} is not applied")
        return done[done.index(wanted) + 1:]

    def check_runnable(self, plan: Plan) -> None:
        """SQL files import nothing: what stops one is a finding of ``validate``."""

    def validate(self, plan: Plan, postgres_major: int):
        """The pending UP files with the same rules as op.execute SQL, plus the folder's own
        problems (upgrades only, as for Alembic revisions)."""
        if plan.direction != "upgrade" or plan.is_empty:
            return None
        from ..validation import load_config
        from ..validation.sql_files import validate_sql_files

        config = load_config(self.project.ini_path)
        config.postgres_major = postgres_major
        config.lock_timeout = self.project.safety.lock_timeout
        return validate_sql_files([step.path for step in plan.steps], config, problems=self.folder.problems)

    # -- running ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def watching(self) -> Iterator[_Running]:
        self._running = _Running()
        yield self._running

    def run(self, plan: Plan, tracker, events, notes) -> None:
        self._connection = None
        try:
            for step in plan.steps:
                self._with_retries(step, tracker, events, notes, direction=plan.direction)
        finally:
            if self._connection is not None:
                self._connection.close()

    def _connect(self, tracker):
        """The run's connection; a new one after the last was lost (a retry of 'connection lost')."""
        import psycopg2

        if self._connection is not None and not self._connection.closed:
            return self._connection
        settings = self.project.database
        keywords = settings.libpq_keywords()     # no application_name: PGOPTIONS names the run's
        if settings.password is not None:
            keywords["password"] = settings.password
        timeout = self.folder.settings.timeout_seconds
        if timeout:
            # in the startup options (after the wrapper's PGOPTIONS, which an explicit options
            # keyword replaces), not a SET: a file's `RESET statement_timeout` returns to it
            options = keywords.get("options", os.environ.get("PGOPTIONS", ""))
            keywords["options"] = f"{options} -c statement_timeout={int(timeout)}s".strip()
        connection = psycopg2.connect(connect_timeout=10, **keywords)   # the tracker's (patched) connect
        self._connection = connection
        pid = connection.get_backend_pid()
        tracker.side_pids.discard(pid)           # ours, and every commit on it is counted below
        tracker.backend_pids.add(pid)
        return connection

    def _with_retries(self, step: PlannedStep, tracker, events, notes, *, direction: str) -> None:
        """The yaml's retry settings, else the wrapper's. Tried again only when the file's
        transaction never reached its COMMIT: a no-transaction file may have committed part of
        itself, and a failure during the COMMIT leaves unknown whether it committed."""
        yaml = self.folder.settings
        safety = self.project.safety
        attempts = 1 + (yaml.retry_attempts if yaml.retry_attempts is not None else safety.retry_attempts)
        delay = yaml.retry_delay_seconds if yaml.retry_delay_seconds is not None else safety.retry_delay_seconds
        no_transaction = self._script(step).no_transaction
        arrow = (f"{step.down_revision or 'base'} -> {step.revision}" if step.is_upgrade
                 else f"{step.revision} -> {step.down_revision or 'base'}")

        def attempt() -> None:
            # each attempt is a start of the step: timed from its last one, counted in the run record
            self._running.started(step.revision, f"{direction} {arrow}, {step.message}")
            events.step(f"Running {self._running.last}")
            self._apply(self._connect(tracker), step, tracker)

        with_retries(attempt, label=step.revision, attempts=attempts, delay_seconds=delay,
                     nothing_committed=lambda: not no_transaction and not self._commit_sent,
                     events=events, notes=notes)

    def _script(self, step: PlannedStep):
        migration = self.folder.by_version(step.revision)
        return read_script(migration.up if step.is_upgrade else migration.down)

    def _apply(self, connection, step: PlannedStep, tracker) -> None:
        migration = self.folder.by_version(step.revision)
        script = self._script(step)
        started = time.monotonic()
        self._commit_sent = False
        connection.autocommit = script.no_transaction
        try:
            with connection.cursor() as cursor:
                where = script.path.name
                try:
                    for statement in script.statements:
                        where = f"{script.path.name}:{statement.line}"
                        if script.no_transaction:
                            tracker.autocommit_statements += 1      # may have committed even if it fails
                        elif controls_transactions(statement.text):  # commits and goes on, or ROLLBACK mid-file
                            tracker.record_own_commit(connection)
                            tracker.transaction_control_seen(statement.text)
                        cursor.execute(statement.text)
                    where = f"{script.path.name}: recording version {migration.label}"
                    if connection.autocommit:       # a no-transaction file: its row in a transaction of its own
                        connection.autocommit = False
                    self._bookkeeping(connection, cursor, migration, step,
                                      int((time.monotonic() - started) * 1000))
                except Exception as exc:
                    raise SqlStatementFailed(where, exc, connection_lost=bool(connection.closed)) from exc
            self._commit_sent = True                # from here on it may have committed: never retried
            tracker.record_own_commit(connection)
            tracker.announce_commit(connection)
            connection.commit()
            tracker.commits += 1
        except BaseException:
            if not connection.closed:
                with contextlib.suppress(Exception):
                    connection.rollback()
            raise

    def _bookkeeping(self, connection, cursor, migration, step: PlannedStep, elapsed_ms: int) -> None:
        """The version's row, in the file's own transaction (its own INSERT/DELETE were left out)."""
        present = schema_migrations.columns(connection)
        if schema_migrations.is_golang_migrate(present):
            version = step.revision if step.is_upgrade else step.down_revision
            schema_migrations.set_golang_version(cursor, version_number(version) if version else None)
            return
        if step.is_upgrade:
            schema_migrations.ensure_table(cursor)
            schema_migrations.record(cursor, present or schema_migrations.columns(connection),
                                     version=migration.label, name=migration.name, execution_ms=elapsed_ms,
                                     checksum=migration.checksum)
            return
        applied = self.applied(connection).get(migration.version)
        if applied is not None:
            schema_migrations.remove(cursor, applied.stored)

    def offline_sql(self, plan: Plan) -> str:
        """What the run would execute, file by file, with the wrapper's transaction and bookkeeping."""
        parts = []
        for step in plan.steps:
            script = self._script(step)
            migration = self.folder.by_version(step.revision)
            parts.append(f"-- {script.path.name}" + (" (no transaction)" if script.no_transaction else ""))
            if not script.no_transaction:
                parts.append("BEGIN;")
            parts += [s.text.rstrip().rstrip(";") + ";" for s in script.statements]
            if step.is_upgrade:
                parts.append(f"INSERT INTO {schema_migrations.TABLE} (version, name, applied_at, execution_time_ms, "
                             f"checksum) VALUES ('{migration.label}', '{migration.name}', now(), <ms>, "
                             f"'{migration.checksum}');")
            else:
                parts.append(f"DELETE FROM {schema_migrations.TABLE} WHERE version = '{migration.label}';")
            if not script.no_transaction:
                parts.append("COMMIT;")
            parts.append("")
        return "\n".join(parts)

    # -- monitoring --------------------------------------------------------------------------------
    def drift(self, connection) -> list:
        """Applied versions whose UP file changed since (checksum recorded by us or the old runner),
        or whose file is gone."""
        from .history import Drift

        found = []
        for number, applied in sorted(self.applied(connection).items()):
            migration = self.folder.by_version(number)
            if migration is None:
                found.append(Drift(str(applied.stored), "missing", "applied to the database but its SQL file is gone"))
                continue
            actual = migration.checksum
            if applied.checksum and actual != applied.checksum:
                found.append(Drift(migration.label, "changed",
                                   f"{migration.up.name} changed since it was applied (sha256 "
                                   f"{applied.checksum[:12]}… then, {actual[:12]}… now)"))
        return found

    def versions(self, connection) -> list[dict]:
        """Every migration of the folder, in run order, with its bookkeeping row (history/status)."""
        applied = self.applied(connection)
        rows, previous = [], None
        for migration in self.folder.migrations:
            row = applied.get(migration.version)
            if row is None:
                checksum = "pending"
            elif not row.checksum:
                checksum = "not recorded"
            else:
                checksum = "ok" if row.checksum == migration.checksum else "CHANGED"
            rows.append({"revision": migration.label, "down_revision": previous, "name": migration.name,
                         "message": migration.title, "file": migration.up.name, "applied": row is not None,
                         "applied_at": row.applied_at.isoformat(timespec="seconds")
                         if row is not None and hasattr(row.applied_at, "isoformat") else None,
                         "duration_ms": row.execution_ms if row is not None else None, "checksum": checksum,
                         "rollback": migration.downgrade_refusal() is None})
            previous = migration.label
        return rows
