"""The safe upgrade/downgrade: preflight, plan, validate, backup, Alembic, and on failure a
decision from facts whether to restore, the restore itself and its verification.

See DESIGN.md "The flow of one upgrade". Every function here takes plain arguments and returns
a result object; rendering is the CLI's business.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from . import alembic_runner, redaction
from .alembic_runner import CommitTracker, Interruption, Plan, load_script_directory, make_plan, read_current_heads
from .backups import (BackgroundBackup, BackupInfo, check_free_space, estimate_backup_size,
                      remove_partial_backups)
from .catalog_state import catalog_signature, rewind_sequences, sequence_positions
from .events import Events
from .errors import EXIT_FAILED, EXIT_OK, EXIT_VALIDATION, MigrationSafetyError, RestoreError, ValidationFailed
from .migration_lock import migration_lock
from .pgtools import connect, ensure_directory_writable, find_tools, server_info
from .restore import restore_in_place
from .selective_restore import MINIMUM_SERVER_MAJOR, photograph, try_selective_restore
from .run_history import StepRecord, file_checksum, record_run

# Schemas the wrapper owns (the audit trail): never dropped by a restore.
WRAPPER_SCHEMAS = ("migration_safety",)
# How long the backup (and the photograph before it) and the restore wait for a table another
# session holds.
BACKUP_LOCK_WAIT = "60s"
RESTORE_LOCK_WAIT = "60s"


@dataclass
class RunResult:
    command: str
    database: str
    target: str
    status: str                     # applied | up-to-date | dry-run | failed-rolled-back | failed-restored
                                    # | failed-not-restored | failed-restore-failed
    message: str
    revision_before: list = field(default_factory=list)
    revision_after: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    failed_step: Optional[str] = None
    error: Optional[str] = None
    backup: Optional[str] = None
    backup_seconds: Optional[float] = None
    migrate_seconds: Optional[float] = None
    restore_seconds: Optional[float] = None
    restore_mode: Optional[str] = None      # selective | full
    duration_seconds: float = 0.0
    committed_before_failure: Optional[bool] = None
    unsafe_allowed: bool = False
    sql: Optional[str] = None
    findings: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.status in ("applied", "up-to-date"):
            return EXIT_OK
        if self.status == "dry-run":
            return EXIT_VALIDATION if any(f.get("severity") == "error" for f in self.findings) else EXIT_OK
        return EXIT_FAILED


def validate_plan(project, plan: Plan, postgres_major: int):
    """Static checks of the pending revision files (upgrades only; None when nothing is pending)."""
    if plan.direction != "upgrade" or plan.is_empty:
        return None
    from .validation import load_config, validate_paths

    config = load_config(project.ini_path)
    config.postgres_major = postgres_major
    return validate_paths([Path(step.path) for step in plan.steps], config)


def _finding_dicts(report) -> list:
    if report is None:
        return []
    return [{"rule": f.rule, "severity": f.severity, "file": f.file, "line": f.line, "message": f.message}
            for f in report.findings]


class _RunningRevision(logging.Filter):
    """Alembic logs 'Running upgrade a -> b, message' before each step: the last one is the failed
    one. A logger filter, not a handler, because env.py's fileConfig() drops existing handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.last: Optional[str] = None

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text.startswith("Running "):
            self.last = text[len("Running "):].strip()
        return True


@contextlib.contextmanager
def _watch_running_revision() -> Iterator[_RunningRevision]:
    logger = logging.getLogger("alembic.runtime.migration")
    watcher = _RunningRevision()
    logger.addFilter(watcher)
    try:
        yield watcher
    finally:
        logger.removeFilter(watcher)


def describe_failure(exc: BaseException, interruption: Interruption) -> str:
    if interruption.signal_name:
        return f"interrupted by {interruption.signal_name}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    original = getattr(exc, "orig", None)
    if original is not None:
        lines = [line for line in str(original).splitlines() if line.strip()]
        return lines[0].strip() if lines else type(original).__name__
    message = alembic_runner.translate_alembic_error(exc)
    if message:
        return message
    return f"{type(exc).__name__}: {' '.join(redaction.mask(str(exc)).split())}"[:300]   # masked before cut


