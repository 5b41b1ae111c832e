"""The safe upgrade/downgrade as one pipeline over a ``RunContext``:

    inspect -> (dry run | nothing to do) -> preflight -> lock -> journal check -> backup while
    env.py is probed and the plan is made and validated -> journal entry -> Alembic -> outcome
    (applied, or on failure: decide from facts whether anything was committed, restore when it
    was) -> journal closed -> run record

See docs and the README's "What happens on failure". Every step reads and writes the context;
the result object is what the CLI renders.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..backup.catalog import (BackgroundBackup, BackupInfo, backup_progress, check_free_space, estimate_backup_size,
                              remove_partial_backups, signing_key)
from ..backup import registry as backup_registry
from ..backup import scope as backup_scope
from ..backup.directory import ensure_directory_writable
from ..backup.restore import OpenedArchive, RestoreResult, restore_in_place
from ..backup.selective_restore import (MINIMUM_SERVER_MAJOR, photograph, try_selective_restore,
                                        wait_for_backends_to_exit)
from ..base.errors import (ConfigurationError, MigrationSafetyError, NeedsAttention, PreflightError, RestoreError,
                           ValidationFailed, command_name)
from ..base.events import Events
from ..postgres.catalog_state import (catalog_signature, committed_row_changes, objects_a_restore_cannot_replace,
                                      rewind_sequences, sequence_positions, tables_with_committed_changes)
from ..postgres.foreign_writes import (ABSENT_BEFORE_RESTORE, DELETED_BY_OTHERS, PRESERVED_TABLE, WRITTEN,
                                       BackupSnapshot, Preservation, export_snapshot, other_sessions,
                                       preserved_counts, restore_notes, run_application_backends, table_storage,
                                       unknown_run_connections, user_tables)
from ..postgres.identity import TargetGuard, WrongDatabase, identify
from ..postgres.live_tables import live_table_reader
from ..postgres.tools import ServerInfo, connect, find_tools, server_identity, server_info
from ..sources import alembic_runner
from ..sources.alembic_runner import CommitTracker, Plan
from ..sources.history import StepRecord, file_checksum, record_run
from ..validation.live import judge_against_database
from . import journal as run_journal
from . import rehearsal
from .interruption import Interruption
from .lock import LockSession, migration_lock
from .outcome import Outcome, RunResult, describe_failure

# Findings that say a revision can commit where the tracker cannot see it (its own COMMIT, a
# connection of its own): a run forced past them that fails may have committed anything.
MAY_COMMIT_UNSEEN_RULES = ("transaction-control-in-revision", "side-connection-in-revision")
# Schemas the wrapper owns (the audit trail and the journal): never dropped by a restore.
WRAPPER_SCHEMAS = ("migration_safety",)
# How long the backup (and the photograph before it) and the restore wait for a table another
# session holds.
BACKUP_LOCK_WAIT = "60s"
RESTORE_LOCK_WAIT = "60s"
# How long a run whose server went away waits for it to come back before deciding what it left.
SERVER_RETURN_WAIT_SECONDS = 60.0


@dataclass
class RunContext:
    """Everything one run knows, filled in step by step."""
    project: object
    direction: str
    target: str
    take_backup: bool
    allow_unsafe: bool
    events: Events
    started: float = field(default_factory=time.monotonic)
    started_at: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))
    server: Optional[ServerInfo] = None
    server_identity: Optional[dict] = None   # recorded in the backup's sidecar (its origin)
    current: tuple = ()
    tools: Optional[dict] = None
    lock: Optional[LockSession] = None
    interruption: Interruption = field(default_factory=Interruption)
    plan: Optional[Plan] = None
    report: object = None
    backup: Optional[BackupInfo] = None
    archive: Optional[OpenedArchive] = None   # the verified backup, held open until the run ends
    backup_snapshot: Optional[BackupSnapshot] = None   # exactly what the backup holds
    sessions_before: list = field(default_factory=list)  # other sessions on the database before the backup
    scope: Optional[backup_scope.BackupScope] = None   # what the backup holds (backup/scope.py)
    photo_before: object = None
    signature_before: Optional[str] = None
    sequences_before: Optional[dict] = None
    changes_before: Optional[dict] = None
    storage_before: Optional[dict] = None    # (schema, table) -> (oid, relfilenode) when the run began
    ended_runs_backends: set = field(default_factory=set)   # an earlier run's sessions still ending
    unknown_connections: Optional[list] = None     # _unknown_run_connections, once asked
    tracker: CommitTracker = field(default_factory=CommitTracker)
    guard: Optional[TargetGuard] = None
    failure: Optional[BaseException] = None
    running_revision: Optional[str] = None
    step_durations_ms: dict = field(default_factory=dict)   # revision -> its own duration (history)
    step_attempts: dict = field(default_factory=dict)       # revision -> times it started (retries)
    steps_ran: list = field(default_factory=list)           # (revision, file) as the source really ran them
    notes: list = field(default_factory=list)
    result: Optional[RunResult] = None
    actor: object = None                   # run_history.Actor of a run asked for through the service
    rehearse: bool = False                 # run the plan on a scratch copy first (rehearsal.py)

    @property
    def source(self):
        """Where the migrations come from: the Alembic project or a SQL folder (``sources``)."""
        return self.project.source

    @property
    def settings(self):
        return self.project.database

    @property
    def safety(self):
        return self.project.safety

    @property
    def connection(self):
        return self.lock.connection

    def new_result(self, status: Outcome, message: str) -> RunResult:
        plan_steps = [step.label for step in self.plan.steps] if self.plan else []
        self.result = RunResult(self.direction, self.settings.database, self.target, status, message,
                                revision_before=list(self.current), revision_after=list(self.current),
                                steps=plan_steps, findings=_finding_dicts(self.report),
                                accepted=_accepted_dicts(self.report),
                                unsafe_allowed=self.allow_unsafe, notes=self.notes, source=self.source.kind)
        return self.result

    def finish(self) -> RunResult:
        self.result.duration_seconds = round(time.monotonic() - self.started, 3)
        return self.result


def _finding_dicts(report) -> list:
    if report is None:
        return []
    return [{"rule": f.rule, "severity": f.severity, "file": f.file, "line": f.line, "message": f.message,
             "revision": f.revision, "phase": f.phase} for f in report.findings]


def _accepted_dicts(report) -> list:
    """The findings the project accepted in ``[migration_safety.accept]``, with the reason given:
    a run that passed because of them says so."""
    if report is None:
        return []
    return [{"rule": f.rule, "revision": f.revision, "file": f.file, "line": f.line, "message": f.message,
             "reason": f.accepted_reason} for f in report.accepted]


def safe_migrate(project, direction: str, target: str, *, dry_run: bool = False, take_backup: bool = True,
                 allow_unsafe: bool = False, lock_wait_seconds: Optional[float] = None,
                 events: Events = Events(), actor=None, rehearse: Optional[bool] = None) -> RunResult:
    """Upgrade or downgrade ``project``'s database to ``target`` safely (see module docstring).
    ``rehearse``: None follows the ``rehearse`` setting; a dry run rehearses only when it is True."""
    run = RunContext(project, direction, target, take_backup, allow_unsafe, events, actor=actor,
                     rehearse=project.safety.rehearse if rehearse is None else rehearse)
    _inspect(run)
    if dry_run and rehearse is not True:
        return _dry_run(run)
    if _nothing_to_do_by_the_files(run):
        run.new_result(Outcome.UP_TO_DATE, f"already at {target}; nothing to do")
        return run.finish()
    _preflight(run)
    wait = run.safety.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds
    with migration_lock(run.settings, wait_seconds=wait) as lock, _closing_archive(run):
        run.lock = lock
        _refuse_after_an_unfinished_run(run)
        with run.interruption.catching():
            try:
                _backup_while_planning(run)
            except KeyboardInterrupt:
                raise MigrationSafetyError(f"{describe_failure(KeyboardInterrupt(), run.interruption)} during the "
                                           "backup; nothing was changed and no partial backup was kept") from None
        if run.plan.is_empty or not rehearsal.rehearse_first(run, dry_run=dry_run):
            return run.finish()
        _before_the_change(run)
        _run_alembic(run)
        _conclude(run)
    return run.finish()


@contextlib.contextmanager
def _closing_archive(run: RunContext) -> Iterator[None]:
    try:
        yield
    finally:
        if run.archive is not None:
            run.archive.close()


def _inspect(run: RunContext) -> None:
    run.events.step(f"Connecting to {run.settings.masked_url()}")
    connection = connect(run.settings)
    try:
        run.server = server_info(connection)
        run.server_identity = server_identity(connection)
        run.current = run.source.current(connection)
    finally:
        connection.close()


def _nothing_to_do_by_the_files(run: RunContext) -> bool:
    """An upgrade to head(s) when the database is at the newest migration by the files: said at
    once, without the lock, the backup preflight or importing Alembic."""
    return run.source.nothing_pending_by_the_files(run.current, run.direction, run.target)


def _preflight(run: RunContext) -> None:
    """Tools, backup directory and room for the backup: found before anything changes."""
    if not run.take_backup:
        return
    safety = run.safety
    run.tools = find_tools(("pg_dump", "pg_restore", "psql"), run.server.major)
    ensure_directory_writable(safety.backup_dir, allow_shared=safety.backup_dir_shared)
    signing_key(safety.backup_dir)        # a key problem is found before the lock, not after the dump
    for leftover in remove_partial_backups(safety.backup_dir):
        run.notes.append(f"removed {leftover.name}, an incomplete backup left by an interrupted run")
    check_free_space(safety.backup_dir,
                     estimate_backup_size(safety.backup_dir, run.settings.database, run.server.database_size))


def _refuse_after_an_unfinished_run(run: RunContext) -> None:
    """A run that died (or ended needing attention) may have left the database half-migrated:
    continuing from there would back up and build on that half state. (An interrupted restore into
    a new database left only that database behind: `recover` drops it, nothing here is at risk.)"""
    entries = [entry for entry in run_journal.unfinished(run.connection) if entry.command != run_journal.RESTORE_INTO]
    if entries:
        raise NeedsAttention(
            f"{entries[0].describe()}. The database may be partially migrated; nothing was changed now",
            hint=f"`{command_name()} recover` restores the backup taken before that run, "
                 "`recover --accept` keeps the database as it is")


def _backup_while_planning(run: RunContext) -> None:
    """The backup starts at once; env.py is probed and the revisions are loaded, planned and
    validated while pg_dump runs. Nothing touches the schema until the backup is verified; a
    run that turns out to have nothing to do, a configuration error or a validation error
    cancels the backup. With ``backup_scope = auto`` the plan read from the revision files
    decides what the backup holds (backup/scope.py) before pg_dump starts; when the plan made after
    env.py ran decides otherwise, the backup starts again with that scope."""
    run.current = run.source.current(run.connection)
    _refuse_what_a_restore_could_not_replace(run)
    # Before the backup, so every change the backup may not hold counts as touched.
    run.photo_before = _photograph_for_selective_restore(run)
    if run.tools is not None and run.safety.backup_scope != "full":
        run.scope = _scope_from_the_files(run)
        if run.scope is None:           # the files alone do not give the plan: plan first, then back up
            if not _plan_and_validate(run, _NoBackup()):
                return
            run.scope = _decide_scope(run, [step.path for step in run.plan.steps])
        else:
            with _backing_up(run) as job:
                if not _plan_and_validate(run, job):
                    return
                decided = _decide_scope(run, [step.path for step in run.plan.steps])
                if run.scope.covers(decided):
                    run.backup = job.wait()
                else:
                    job.cancel()
                    run.scope = decided
        if run.backup is None:
            with _backing_up(run) as job:
                run.backup = job.wait()
        backup_scope.keep_photograph(run.backup, run.scope)
    else:
        run.scope = backup_scope.whole(f"backup_scope = {run.safety.backup_scope}")
        with _backing_up(run) as job:
            if not _plan_and_validate(run, job):
                return
            run.backup = job.wait()
    if run.backup is not None:
        backup_registry.record(run.connection, run.backup)
        run.result.backup, run.result.backup_seconds = run.backup.file, run.backup.duration_seconds
        # Opened now, while it is known good: the restore reads this descriptor, so a backup file
        # deleted, replaced or made unreadable in the directory meanwhile does not matter.
        run.archive = OpenedArchive(Path(run.backup.file), expected_sha256=run.backup.sha256,
                                    expected_size=run.backup.size_bytes)
        if run.scope.is_scoped:
            backup_scope.keep_restore_list(run.archive, run.backup, run.photo_before, run.connection,
                                           run.tools["pg_restore"])
        what = "" if not run.scope.is_scoped else f" (data of {', '.join(run.scope.tables)} only)" \
            if run.scope.tables else " (the schema only: no table the plan can change holds rows yet)"
        run.events.step(f"Backup verified: {Path(run.backup.file).name}{what}")
        if run.scope.uncertain:
            run.notes.append(f"full backup: {run.scope.note[len('auto: '):]}")


def _plan_and_validate(run: RunContext, job) -> bool:
    """False when there is nothing to do (the backup, if running, is cancelled)."""
    run.guard = TargetGuard(identify(run.connection))
    run.current = _probe(run)
    _say_lock_timeout_override(run)
    run.plan = run.source.plan(run.current, run.direction, run.target)
    run.source.check_runnable(run.plan)
    run.report = judge_against_database(run.source.validate(run.plan, run.server.major), run.plan, run.safety,
                                        _live_tables(run, connection=run.connection))
    run.new_result(Outcome.UP_TO_DATE, "")
    _refuse_unsafe(run.report, run.allow_unsafe, run.result)
    if run.plan.is_empty:
        job.cancel()
        run.result.message = f"already at {run.target}; nothing to do"
        return False
    return True


def _scope_from_the_files(run: RunContext) -> Optional[backup_scope.BackupScope]:
    """The scope of the revisions the files say are pending, before env.py runs (which may
    change the plan and the version table): None when the files alone do not say."""
    paths = _files_the_plan_may_run(run)
    return _decide_scope(run, paths) if paths else None


def _files_the_plan_may_run(run: RunContext) -> Optional[list]:
    """For an upgrade to head(s): every revision file that is not the current revision or below
    it, read with ``ast`` (no Alembic import, so pg_dump starts at once); a superset of the plan.
    Otherwise the plan itself (a SQL folder's costs nothing), or None when it cannot be made."""
    if run.source.kind == "alembic" and run.direction == "upgrade" and run.target in ("head", "heads"):
        files = run.project.revision_files()
        applied, below = set(), list(run.current)
        while below:
            revision = below.pop()
            if revision in applied:
                continue
            if revision not in files:       # a revision no file names: Alembic's plan will say
                return None
            applied.add(revision)
            below.extend(files[revision][1].downs)
        return [path for revision, (path, _) in sorted(files.items()) if revision not in applied]
    if run.source.kind != "sql":
        return None
    try:
        plan = run.source.plan(run.current, run.direction, run.target)
    except Exception:  # said again, in its place, by the plan made after the probe
        return None
    return [step.path for step in plan.steps]


def _decide_scope(run: RunContext, paths: list) -> backup_scope.BackupScope:
    if run.rehearse:        # the rehearsal may fill its copy from the backup: every table's rows are needed
        return backup_scope.whole("auto: a rehearsed run restores the backup into its copy")
    version_table = getattr(run.source, "_version_table", None)
    always = {"alembic_version", "schema_migrations", run.safety.history_table,
              getattr(version_table, "name", None) or "alembic_version"}
    decided = backup_scope.decide_scope(
        run.connection, paths, run.direction, run.source.kind, setting=run.safety.backup_scope,
        photographed=run.photo_before is not None, backup_format=run.safety.backup_format,
        excluded_schemas=WRAPPER_SCHEMAS, always=always)
    return backup_scope.with_photograph(decided, run.photo_before)


def _refuse_what_a_restore_could_not_replace(run: RunContext) -> None:
    """A restore drops and recreates what it restores, then gives it back to its owner. An object
    owned by a role this one is not a member of cannot be dropped, and one whose owner lacks CREATE
    on its schema cannot be given back: a failed run could not be undone exactly. Said before
    anything changes, naming the object and the privilege needed."""
    if not run.take_backup:
        return
    blocked = objects_a_restore_cannot_replace(run.connection, WRAPPER_SCHEMAS)
    if not blocked:
        return
    kind, name, owner, grant = blocked[0]
    others = f" (and {len(blocked) - 1} more object(s))" if len(blocked) > 1 else ""
    raise PreflightError(
        f"{kind} {name} is owned by role {owner}{others}: a restore after a failed run could not drop and "
        f"recreate it as it is ({grant} would let it); nothing was changed",
        hint=f"{grant}, run as {owner} or a superuser, or take the risk with --no-backup")


def _say_lock_timeout_override(run: RunContext) -> None:
    """env.py that sets its own lock_timeout (Langflow's: ``SET LOCAL lock_timeout = '180s'``)
    replaces the wrapper's for every revision: said before the backup, and in the result."""
    override = getattr(run.source, "lock_timeout_override", None)
    if not override:
        return
    text = (f"env.py sets lock_timeout = {override} for the revisions, so the wrapper's lock_timeout "
            f"({run.safety.lock_timeout}) does not apply: a statement waits up to {override} for a lock, "
            "and the application's queries on that table queue behind it meanwhile")
    run.events.warn(text)
    run.notes.append(text)


def _probe(run: RunContext):
    try:
        with alembic_runner.session_options(run.safety.lock_timeout, run.safety.statement_timeout,
                                            alembic_runner.PROBE_APPLICATION_NAME, server_major=run.server.major):
            return run.source.probe(run.guard, run.connection)
    except WrongDatabase as exc:
        raise ConfigurationError(f"{exc}; nothing was changed",
                                 hint="make env.py and the wrapper's settings (POSTGRES_*/DATABASE_URL, "
                                      "sqlalchemy.url) name the same database") from None


def _before_the_change(run: RunContext) -> None:
    """The facts the failure path compares with, and the journal entry that outlives us."""
    run.signature_before = catalog_signature(run.connection, WRAPPER_SCHEMAS)
    run.sequences_before = sequence_positions(run.connection, WRAPPER_SCHEMAS)
    run.changes_before = committed_row_changes(run.connection, WRAPPER_SCHEMAS)
    run.storage_before = table_storage(run.connection, WRAPPER_SCHEMAS)
    run.ended_runs_backends = run_application_backends(run.connection, alembic_runner.RUN_APPLICATION_NAME)
    run.result.run_id = run_journal.open_entry(run.connection, command=run.direction, target=run.target,
                                               revision_before=run.current, backup=run.backup)


def _run_alembic(run: RunContext) -> None:
    started = time.monotonic()
    run.events.step(f"Running {run.source.kind} {run.direction} {run.target} ({len(run.plan.steps)} revision(s))")
    with run.tracker.listening(run.guard), run.source.watching() as running, \
            alembic_runner.session_options(run.safety.lock_timeout, run.safety.statement_timeout,
                                           server_major=run.server.major), \
            run.interruption.catching():
        try:
            run.source.run(run.plan, run.tracker, run.events, run.notes)
        except BaseException as exc:   # KeyboardInterrupt included: same failure path
            run.failure = exc
    run.running_revision = running.last
    run.step_durations_ms = running.durations_ms(time.monotonic())
    run.step_attempts = running.attempts()
    run.steps_ran = [(revision, running.paths.get(revision)) for revision in running.ran()]
    run.result.migrate_seconds = round(time.monotonic() - started, 3)


def _conclude(run: RunContext) -> None:
    """Applied, or the failure path; then the journal entry is closed and the run recorded."""
    result = run.result
    lost = run.lock.regain(SERVER_RETURN_WAIT_SECONDS)
    if lost is not None:
        _lost_track(run, lost)
        return
    after = run.source.current(run.connection)
    result.revision_after = list(after)
    if run.failure is None:
        result.status = Outcome.APPLIED
        result.message = f"{run.direction} to {run.target} applied: now at {', '.join(after) or 'base'}"
        _check_scope_held(run)
        _apply_retention(run.safety, result)
    else:
        _handle_failure(run, after)
    run.finish()
    _close_journal(run)
    _record(run)
    if run.guard.refused is not None and result.status is Outcome.ROLLED_BACK:
        raise ConfigurationError(f"{run.guard.refused}; nothing was changed",
                                 hint="make env.py and the wrapper's settings name the same database")
    # A revision file Alembic could not import (its first act, before any step): the project's setup
    if isinstance(run.failure, ConfigurationError) and result.status is Outcome.ROLLED_BACK:
        raise ConfigurationError(f"{run.failure}; nothing was changed", hint=run.failure.hint)


def _check_scope_held(run: RunContext) -> None:
    """A scoped backup protected the run only if nothing outside its scope was committed: said,
    never silent (exit 4, the tables named)."""
    if run.backup is None or not run.backup.is_scoped:
        return
    run.tracker.close_connections()
    unprotected = backup_scope.changes_outside_after_run(
        run.connection, run.photo_before, run.backup.scope_tables, pids=run.tracker.all_pids,
        application_name=alembic_runner.RUN_APPLICATION_NAME)
    if unprotected:
        run.result.status = Outcome.APPLIED_UNPROTECTED
        run.result.message = f"{run.result.message}; NOT FULLY PROTECTED: {unprotected}"


def _lost_track(run: RunContext, why: str) -> None:
    """The server or the lock session went away and could not be had back: what the run left
    cannot be checked now. The journal entry stays open, so the next run finds it."""
    result = run.result
    result.status = Outcome.INTERRUPTED
    result.error = describe_failure(run.failure, run.interruption) if run.failure else None
    result.message = (f"{run.direction} lost its connection to the database ({why}); the database may be "
                      f"partially migrated. The next run finds this run's journal entry "
                      f"{(result.run_id or '')[:8]}: `recover` restores {result.backup or 'nothing (no backup)'}, "
                      "`recover --accept` keeps the database as it is")


def _close_journal(run: RunContext) -> None:
    result = run.result
    # rows copied aside need a person, but the database itself is as before the run: not unfinished
    attention = result.status.database_in_doubt and result.status is not Outcome.RESTORED_ROWS_ASIDE
    try:
        run_journal.close_entry(run.connection, result.run_id,
                                run_journal.ATTENTION if attention else run_journal.FINISHED,
                                result.message if attention else None)
    except Exception as exc:  # the entry stays open: the next run reports it, which is what we want
        result.notes.append(f"could not close the journal entry: {' '.join(str(exc).split())[:200]}")


def _live_tables(run: RunContext, **where):
    return live_table_reader(max_harmless_rows=run.safety.validation_max_harmless_rows, **where)


def _dry_run(run: RunContext) -> RunResult:
    """The plan, its validation and the SQL Alembic would run, without a lock, backup or change."""
    run.plan = run.source.plan(run.current, run.direction, run.target)
    run.report = judge_against_database(run.source.validate(run.plan, run.server.major), run.plan, run.safety,
                                        _live_tables(run, settings=run.settings))
    result = run.new_result(Outcome.DRY_RUN, "")
    if run.plan.is_empty:
        result.sql, result.message = "", "dry run: already at the target, nothing to do"
    else:
        result.sql = run.source.offline_sql(run.plan)
        result.message = (f"dry run: {len(run.plan.steps)} revision(s) would run; nothing was changed and no "
                          "backup was written")
    return run.finish()


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
def _backing_up(run: RunContext) -> Iterator:
    """A background backup (or none under --no-backup), cancelled when the block is left
    without having waited for it (nothing to do, validation failed, interrupted)."""
    if run.tools is None:
        yield _NoBackup()
        return
    settings, safety, server = run.settings, run.safety, run.server
    run.events.step(f"Backing up {settings.database} to {safety.backup_dir}")
    run.sessions_before = other_sessions(run.connection, (), alembic_runner.RUN_APPLICATION_NAME)
    # The backup reads a snapshot this connection exports and holds until the dump is done: then
    # which row versions the backup holds is known exactly (foreign_writes).
    snapshot_holder = connect(settings, autocommit=False)
    with contextlib.closing(snapshot_holder), \
            run.events.progress(*backup_progress(safety.backup_dir, settings.database, server.database_size)) as progress:
        exported, run.backup_snapshot = export_snapshot(snapshot_holder)
        job = BackgroundBackup(
            settings=settings, directory=safety.backup_dir, pg_dump=run.tools["pg_dump"],
            pg_restore=run.tools["pg_restore"], server_version=server.version, revision=run.current,
            database_size=server.database_size, reason=f"before {run.direction} to {run.target}",
            compression=safety.backup_compression, backup_format=safety.backup_format,
            lock_wait_timeout=BACKUP_LOCK_WAIT, progress=progress,
            server_identity=run.server_identity, snapshot=exported, scope=run.scope).start()
        try:
            yield job
        except BaseException:
            job.cancel()
            raise


def _photograph_for_selective_restore(run: RunContext):
    if not (run.take_backup and run.safety.selective_restore) or run.server.major < MINIMUM_SERVER_MAJOR:
        return None
    try:
        return photograph(run.connection, WRAPPER_SCHEMAS, lock_timeout=BACKUP_LOCK_WAIT)
    except Exception as exc:  # e.g. no privilege on a sequence: the full restore still works
        if run.interruption.signal_name:      # the signal cancelled the query: stop, as asked
            raise KeyboardInterrupt from None
        run.notes.append(f"selective restore unavailable: {' '.join(str(exc).split())[:200]}")
        return None


def _apply_retention(safety, result: RunResult) -> None:
    """After a successful run, the configured retention (never the newest backup of a database)."""
    if safety.retention_days is None and safety.retention_count is None:
        return
    from ..backup.catalog import delete_backup, list_backups, pinned_among, prune_selection

    entries = list_backups(safety.backup_dir)
    for entry in prune_selection(entries, keep_days=safety.retention_days, keep_last=safety.retention_count):
        delete_backup(entry)
        result.notes.append(f"retention removed {entry.archive.name}")
    for entry, run_id in pinned_among(entries, keep_days=safety.retention_days, keep_last=safety.retention_count):
        result.notes.append(f"retention kept {entry.archive.name}: `recover` of interrupted run {run_id[:8]} needs it")


def _record(run: RunContext) -> None:
    """Append the run to the audit trail; a failure to record is reported, never fatal."""
    result = run.result
    try:
        record_run(run.connection, run.safety.history_table, direction=result.command, started_at=run.started_at,
                   duration_ms=int(result.duration_seconds * 1000), backup_file=result.backup,
                   outcome=result.status.value, error=result.error,
                   steps=[StepRecord(revision, file_checksum(path) if path else None,
                                     run.step_durations_ms.get(revision), run.step_attempts.get(revision, 0))
                          for revision, path in _recorded_steps(run)],
                   actor=run.actor)
    except Exception as exc:  # the migration outcome matters more than its record
        result.notes.append(f"could not write the run record: {' '.join(str(exc).split())[:200]}")


def _recorded_steps(run: RunContext) -> list:
    """(revision, file) for the run record: the steps that really ran, which is what Alembic did
    whatever the plan said; after a failure also the planned steps that never started."""
    planned = [(step.revision, step.path) for step in run.plan.steps]
    if not run.steps_ran:
        return planned
    files = dict(planned)
    ran = [(revision, path or files.get(revision)) for revision, path in run.steps_ran]
    if run.failure is None:
        return ran
    started = {revision for revision, _ in ran}
    return ran + [(revision, path) for revision, path in planned if revision not in started]


def _committed_anything(run: RunContext, after: tuple) -> bool:
    """Did the failed run leave anything committed? From facts: commits SQLAlchemy saw (and COMMIT
    statements run through it), the version table, connections opened on the side whose commits
    nothing can see (asyncpg's; the server's list of the run's connections), the schema's
    signature — and, when a revision opened psycopg2 connections of its own, the committed-row
    counters of every table, read once the run's connections have ended and flushed their
    statistics."""
    if run.tracker.committed_anything or after != tuple(run.current):
        return True
    if getattr(run.source, "transaction_mode", "single") == "autocommit" and run.tracker.backend_pids:
        # every statement env.py's connection ran committed on its own, whatever a driver's events showed
        run.notes.append("env.py runs the migrations in autocommit: every statement that ran is committed")
        return True
    blind = run.tracker.unwatched_connections or _unknown_run_connections(run)
    if blind:
        run.notes.append(f"counted as committed: the run opened connections whose commits cannot be seen "
                         f"({', '.join(blind)}), so only a restore proves the database unchanged")
        return True
    unseen = _may_commit_unseen(run)
    if unseen:
        run.notes.append(f"counted as committed: {unseen} (validation), so only a restore proves the database "
                         "unchanged")
        return True
    if catalog_signature(run.connection, WRAPPER_SCHEMAS) != run.signature_before:
        return True
    if not run.tracker.side_pids:
        return False
    run.tracker.close_connections()
    still_open = wait_for_backends_to_exit(run.connection, run.tracker.all_pids,
                                           alembic_runner.RUN_APPLICATION_NAME)
    if still_open:
        run.notes.append(f"counted as committed: {still_open}")
        return True
    changed = tables_with_committed_changes(run.changes_before, committed_row_changes(run.connection,
                                                                                      WRAPPER_SCHEMAS))
    if changed:
        run.notes.append(f"a connection the revision opened itself committed changes to {', '.join(changed)}")
    return bool(changed)


def _handle_failure(run: RunContext, after: tuple) -> None:
    result = run.result
    result.error = describe_failure(run.failure, run.interruption)
    result.failed_step = run.running_revision
    committed = _committed_anything(run, after)
    result.committed_before_failure = committed
    where = f" in {run.running_revision}" if run.running_revision else ""
    failed = f"{result.command} failed{where}: {result.error}."
    if not committed:
        others = _sessions_that_may_have_drawn(run)
        if others:
            advanced = [name for name, now in sequence_positions(run.connection, WRAPPER_SCHEMAS).items()
                        if name in run.sequences_before and now.position != run.sequences_before[name].position]
            if advanced:
                result.notes.append(
                    f"left {len(advanced)} sequence(s) advanced ({', '.join(advanced)}): other sessions were "
                    f"connected ({', '.join(others[:3])}) and may hold values drawn from them; a gap in the "
                    "numbers is harmless, a value handed out twice is not")
        else:
            rewound = rewind_sequences(run.connection, run.sequences_before, WRAPPER_SCHEMAS)
            if rewound:
                result.notes.append(f"rewound {len(rewound)} sequence(s) the failed run had advanced: "
                                    f"{', '.join(rewound)}")
        result.status = Outcome.ROLLED_BACK
        result.message = (f"{failed} Rolled back by the transaction, no restore needed: the database is "
                          f"unchanged at {', '.join(run.current) or 'base'}")
        return
    if run.backup is None:
        result.status = Outcome.NOT_RESTORED
        result.message = (f"{failed} Part of it was committed (now at {', '.join(after) or 'base'}) and "
                          "--no-backup was given, so nothing was restored; the database needs attention")
        return
    run.events.warn(f"{result.command} failed{where}: {result.error}")
    run.events.step(f"Part of the run was committed; restoring {Path(run.backup.file).name}")
    restore_started = time.monotonic()
    try:
        with Interruption.deferred(lambda name: run.events.warn(
                f"{name} received: the restore continues; stopping now would leave the database half-migrated")):
            restored = _restore_touched_or_all(run)
    except (RestoreError, MigrationSafetyError) as exc:
        result.restore_seconds = round(time.monotonic() - restore_started, 3)
        result.status = Outcome.RESTORE_FAILED
        result.message = (f"{failed} The automatic restore failed too: {exc}. The database needs attention: "
                          f"`{command_name()} recover` restores {Path(run.backup.file).name}")
        return
    result.restore_seconds = restored.duration_seconds
    result.restore_mode = restored.mode
    now = run.source.current(run.connection)
    result.revision_after = list(now)
    verified = restored.schema_verified and now == tuple(run.current)
    result.status = Outcome.RESTORED if verified else Outcome.RESTORE_FAILED
    detail = "schema and revision verified" if verified else \
        f"VERIFICATION FAILED ({restored.schema_difference or 'revision differs'}); the database needs attention"
    what = f" (only what the run touched: {restored.restored_objects})" if restored.mode == "selective" else ""
    result.message = (f"{failed} Restored from {Path(run.backup.file).name}{what} in "
                      f"{restored.duration_seconds:.1f}s; back at {', '.join(now) or 'base'}, {detail}")
    _report_rows_set_aside(run)


def _report_rows_set_aside(run: RunContext) -> None:
    """After a restore: the rows other sessions wrote meanwhile (copied aside) and the rows deleted
    meanwhile that the restore brought back (recorded) are said, with what to do about them."""
    result = run.result
    recorded = preserved_counts(run.connection, result.run_id)
    written, deleted, absent = (recorded.get(kind, {}) for kind in (WRITTEN, DELETED_BY_OTHERS, ABSENT_BEFORE_RESTORE))
    result.notes.extend(f"deleted rows not checked in {note}" for note in restore_notes(run.connection, result.run_id))
    if not (written or deleted or absent):
        return
    result.preserved_rows, result.rows_deleted_by_others, result.rows_absent_before_restore = written, deleted, absent
    if result.status is Outcome.RESTORED:
        result.status = Outcome.RESTORED_ROWS_ASIDE
    where = f"{PRESERVED_TABLE} (run_id '{result.run_id}'"
    if written:
        result.message += (
            f". Other sessions wrote rows to tables the restore reloaded while the run was in progress; "
            f"they are not in those tables now but were copied to {where}, kind '{WRITTEN}'; {_counts(written)}). "
            f"Re-insert the ones still wanted, e.g. INSERT INTO <table> SELECT "
            f"(jsonb_populate_record(NULL::<table>, row_data)).* FROM {PRESERVED_TABLE} WHERE run_id = "
            f"'{result.run_id}' AND table_name = '<table>' AND kind = '{WRITTEN}'")
    if deleted:
        result.message += (
            f". Rows deleted by other sessions while the run was in progress are in the reloaded tables again "
            f"(they are the backup's); they are listed in {where}, kind '{DELETED_BY_OTHERS}'; {_counts(deleted)})")
    if absent:
        result.message += (
            f". Rows absent before the restore (deleted by the run or by another session: which cannot be told) "
            f"are in the reloaded tables again; they are listed in {where}, kind '{ABSENT_BEFORE_RESTORE}'; "
            f"{_counts(absent)})")
    if deleted or absent:
        result.message += (
            f". Delete again the ones that must stay deleted, e.g. DELETE FROM <table> t WHERE pg_catalog.to_jsonb(t) "
            f"IN (SELECT row_data FROM {PRESERVED_TABLE} WHERE run_id = '{result.run_id}' AND table_name = "
            f"'<table>' AND kind = '<kind>')")


def _counts(per_table: dict) -> str:
    return ", ".join(f"{table}: {count}" for table, count in per_table.items())


def _bookkeeping_tables(run: RunContext) -> frozenset:
    """The names of the tables the migration tool itself keeps (Alembic's version table, a SQL
    folder's schema_migrations): written by the run only."""
    from ..sources import schema_migrations

    version_table = getattr(run.source, "version_table", None)
    return frozenset(name for name in (getattr(version_table, "name", None), schema_migrations.TABLE) if name)


def _restore_touched_or_all(run: RunContext):
    """The selective restore when what the run touched is known for certain, else the full one.
    Either reads the backup through the descriptor opened when it was verified, and first copies
    aside the rows other sessions wrote to the tables it reloads (foreign_writes)."""
    tools, archive, backup = run.tools, run.archive, run.backup
    others = _sessions_that_may_have_drawn(run)
    preservation = Preservation(run.backup_snapshot, frozenset(run.tracker.own_xids), run.result.run_id,
                                _sequences_others_may_hold(run, others), _bookkeeping_tables(run),
                                deletes_checked=bool(others),
                                run_may_have_deleted=_tables_the_run_may_have_emptied(run) if others else None,
                                run_updated=frozenset(run.tracker.own_updates))
    with run.events.progress("Restore", archive.size) as progress:
        if run.safety.selective_restore:
            run.tracker.close_connections()
            restored, why_not = try_selective_restore(
                run.settings, archive, run.photo_before, connection=run.connection, pids=run.tracker.all_pids,
                application_name=alembic_runner.RUN_APPLICATION_NAME, server_major=run.server.major, tools=tools,
                lock_timeout=RESTORE_LOCK_WAIT, progress=progress, not_the_runs=_tables_not_the_runs(run),
                preservation=preservation)
            if restored is not None:
                return restored
            if backup.is_scoped and backup_scope.unchanged_since(why_not):
                # nothing the run committed changed a relation: nothing to restore (the full
                # backup's answer would be a whole-database restore to the same state)
                return RestoreResult(archive.path, 0.0, True, mode="selective",
                                     restored_objects=backup_scope.NOTHING_CHANGED)
            if backup.is_scoped:
                raise RestoreError(f"the selective restore cannot be done ({why_not}), and "
                                   f"{backup_scope.refusal(backup)}")
            run.notes.append(f"full restore: {why_not}")
        return restore_in_place(run.settings, archive, pg_restore=tools["pg_restore"], psql=tools["psql"],
                                pg_dump=tools["pg_dump"], preserved_schemas=WRAPPER_SCHEMAS,
                                lock_timeout=RESTORE_LOCK_WAIT, progress=progress, preservation=preservation)


def _may_commit_unseen(run: RunContext) -> str:
    """Where the plan can commit out of the tracker's sight, as validation found it ('' if nowhere)."""
    report = run.report
    found = [f for f in [*(report.findings if report else ()), *(report.accepted if report else ())]
             if f.rule in MAY_COMMIT_UNSEEN_RULES]
    return "; ".join(sorted({f"{f.rule} at {Path(f.file).name}:{f.line}" for f in found}))


def _unattributed_commits(run: RunContext) -> list:
    """Why some commits of the run may not be known with what they wrote (empty: all are)."""
    unseen = _may_commit_unseen(run)
    return run.tracker.unattributed + ([unseen] if unseen else [])


def _unknown_run_connections(run: RunContext) -> list:
    """The run's connections no hook saw (foreign_writes.unknown_run_connections), asked of the
    server once, after the run: the failure path needs the answer twice."""
    if run.unknown_connections is None:
        run.unknown_connections = unknown_run_connections(
            run.connection, run.tracker.all_pids | run.ended_runs_backends, alembic_runner.RUN_APPLICATION_NAME)
    return run.unknown_connections


def _tables_the_run_may_have_emptied(run: RunContext) -> Optional[frozenset]:
    """The tables the run may have removed rows from: its commits deleted from them, or their
    storage is not the one they had when it began (TRUNCATE, a rewrite, dropped and created
    again: no delete is counted). None when some commit of the run went unseen: any table."""
    if _unattributed_commits(run) or run.storage_before is None or _unknown_run_connections(run):
        return None
    now = table_storage(run.connection, WRAPPER_SCHEMAS)
    replaced = {table for table, storage in now.items() if run.storage_before.get(table) != storage}
    return frozenset(run.tracker.own_deletes) | frozenset(replaced)


def _tables_not_the_runs(run: RunContext) -> frozenset:
    """Tables the run certainly did not write: every commit of the run was seen and none changed
    them. Empty when some commit escaped the tracker (then any table may be the run's)."""
    unattributed = _unattributed_commits(run)
    if unattributed:
        run.notes.append(f"the run's own writes cannot all be told from other sessions' ({'; '.join(unattributed)}):"
                         " every table that changed is restored, other sessions' rows copied aside first")
        return frozenset()
    return frozenset(user_tables(run.connection, WRAPPER_SCHEMAS)) - frozenset(run.tracker.own_tables)


def _sessions_that_may_have_drawn(run: RunContext) -> list:
    """Other sessions seen on the database before the backup or now: any of them may hold a value
    drawn from a sequence since the backup (nextval() is never rolled back, and an application may
    draw ids ahead of inserting them)."""
    now = other_sessions(run.connection, run.tracker.all_pids, alembic_runner.RUN_APPLICATION_NAME)
    return sorted(set(run.sessions_before) | set(now))


def _sequences_others_may_hold(run: RunContext, others: list) -> tuple:
    """(schema, name) of every sequence the restore must not move back: all of them when other
    sessions (``others``) are or were connected (any may hold a value drawn since the backup), else none."""
    if not others:
        return ()
    run.notes.append(f"sequences are left no further back than before the restore (a gap, harmless): other "
                     f"sessions were connected ({', '.join(others[:3])}) and may hold values drawn from them")
    return tuple(sorted((position.schema, position.sequence)
                        for position in sequence_positions(run.connection, WRAPPER_SCHEMAS).values()))


def _is_superuser(connection) -> bool:
    from ..postgres.tools import query_one

    return bool(query_one(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0])


def restore_under_lock(project, lock: LockSession, archive: Path, info: BackupInfo, *, server: ServerInfo,
                       tools: dict, events: Events, reason: str, server_identity: Optional[dict] = None):
    """A manual restore (``restore``, ``recover``) through the same steps as a run: under the
    migration lock, a backup of the current state first (so the restore can itself be undone), a
    journal entry while it changes the database, the archive read through one descriptor and
    checked against its recorded hash, the schema verified, the run recorded. Returns the
    RestoreResult and the pre-restore backup."""
    from ..backup.catalog import create_backup

    settings, safety = project.database, project.safety
    started_at = _dt.datetime.now(_dt.timezone.utc)
    if _is_superuser(lock.connection):
        events.warn(f"{settings.user} is a superuser: the archive's SQL runs with every privilege (COPY ... TO "
                    "PROGRAM runs commands on the server); restore only backups whose origin you trust, or restore "
                    "as the database owner")
    current = project.source.current(lock.connection)
    events.step("Backing up the current state first, so this restore can be undone")
    with events.progress(*backup_progress(safety.backup_dir, settings.database, server.database_size)) as progress:
        safety_copy = create_backup(
            settings, safety.backup_dir, pg_dump=tools["pg_dump"], pg_restore=tools["pg_restore"],
            server_version=server.version, revision=current, database_size=server.database_size,
            reason=f"before {reason}", compression=safety.backup_compression, backup_format=safety.backup_format,
            progress=progress,
            server_identity=server_identity)
    backup_registry.record(lock.connection, safety_copy)
    run_id = run_journal.open_entry(lock.connection, command="restore", target=archive.name,
                                    revision_before=current, backup=safety_copy)
    events.step(f"Restoring {archive.name} in one transaction"
                + (f" (only its scope: {', '.join(info.scope_tables)})" if info.is_scoped else ""))
    try:
        with Interruption.deferred(lambda name: events.warn(f"{name} received: the restore continues")), \
                OpenedArchive(archive, expected_sha256=info.sha256, expected_size=info.size_bytes) as opened, \
                events.progress("Restore", opened.size) as progress:
            if info.is_scoped:
                restored = backup_scope.restore_scope(
                    settings, opened, info, connection=lock.connection, server_major=server.major, tools=tools,
                    application_name=alembic_runner.RUN_APPLICATION_NAME, progress=progress)
            else:
                restored = restore_in_place(settings, opened, pg_restore=tools["pg_restore"], psql=tools["psql"],
                                            pg_dump=tools["pg_dump"], preserved_schemas=WRAPPER_SCHEMAS,
                                            progress=progress)
    except (RestoreError, ConfigurationError):
        # atomic: the database is as it was before this restore began
        run_journal.close_entry(lock.connection, run_id, run_journal.FINISHED, "restore rolled back")
        raise
    verified = restored.schema_verified
    run_journal.close_entry(lock.connection, run_id, run_journal.FINISHED if verified else run_journal.ATTENTION,
                            None if verified else f"schema differs after the restore: {restored.schema_difference}")
    record_run(lock.connection, safety.history_table, direction="restore", started_at=started_at,
               duration_ms=int(restored.duration_seconds * 1000), backup_file=str(archive),
               outcome="restored" if verified else "restored-schema-differs",
               steps=[StepRecord(revision, None) for revision in info.revision], error=restored.schema_difference)
    return restored, safety_copy


def restore_into_new_database(project, lock: LockSession, archive: Path, info: BackupInfo, target_db: str, *,
                              tools: dict, events: Events):
    """``restore --target-db``: the backup restored into a new database, the configured one left
    alone, through the same steps as every restore: under the configured database's migration
    lock, a journal entry there while the new database is being filled (a restore killed midway
    leaves an entry that `recover` settles by dropping the partial database), the archive read
    through one descriptor checked against its recorded hash, the schema verified, the run recorded."""
    from ..postgres.tools import quote_ident

    settings, safety = project.database, project.safety
    started_at = _dt.datetime.now(_dt.timezone.utc)
    with lock.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target_db,))
        if cursor.fetchone():
            raise ConfigurationError(f"database {target_db!r} already exists; name a new one")
    current = project.source.current(lock.connection)
    run_id = run_journal.open_entry(lock.connection, command=run_journal.RESTORE_INTO, target=target_db,
                                    revision_before=current, backup=None)
    try:
        try:
            with lock.connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {quote_ident(target_db)}")
        except Exception as exc:
            raise PreflightError(f"cannot create database {target_db!r}: {' '.join(str(exc).split())}") from None
        events.step(f"Restoring {archive.name} into new database {target_db}")
        with Interruption.deferred(lambda name: events.warn(f"{name} received: the restore continues")), \
                OpenedArchive(archive, expected_sha256=info.sha256, expected_size=info.size_bytes) as opened, \
                events.progress("Restore", opened.size) as progress:
            restored = restore_in_place(settings.with_database(target_db), opened, pg_restore=tools["pg_restore"],
                                        psql=tools["psql"], pg_dump=tools["pg_dump"], preserved_schemas=(),
                                        progress=progress)
    except BaseException:
        drop_database(settings, target_db)      # an empty or partial leftover would block the next attempt
        run_journal.close_entry(lock.connection, run_id, run_journal.FINISHED,
                                f"restore into {target_db} failed; the database was dropped")
        raise
    verified = restored.schema_verified
    run_journal.close_entry(lock.connection, run_id, run_journal.FINISHED if verified else run_journal.ATTENTION,
                            None if verified else f"schema differs after the restore: {restored.schema_difference}")
    record_run(lock.connection, safety.history_table, direction="restore", started_at=started_at,
               duration_ms=int(restored.duration_seconds * 1000), backup_file=str(archive),
               outcome=f"restored-into-{target_db}" if verified else "restored-schema-differs",
               steps=[StepRecord(revision, None) for revision in info.revision], error=restored.schema_difference)
    return restored


def drop_database(settings, name: str) -> None:
    """Best effort: the database is gone afterwards unless the server refuses (a session on it)."""
    from ..postgres.tools import quote_ident

    admin = connect(settings)
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
    except Exception:  # psycopg2.Error: the caller's own error is the one to report
        pass
    finally:
        admin.close()