def safe_migrate(project, direction: str, target: str, *, dry_run: bool = False, take_backup: bool = True,
                 allow_unsafe: bool = False, lock_wait_seconds: Optional[float] = None,
                 events: Events = Events()) -> RunResult:
    """Upgrade or downgrade ``project``'s database to ``target`` safely (see module docstring)."""
    started = time.monotonic()
    started_at = _dt.datetime.now(_dt.timezone.utc)
    settings, safety = project.database, project.safety

    events.step(f"Connecting to {settings.masked_url()}")
    connection = connect(settings)
    try:
        server = server_info(connection)
        current = read_current_heads(connection, project.version_table)
    finally:
        connection.close()

    if dry_run:
        return _dry_run(project, server, current, direction, target, allow_unsafe, started)

    notes: list = []
    tools = None
    if take_backup:
        tools = find_tools(("pg_dump", "pg_restore", "psql"), server.major)
        ensure_directory_writable(safety.backup_dir)
        for leftover in remove_partial_backups(safety.backup_dir):
            notes.append(f"removed {leftover.name}, an incomplete backup left by an interrupted run")
        check_free_space(safety.backup_dir,
                         estimate_backup_size(safety.backup_dir, settings.database, server.database_size))

    wait = safety.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds
    interruption = Interruption()
    with migration_lock(settings, wait_seconds=wait) as lock_connection:
        locked_current = read_current_heads(lock_connection, project.version_table)
        with interruption.catching():
            try:
                # Before the backup, so every change the backup may not hold counts as touched.
                photo_before = _photograph_for_selective_restore(lock_connection, safety, take_backup, server.major,
                                                                 notes, interruption)
                # The backup starts at once and Alembic is imported, the revisions loaded, planned and
                # validated while pg_dump runs; nothing touches the schema until the backup is verified.
                # A run that turns out to have nothing to do, or fails validation, cancels the backup.
                with _backing_up(project, server, locked_current, direction, target, tools, events) as job:
                    config, plan, report = _plan(project, locked_current, direction, target, server.major)
                    result = RunResult(direction, settings.database, target, "", "",
                                       revision_before=list(locked_current), revision_after=list(locked_current),
                                       steps=[s.label for s in plan.steps], findings=_finding_dicts(report),
                                       unsafe_allowed=allow_unsafe, notes=notes)
                    _refuse_unsafe(report, allow_unsafe, result)
                    if plan.is_empty:
                        job.cancel()
                        result.status, result.message = "up-to-date", f"already at {target}; nothing to do"
                        result.duration_seconds = round(time.monotonic() - started, 3)
                        return result
                    backup = job.wait()
            except KeyboardInterrupt:
                raise MigrationSafetyError(f"{describe_failure(KeyboardInterrupt(), interruption)} during the "
                                           "backup; nothing was changed and no partial backup was kept") from None
        if backup is not None:
            result.backup, result.backup_seconds = backup.file, backup.duration_seconds
            events.step(f"Backup verified: {Path(backup.file).name}")
        signature_before = catalog_signature(lock_connection, WRAPPER_SCHEMAS)
        sequences_before = sequence_positions(lock_connection, WRAPPER_SCHEMAS)

        tracker = CommitTracker()
        failure: Optional[BaseException] = None
        migrate_started = time.monotonic()
        events.step(f"Running alembic {direction} {target} ({len(plan.steps)} revision(s))")
        with tracker.listening(), _watch_running_revision() as running, \
                alembic_runner.session_options(safety.lock_timeout, safety.statement_timeout), interruption.catching():
            try:
                alembic_runner.run_command(config, direction, target)
            except BaseException as exc:   # KeyboardInterrupt included: same failure path
                failure = exc
        result.migrate_seconds = round(time.monotonic() - migrate_started, 3)

        after = read_current_heads(lock_connection, project.version_table)
        result.revision_after = list(after)
        if failure is None:
            result.status = "applied"
            result.message = f"{direction} to {target} applied: now at {', '.join(after) or 'base'}"
            _apply_retention(safety, result)
        else:
            _handle_failure(result, failure, interruption, tracker, running.last, locked_current, after,
                            signature_before, sequences_before, lock_connection, project, backup, tools, events,
                            photo_before, server.major)
        result.duration_seconds = round(time.monotonic() - started, 3)
        _record(lock_connection, project, result, plan, started_at)
    return result


def _plan(project, current: tuple, direction: str, target: str, server_major: int):
    """Alembic's Config, the plan of pending revisions, and the validation report of them."""
    config = project.alembic_config(stdout=io.StringIO())
    plan = make_plan(load_script_directory(config), current, direction, target)
    return config, plan, validate_plan(project, plan, server_major)


def _dry_run(project, server, current: tuple, direction: str, target: str, allow_unsafe: bool,
             started: float) -> RunResult:
    """The plan, its validation and the SQL Alembic would run, without a lock, backup or change."""
    _, plan, report = _plan(project, current, direction, target, server.major)
    result = RunResult(direction, project.database.database, target, "dry-run", "", revision_before=list(current),
                       revision_after=list(current), steps=[s.label for s in plan.steps],
                       findings=_finding_dicts(report), unsafe_allowed=allow_unsafe)
    result.sql = alembic_runner.offline_sql(project.ini_path, project.database.sqlalchemy_url(), plan) \
        if not plan.is_empty else ""
    result.message = (f"dry run: {len(plan.steps)} revision(s) would run; nothing was changed and no backup "
                      "was written") if not plan.is_empty else "dry run: already at the target, nothing to do"
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _refuse_unsafe(report, allow_unsafe: bool, result: RunResult) -> None:
    if report is not None and report.errors and not allow_unsafe:
        raise ValidationFailed(f"validation found {len(report.errors)} error(s) in the pending revisions; "
                               "nothing was changed (fix them, or pass --allow-unsafe to proceed anyway)", report)
    if report is not None and report.errors:
        result.notes.append(f"--allow-unsafe: proceeding despite {len(report.errors)} validation error(s)")


class _NoBackup:
    """Stands in for the background backup under --no-backup."""

    def cancel(self) -> None:
        pass

    def wait(self) -> None:
        return None


@contextlib.contextmanager
def _backing_up(project, server, current: tuple, direction: str, target: str, tools: Optional[dict],
                events: Events) -> Iterator:
    """A background backup (or none under --no-backup), cancelled when the block is left
    without having waited for it (nothing to do, validation failed, interrupted)."""
    if tools is None:
        yield _NoBackup()
        return
    settings, safety = project.database, project.safety
    events.step(f"Backing up {settings.database} to {safety.backup_dir}")
    with events.progress("Backup", server.database_size) as progress:
        job = BackgroundBackup(
            settings=settings, directory=safety.backup_dir, pg_dump=tools["pg_dump"], pg_restore=tools["pg_restore"],
            server_version=server.version, revision=current, database_size=server.database_size,
            reason=f"before {direction} to {target}", compression=safety.backup_compression,
            lock_wait_timeout=BACKUP_LOCK_WAIT, progress=progress).start()
        try:
            yield job
        except BaseException:
            job.cancel()
            raise


def _photograph_for_selective_restore(connection, safety, take_backup: bool, server_major: int, notes: list,
                                     interruption: Interruption):
    if not (take_backup and safety.selective_restore) or server_major < MINIMUM_SERVER_MAJOR:
        return None
    try:
        return photograph(connection, WRAPPER_SCHEMAS, lock_timeout=BACKUP_LOCK_WAIT)
    except Exception as exc:  # e.g. no privilege on a sequence: the full restore still works
        if interruption.signal_name:      # the signal cancelled the query: stop, as asked
            raise KeyboardInterrupt from None
        notes.append(f"selective restore unavailable: {' '.join(str(exc).split())[:200]}")
        return None


def _apply_retention(safety, result: RunResult) -> None:
    """After a successful run, the configured retention (never the newest backup of a database)."""
    if safety.retention_days is None and safety.retention_count is None:
        return
    from .backups import delete_backup, list_backups, prune_selection

    for entry in prune_selection(list_backups(safety.backup_dir), keep_days=safety.retention_days,
                                 keep_last=safety.retention_count):
        delete_backup(entry)
        result.notes.append(f"retention removed {entry.archive.name}")


def _record(connection, project, result: RunResult, plan: Plan, started_at) -> None:
    """Append the run to the audit trail; a failure to record is reported, never fatal."""
    try:
        record_run(connection, project.safety.history_table, direction=result.command, started_at=started_at,
                   duration_ms=int(result.duration_seconds * 1000), backup_file=result.backup,
                   outcome=result.status, error=result.error,
                   steps=[StepRecord(step.revision, file_checksum(step.path)) for step in plan.steps])
    except Exception as exc:  # the migration outcome matters more than its record
        result.notes.append(f"could not write the run record: {' '.join(str(exc).split())[:200]}")


def _handle_failure(result: RunResult, failure: BaseException, interruption: Interruption, tracker: CommitTracker,
                    running: Optional[str], before: tuple, after: tuple, signature_before: str,
                    sequences_before: dict, lock_connection,
                    project, backup: Optional[BackupInfo], tools: Optional[dict], events: Events,
                    photo_before=None, server_major: int = 0) -> None:
    result.error = describe_failure(failure, interruption)
    result.failed_step = running
    signature_after = catalog_signature(lock_connection, WRAPPER_SCHEMAS)
    committed = tracker.committed_anything or after != before or signature_after != signature_before
    result.committed_before_failure = committed
    where = f" in {running}" if running else ""
    if not committed:
        rewound = rewind_sequences(lock_connection, sequences_before, WRAPPER_SCHEMAS)
        if rewound:
            result.notes.append(f"rewound {len(rewound)} sequence(s) the failed run had advanced: {', '.join(rewound)}")
        result.status = "failed-rolled-back"
        result.message = (f"{result.command} failed{where}: {result.error}. Rolled back by the transaction, "
                          f"no restore needed: the database is unchanged at {', '.join(before) or 'base'}")
        return
    if backup is None:
        result.status = "failed-not-restored"
        result.message = (f"{result.command} failed{where}: {result.error}. Part of it was committed (now at "
                          f"{', '.join(after) or 'base'}) and --no-backup was given, so nothing was restored")
        return
    events.warn(f"{result.command} failed{where}: {result.error}")
    events.step(f"Part of the run was committed; restoring {Path(backup.file).name}")
    signals_seen: list = []
    restore_started = time.monotonic()
    try:
        with Interruption.deferred(lambda name: (signals_seen.append(name),
                                                 events.warn(f"{name} received: the restore continues; "
                                                             "stopping now would leave the database half-migrated"))):
            with events.progress("Restore", Path(backup.file).stat().st_size) as progress:
                restored = _restore_touched_or_all(project, Path(backup.file), tracker, photo_before, lock_connection,
                                                   server_major, tools, result, progress)
    except (RestoreError, MigrationSafetyError) as exc:
        result.restore_seconds = round(time.monotonic() - restore_started, 3)
        result.status = "failed-restore-failed"
        result.message = (f"{result.command} failed{where}: {result.error}. The automatic restore failed too: "
                          f"{exc}. Restore by hand: migration_utils.py restore --backup {backup.file}")
        return
    result.restore_seconds = restored.duration_seconds
    result.restore_mode = restored.mode
    now = read_current_heads(lock_connection, project.version_table)
    result.revision_after = list(now)
    verified = restored.schema_verified and now == before
    result.status = "failed-restored"
    detail = "schema and revision verified" if verified else \
        f"VERIFICATION FAILED ({restored.schema_difference or 'revision differs'})"
    what = f" (only what the run touched: {restored.restored_objects})" if restored.mode == "selective" else ""
    result.message = (f"{result.command} failed{where}: {result.error}. Restored from {Path(backup.file).name}{what} "
                      f"in {restored.duration_seconds:.1f}s; back at {', '.join(now) or 'base'}, {detail}")
    if not verified:
        result.status = "failed-restore-failed"


def _restore_touched_or_all(project, archive: Path, tracker: CommitTracker, photo_before, lock_connection,
                            server_major: int, tools: dict, result: RunResult, progress):
    """The selective restore when what the run touched is known for certain, else the full one."""
    if project.safety.selective_restore:
        tracker.close_connections()
        restored, why_not = try_selective_restore(
            project.database, archive, photo_before, connection=lock_connection, pids=tracker.backend_pids,
            application_name=alembic_runner.RUN_APPLICATION_NAME, server_major=server_major, tools=tools,
            lock_timeout=RESTORE_LOCK_WAIT, progress=progress)
        if restored is not None:
            return restored
        result.notes.append(f"full restore: {why_not}")
    return restore_in_place(project.database, archive, pg_restore=tools["pg_restore"], psql=tools["psql"],
                            pg_dump=tools["pg_dump"], preserved_schemas=WRAPPER_SCHEMAS,
                            lock_timeout=RESTORE_LOCK_WAIT, progress=progress)
