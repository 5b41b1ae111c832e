"""One function per CLI command, after Alembic's command.py: each takes the project first and
plain arguments, resolves what it needs, hands off, and returns data for the CLI to render."""
from __future__ import annotations

import contextlib
import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from .base.errors import ConfigurationError

if TYPE_CHECKING:   # orchestration imports every engine module: load it only for the commands that run one
    from .base.events import Events
    from .run.outcome import RunResult


def upgrade(project, revision: str = "head", *, dry_run: bool = False, no_backup: bool = False,
            allow_unsafe: bool = False, lock_wait: Optional[float] = None,
            events: Optional[Events] = None, actor=None, rehearse: Optional[bool] = None) -> RunResult:
    """Upgrade to ``revision`` (``--revision``, default head) behind a verified backup.

    ``--dry-run`` prints the plan, the validation report and the SQL, and changes nothing.
    ``--no-backup`` skips the backup (a failure that committed something is then not restored).
    ``--allow-unsafe`` proceeds although validation found errors (recorded in the result).
    ``actor`` (a run_history.Actor) is who asked through the service, kept in the run record.
    ``--rehearse`` / ``--no-rehearse`` (None: the ``rehearse`` setting) run the plan on a scratch
    copy first and go on only when it passed (see rehearsal.py).
    """
    from .base.events import Events
    from .run.pipeline import safe_migrate

    return safe_migrate(project, "upgrade", revision, dry_run=dry_run, take_backup=not no_backup,
                        allow_unsafe=allow_unsafe, lock_wait_seconds=lock_wait, events=events or Events(),
                        actor=actor, rehearse=rehearse)


def downgrade(project, revision: str, *, dry_run: bool = False, no_backup: bool = False,
              lock_wait: Optional[float] = None, events: Optional[Events] = None, actor=None,
              rehearse: Optional[bool] = None) -> RunResult:
    """Downgrade to ``revision`` (an id, a unique prefix, ``-1`` or ``base``) with the same protection."""
    from .base.events import Events
    from .run.pipeline import safe_migrate

    return safe_migrate(project, "downgrade", revision, dry_run=dry_run, take_backup=not no_backup,
                        lock_wait_seconds=lock_wait, events=events or Events(), actor=actor, rehearse=rehearse)


def _database_heads(project) -> tuple:
    from .postgres.tools import connect

    connection = connect(project.database)
    try:
        return project.source.current(connection)
    finally:
        connection.close()


def current(project) -> dict:
    """The revision(s) the database is at."""
    heads = _database_heads(project)
    return {"database": project.database.database, "current": list(heads)}


def _script(project):
    """The revisions as Alembic would load them (where env.py puts them, when it decides)."""
    return project.source.planning_script()


def history(project) -> dict:
    """Every revision, newest first, marked applied or pending, joined with the run records."""
    from .postgres.tools import connect
    from .sources.history import read_runs

    if project.source.kind == "sql":
        return _sql_history(project)
    script = _script(project)
    heads = _database_heads(project)
    applied = set()
    for head in heads:
        applied.update(rev.revision for rev in script.revision_map.iterate_revisions(head, "base"))
    connection = connect(project.database)
    try:
        runs = read_runs(connection, project.safety.history_table)
    finally:
        connection.close()
    last_run = _last_runs(runs)
    revisions = []
    for rev in script.walk_revisions():
        down = rev.down_revision
        revisions.append({
            "revision": rev.revision,
            "down_revision": ",".join(down) if isinstance(down, (tuple, list)) else down,
            "message": rev.doc,
            "file": Path(rev.path).name,
            "applied": rev.revision in applied,
            "current": rev.revision in heads,
            "last_run": last_run.get(rev.revision),
        })
    for run in runs:
        run["started_at"] = run["started_at"].isoformat(timespec="seconds")
        run["run_id"] = str(run["run_id"])
    return {"database": project.database.database, "current": list(heads), "revisions": revisions, "runs": runs}


def _last_runs(runs: list) -> dict:
    """Each revision's newest run record (``runs`` newest first), as history shows it."""
    last_run = {}
    for run in runs:
        if run["revision"] and run["revision"] not in last_run:
            last_run[run["revision"]] = {
                "direction": run["direction"], "outcome": run["outcome"],
                "at": run["started_at"].isoformat(timespec="seconds"), "duration_ms": run["duration_ms"],
                "by": _who(run), "backup": run["backup_file"], "attempts": run["attempts"]}
    return last_run


def _sql_history(project) -> dict:
    """A SQL folder's versions in run order with their bookkeeping (applied_at, duration, checksum)."""
    from .postgres.tools import connect
    from .sources.history import read_runs

    connection = connect(project.database)
    try:
        versions = project.source.versions(connection)
        current = project.source.current(connection)
        runs = read_runs(connection, project.safety.history_table)
    finally:
        connection.close()
    last_run = _last_runs(runs)
    for run in runs:
        run["started_at"] = run["started_at"].isoformat(timespec="seconds")
        run["run_id"] = str(run["run_id"])
    for row in versions:
        row["current"], row["last_run"] = row["revision"] in current, last_run.get(row["revision"])
    return {"database": project.database.database, "current": list(current), "revisions": versions, "runs": runs}


def _pending_and_heads(project, heads) -> tuple:
    """(the heads of the migrations, the labels an upgrade to all of them would run)"""
    if project.source.kind == "sql":
        migrations = project.source.folder.migrations
        return [m.label for m in migrations[-1:]], [s.label for s in project.source.plan(heads, "upgrade", "heads").steps]
    from .sources import revision_cache
    from .sources.alembic_runner import PlannedStep, make_plan

    # Alembic's own answer, kept (no import); never for an env.py that decides where revisions are
    chain = None if project.source.plan_from_env_py else revision_cache.cached_chain(project.ini_path)
    steps = revision_cache.upgrade_steps(chain, tuple(heads)) if chain else None
    if steps is not None:
        return [chain[-1][0]], [PlannedStep(*entry, is_upgrade=True).label for entry in steps]
    script = _script(project)
    if not project.source.plan_from_env_py:
        revision_cache.remember_chain(project.ini_path, script)
    # towards every head, as `upgrade --revision heads` would run them (with one head: `head`)
    return list(script.get_heads()), [step.label for step in make_plan(script, heads, "upgrade", "heads").steps]


def _who(run: dict) -> str:
    """The OS user and host of a run, and the service token, address and agent when it came that way."""
    who = f"{run['os_user']}@{run['hostname']}"
    if run.get("api_token_name"):
        who += f" via token {run['api_token_name']} from {run['client_address'] or '?'} ({run['user_agent'] or '?'})"
    return who


def status(project) -> dict:
    """Current revision, heads, pending revisions and the last backup."""
    from .backup.catalog import list_backups
    from .postgres.tools import connect

    heads = _database_heads(project)
    connection = connect(project.database)
    try:
        drifted = [{"revision": d.revision, "problem": d.problem, "detail": d.detail}
                   for d in drift(project, connection)]
        run_state = _run_state(project, connection)
        # a SQL folder's versions as the old runners' --list showed them (bookkeeping, checksum state)
        versions = project.source.versions(connection) if project.source.kind == "sql" else None
    finally:
        connection.close()
    script_heads, pending, problem = [], [], None
    try:
        script_heads, pending = _pending_and_heads(project, heads)
    except ConfigurationError as exc:     # a broken graph is exactly what status must still show
        problem = str(exc)
    backups = [entry for entry in list_backups(project.safety.backup_dir)
               if entry.info is not None and entry.info.database == project.database.database]
    last_backup = None
    if backups:
        entry = backups[0]
        age = _dt.datetime.now(_dt.timezone.utc) - entry.created
        last_backup = {"file": str(entry.archive), "created": entry.created.isoformat(timespec="seconds"),
                       "age_hours": round(age.total_seconds() / 3600, 2),
                       "revision": entry.info.revision if entry.info else None}
    return {
        "database": project.database.database,
        "url": project.database.masked_url(),
        "current": list(heads),
        "heads": script_heads,
        "pending": pending,
        "several_heads": len(script_heads) > 1,
        "up_to_date": not pending and bool(script_heads) and problem is None,
        "problem": problem,
        "last_backup": last_backup,
        "drift": drifted,
        "run_in_progress": run_state["run_in_progress"],
        "unfinished_runs": run_state["unfinished_runs"],
        "needs_attention": bool(run_state["unfinished_runs"]),
        **({} if versions is None else {"versions": versions}),
    }


def validate(project, migration_files: Sequence[str] = (), *, strict: bool = False, database: bool = False):
    """Static checks of revision files; all of them plus the graph checks when none is named.
    ``--database``: the findings of the revisions still pending are also judged against the live
    database (rows, size, column types); without it nothing connects."""
    report = _static_validation(project, migration_files)
    if not database:
        return report
    from .postgres.live_tables import live_table_reader
    from .postgres.tools import connect
    from .validation.live import judge_against_database

    with contextlib.closing(connect(project.database)) as connection:
        plan = project.source.plan(project.source.current(connection), "upgrade", "heads")
        read_tables = live_table_reader(connection=connection,
                                        max_harmless_rows=project.safety.validation_max_harmless_rows)
        return judge_against_database(report, plan, project.safety, read_tables)


def fix(project, migration_files: Sequence[str] = (), *, write: bool = True) -> dict:
    """``validate --fix``: rewrite the named revision files (all, when none is named) into their
    safe form where it is mechanical (validation.fixes), in place, or only show the diff with
    ``write=False`` (``--diff``). Returns, per file, what was fixed and what was left with its
    do-instead, and the report of the files as they are afterwards."""
    from pathlib import Path as _Path

    from .validation.fixes import fix_source

    if project.source.kind == "sql":
        raise ConfigurationError("--fix rewrites Alembic revisions; SQL files are left to you")
    report = _static_validation(project, migration_files)
    by_file: dict = {}
    for finding in report.findings:
        by_file.setdefault(finding.file, []).append(finding)
    files = []
    for path, findings in sorted(by_file.items()):
        original = _Path(path).read_text(encoding="utf-8")
        result = fix_source(path, original, findings)
        if write and result.changed:
            _Path(path).write_text(result.fixed, encoding="utf-8")
        files.append(result)
    after = _static_validation(project, migration_files) if write else None
    return {"files": files, "written": write, "report": after if after is not None else report}


def fleet(project, command_arguments: list, *, command: str, revision: Optional[str] = None,
          targets_file: Optional[str] = None, tenant_schemas: Optional[str] = None, shard: Optional[str] = None,
          canary: int = 0, concurrency: int = 1, on_failure: str = "stop", resume: bool = False,
          state_file: Optional[str] = None, events: Optional[Events] = None):
    """One command over a fleet (``--targets FILE`` or ``--tenant-schemas``): each target runs
    ``command_arguments`` (this CLI's arguments, without the fleet's options) as its own protected
    run, under the rollout rules of fleet.rollout; returns the FleetResult."""
    from .backup.directory import prepare_backup_directory
    from .fleet.rollout import StateFile, run_fleet
    from .fleet.targets import load_targets, parse_shard, select_shard, tenant_targets, with_setting

    if bool(targets_file) == bool(tenant_schemas):
        raise ConfigurationError("a fleet is --targets FILE or --tenant-schemas, one of the two")
    if concurrency < 1 or canary < 0:
        raise ConfigurationError("--concurrency must be at least 1 and --canary at least 0")
    if on_failure not in ("stop", "continue"):
        raise ConfigurationError("--on-failure is stop or continue")
    targets = load_targets(targets_file) if targets_file else \
        tenant_targets(tenant_schemas, lambda query: query_rows(project, query))
    chosen_shard = parse_shard(shard)
    targets = select_shard(targets, chosen_shard)
    backup_root = project.safety.backup_dir
    prepare_backup_directory(backup_root, allow_shared=project.safety.backup_dir_shared)
    # each target's backups and retention apart from the others'
    targets = [with_setting(t, "MIGRATION_BACKUP_DIR", str(backup_root / t.name)) for t in targets]
    default_state = backup_root / ("fleet-state.json" if chosen_shard is None
                                   else f"fleet-state-{chosen_shard[0]}of{chosen_shard[1]}.json")
    state = StateFile(state_file or default_state, command, revision)
    return run_fleet(targets, lambda target: [f"-x{x}" for x in target.x_arguments] + list(command_arguments)
                     + ["--format", "json"], command=command, target=revision, canary=canary,
                     concurrency=concurrency, on_failure=on_failure, state=state, resume=resume, events=events)


def query_rows(project, query: str) -> list:
    """The rows of a read-only query on the project's database (``--tenant-schemas SELECT ...``),
    in a READ ONLY transaction so a listing can change nothing."""
    from .postgres.tools import connect

    with contextlib.closing(connect(project.database, autocommit=False)) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            try:
                cursor.execute(query)
                return cursor.fetchall()
            except Exception as exc:  # psycopg2.Error: the user's query
                raise ConfigurationError(f"--tenant-schemas query failed: {' '.join(str(exc).split())[:200]}") \
                    from None
            finally:
                connection.rollback()


def _static_validation(project, migration_files: Sequence[str]):
    from . import validation

    if project.source.kind == "sql":
        return _validate_sql_folder(project, migration_files)
    versions_dir = project.versions_dir
    config = validation.load_config(project.ini_path)
    config.lock_timeout = project.safety.lock_timeout
    config.module_paths = project.module_paths
    config.transaction_mode = project.source.env_file.transaction_mode
    try:
        if migration_files:
            paths = [validation.resolve_migration_file(name, versions_dir) for name in migration_files]
            return validation.validate_paths(paths, config)
        if project.source.plan_from_env_py:
            paths = project.source.revision_paths()
            if not paths:
                raise ConfigurationError(f"env.py names no folder with revision files "
                                         f"({project.source.env_file.decides_plan})")
        elif not versions_dir.is_dir():
            raise ConfigurationError(f"versions directory {versions_dir} not found")
        else:
            paths = project.source.revision_paths()
        return validation.validate_paths(paths, config, graph_dir=versions_dir)
    except validation.ValidationInputError as exc:
        raise ConfigurationError(str(exc)) from None


def _validate_sql_folder(project, migration_files: Sequence[str]):
    """The UP files (all, or those named) with the same rules as op.execute SQL; without names,
    the folder's own findings too (duplicates, gaps, missing UP/DOWN, dependencies)."""
    from . import validation
    from .validation.sql_files import validate_sql_files

    folder = project.source.folder
    config = validation.load_config(project.ini_path)
    config.lock_timeout = project.safety.lock_timeout
    if migration_files:
        paths = [validation.resolve_migration_file(name, folder.directory) for name in migration_files]
        return validate_sql_files(paths, config)
    return validate_sql_files([m.up for m in folder.migrations], config, problems=folder.problems)


def init(project) -> dict:
    """Create a SQL folder's tracking table, schema_migrations, as the old runners' ``--init`` did
    (upgrade creates it too, in the first file's transaction)."""
    from .postgres.tools import connect
    from .sources import schema_migrations

    if project.source.kind != "sql":
        raise ConfigurationError("init is for SQL migration folders: pass --sql-dir DIR (Alembic creates "
                                 "its own version table)")
    connection = connect(project.database)
    try:
        existed = bool(schema_migrations.columns(connection))
        with connection.cursor() as cursor:
            schema_migrations.ensure_table(cursor)
    finally:
        connection.close()
    return {"database": project.database.database, "table": schema_migrations.TABLE, "created": not existed}


def explain_rule(rule_id: str) -> str:
    """The full text of one validation rule."""
    from . import validation

    try:
        return validation.explain(rule_id)
    except (KeyError, validation.ValidationInputError):
        raise ConfigurationError(f"unknown rule {rule_id!r}; `validate --list-rules` shows them") from None


# -- the backup catalog ---------------------------------------------------------------------------

def _tools(names, minimum_major: int = 0) -> dict:
    from .postgres.tools import find_tools

    return find_tools(names, minimum_major)


def backups_list(project) -> list[dict]:
    """Every backup in the backup directory, newest first. ``verified`` is true only when the
    sidecar's MAC verifies under this machine's backup key and the archive's size and SHA-256
    match it."""
    from .backup.catalog import catalog_integrity, describe_origin, list_backups
    from .backup.integrity import load_key
    from .backup.scope import describe as describe_scope

    now = _dt.datetime.now(_dt.timezone.utc)
    key = load_key(create=False, backup_dir=project.safety.backup_dir)
    rows = []
    for entry in list_backups(project.safety.backup_dir):
        info = entry.info
        verified, signature = catalog_integrity(entry, key)
        rows.append({
            "file": entry.archive.name, "path": str(entry.archive),
            "created": entry.created.isoformat(timespec="seconds"),
            "database": info.database if info else None,
            "revision": info.revision if info else None,
            "size_bytes": entry.archive.stat().st_size,
            "verified": verified,
            "signature": signature.status,
            "origin": describe_origin(info.server) if info else None,
            "age_hours": round((now - entry.created).total_seconds() / 3600, 2),
            "reason": info.reason if info else "no valid metadata: not verified",
            "scope": describe_scope(info) if info else "unknown",
        })
    return rows


def backups_create(project, *, events: Optional[Events] = None, actor=None) -> dict:
    """Take a verified backup now (``backups create``), under the migration lock so it never runs
    while a migration does, and record it in the audit trail."""
    from .backup import registry as backup_registry
    from .backup.catalog import backup_progress, create_backup
    from .backup.directory import ensure_directory_writable
    from .base.events import Events
    from .postgres.tools import connect, server_info
    from .run.lock import migration_lock
    from .sources.alembic_runner import read_current_heads
    from .sources.history import record_run

    events = events or Events()
    settings, safety = project.database, project.safety
    connection = connect(settings)
    try:
        server = server_info(connection)
    finally:
        connection.close()
    tools = _tools(["pg_dump", "pg_restore"], server.major)
    ensure_directory_writable(safety.backup_dir, allow_shared=safety.backup_dir_shared)
    with migration_lock(settings, wait_seconds=safety.lock_wait_seconds) as lock:
        current = read_current_heads(lock.connection, project.version_table)
        events.step(f"Backing up {settings.database} to {safety.backup_dir}")
        started_at = _dt.datetime.now(_dt.timezone.utc)
        with events.progress(*backup_progress(safety.backup_dir, settings.database, server.database_size)) as progress:
            info = create_backup(settings, safety.backup_dir, pg_dump=tools["pg_dump"], pg_restore=tools["pg_restore"],
                                 server_version=server.version, revision=current,
                                 database_size=server.database_size, reason="on request",
                                 compression=safety.backup_compression, backup_format=safety.backup_format,
                                 progress=progress)
        backup_registry.record(lock.connection, info)
        record_run(lock.connection, safety.history_table, direction="backup", started_at=started_at,
                   duration_ms=int(info.duration_seconds * 1000), backup_file=info.file, outcome="backed-up",
                   steps=[], error=None, actor=actor)
    events.step(f"Backup verified: {Path(info.file).name}")
    return {"backup": info.file, "database": info.database, "revision": list(current),
            "size_bytes": info.size_bytes, "sha256": info.sha256, "duration_seconds": info.duration_seconds}


def backups_verify(project, backup: str = "latest"):
    """Check a backup: the sidecar's MAC, SHA-256 and size against it, and the whole archive —
    every data block, not only its table of contents — readable by pg_restore."""
    from .backup.catalog import latest_backup, resolve_backup, verify_backup

    directory = project.safety.backup_dir
    if backup == "latest":      # read from the directory alone: this database's newest, never one dated ahead
        archive, _ = latest_backup(directory, project.database.database, [])
    else:
        archive = resolve_backup(directory, backup)
    return verify_backup(archive, _tools(["pg_restore"])["pg_restore"], full=True)


def backups_prune(project, *, keep_days: Optional[int] = None, keep_last: Optional[int] = None,
                  dry_run: bool = False) -> dict:
    """Remove backups beyond retention (settings when no option is given); the newest backup of
    each database is always kept, and so is one an interrupted run's ``recover`` needs. Returns
    ``removed``: what was (or, with ``dry_run``, would be) removed, and ``kept``: the backups
    beyond retention kept for ``recover``."""
    from .backup.catalog import delete_backup, list_backups, pinned_among, prune_selection

    if keep_days is None and keep_last is None:
        keep_days, keep_last = project.safety.retention_days, project.safety.retention_count
    if keep_days is None and keep_last is None:
        raise ConfigurationError("no retention given: pass --keep-days and/or --keep-last, or set "
                                 "MIGRATION_BACKUP_KEEP_DAYS / MIGRATION_BACKUP_KEEP_LAST")
    entries = list_backups(project.safety.backup_dir)
    removed = []
    for entry in prune_selection(entries, keep_days=keep_days, keep_last=keep_last):
        if not dry_run:
            delete_backup(entry)
        removed.append({"file": entry.archive.name, "created": entry.created.isoformat(timespec="seconds"),
                        "database": entry.info.database if entry.info else None})
    kept = [{"file": entry.archive.name, "created": entry.created.isoformat(timespec="seconds"),
             "database": entry.info.database if entry.info else None, "run_id": run_id}
            for entry, run_id in pinned_among(entries, keep_days=keep_days, keep_last=keep_last)]
    return {"removed": removed, "kept": kept}


def restore(project, backup: str = "latest", *, target_db: Optional[str] = None, confirm=None,
            events: Optional[Events] = None, trust_unsigned: bool = False, allow_other_server: bool = False) -> dict:
    """Put the database back to a backup's state, atomically, after backing up the current state.

    ``confirm`` is called with the database name and the backup's origin and must return True
    (``--yes`` passes a function that does). With ``target_db`` the backup is restored into that
    new database instead and the original is not touched. ``--trust-unsigned-backup`` accepts a
    backup whose sidecar MAC does not verify (known origin); ``--allow-other-server`` one taken on
    another server or of another database.
    """
    from .backup import registry as backup_registry
    from .backup.catalog import describe_origin, origin_mismatch, verify_backup
    from .base.errors import MigrationSafetyError
    from .base.events import Events
    from .postgres.tools import connect, server_identity, server_info
    from .run.lock import migration_lock
    from .run.pipeline import restore_into_new_database, restore_under_lock

    events = events or Events()
    settings = project.database
    connection = connect(settings)
    try:
        server = server_info(connection)
        identity = server_identity(connection)
        records = backup_registry.recorded(connection, settings.database)
    finally:
        connection.close()
    archive, outside, newest = _trusted_backup_path(project, backup, events, records)
    tools = _tools(["pg_dump", "pg_restore", "psql"], server.major)
    verification = verify_backup(archive, tools["pg_restore"], trust_unsigned=trust_unsigned)
    if not verification.ok:
        unsigned = any(name == "signature" and not passed for name, passed, _ in verification.checks)
        raise MigrationSafetyError(
            f"refusing {archive.name}: {verification.reason}; the database was not touched",
            hint="a backup of known origin signed with another key (or none) can be restored with "
                 "--trust-unsigned-backup" if unsigned else None)
    info = verification.info
    if target_db and info.is_scoped:
        from .backup.scope import refusal
        raise ConfigurationError(f"restore --target-db needs the whole database, and {refusal(info)}; "
                                 "nothing was changed", hint="restore it in place (only its scope), or restore a "
                                                             "full backup into the new database")
    if newest is not None and info.sha256 != newest.sha256:
        raise MigrationSafetyError(
            f"refusing {archive.name} as latest: it holds other bytes (SHA-256 {info.sha256[:16]}…, a backup of "
            f"{info.database} taken {info.created_at}) than the newest backup the database recorded under that name "
            f"(SHA-256 {newest.sha256[:16]}…, taken {newest.created_at.isoformat(timespec='seconds')}); "
            "the database was not touched",
            hint="put the newest backup back, or name the backup you mean with --backup FILE")
    lost = [] if newest is not None else _backups_made_after(records, info)
    if lost:
        events.warn(f"{archive.name} is older than the newest backup of {settings.database}: restoring it loses "
                    f"what changed after it, held by {len(lost)} later backup(s): "
                    f"{', '.join(later.describe() for later in lost)}")
    destination = target_db or settings.database
    if target_db is None and info.database != settings.database:
        raise ConfigurationError(f"{archive.name} is a backup of {info.database!r}, not {settings.database!r}; "
                                 "pass --target-db NAME to restore it into a new database")
    foreign = origin_mismatch(info.server, identity, same_database=target_db is None)
    if foreign and not allow_other_server:
        raise ConfigurationError(f"refusing {archive.name}: it {foreign}; pass --allow-other-server if restoring "
                                 "it here is intended; the database was not touched")
    origin = describe_origin(info.server)
    # Into a new database nothing is replaced, so there is nothing to confirm (its creation
    # refuses an existing name below).
    if target_db is None and confirm is not None and not confirm(destination, describe_backup(archive, info, origin)):
        raise ConfigurationError("restore not confirmed; nothing was changed")
    result = {"backup": str(archive), "database": destination, "backup_revision": info.revision,
              "origin": origin, "pre_restore_backup": None}
    if outside:
        result["note"] = f"{archive} is outside the backup directory (accepted: a regular file, verified)"
    if lost:
        result["backups_made_after"] = [later.file_name for later in lost]
    if foreign:
        result["other_server"] = f"--allow-other-server: the backup {foreign}"
    if target_db:
        with migration_lock(settings, wait_seconds=project.safety.lock_wait_seconds) as lock:
            restored = restore_into_new_database(project, lock, archive, info, target_db, tools=tools, events=events)
    else:
        with migration_lock(settings, wait_seconds=project.safety.lock_wait_seconds) as lock:
            restored, safety_copy = restore_under_lock(project, lock, archive, info, server=server, tools=tools,
                                                       events=events, reason=f"restore of {archive.name}",
                                                       server_identity=identity)
            result["pre_restore_backup"] = safety_copy.file
    connection = connect(settings.with_database(destination))
    try:
        result["revision_now"] = list(project.source.current(connection))
    finally:
        connection.close()
    result.update(duration_seconds=restored.duration_seconds, schema_verified=restored.schema_verified,
                  schema_difference=restored.schema_difference)
    if restored.note:
        result["ownership"] = restored.note
    if info.is_scoped:
        result["restored_only"] = (f"the scope of {archive.name} ({', '.join(info.scope_tables)}): "
                                   f"{restored.restored_objects}")
    return result


def recover(project, *, accept: bool = False, confirm=None, events: Optional[Events] = None) -> dict:
    """Settle a run that was interrupted (or ended needing attention), found in the run journal.

    Without ``accept``: restore the backup taken before the first such run — the state the
    database had before it — through the same steps as ``restore`` (``confirm`` as there). With
    ``accept`` (``--accept``): keep the database as it is and close the journal entries, for when a
    person has checked it (Flyway's ``repair``)."""
    import getpass
    import socket

    from .backup.catalog import describe_origin
    from .base.events import Events
    from .postgres.tools import server_identity, server_info
    from .run import journal as run_journal
    from .run.lock import migration_lock
    from .run.pipeline import drop_database, restore_under_lock

    events = events or Events()
    settings = project.database
    with migration_lock(settings, wait_seconds=project.safety.lock_wait_seconds) as lock:
        entries = run_journal.unfinished(lock.connection)
        runs = [entry.as_dict() for entry in entries]
        if not entries:
            return {"database": settings.database, "action": "none", "runs": [],
                    "message": "no interrupted run: nothing to recover"}
        if accept:
            who = f"{getpass.getuser()}@{socket.gethostname()}"
            for entry in entries:
                run_journal.close_entry(lock.connection, entry.run_id, run_journal.ACCEPTED, f"accepted by {who}")
            return {"database": settings.database, "action": "accepted", "runs": runs,
                    "message": f"accepted the database as it is; {len(entries)} run(s) closed"}
        leftovers = [entry for entry in entries if entry.command == run_journal.RESTORE_INTO]
        for entry in leftovers:      # the configured database was never changed: drop what the restore began
            drop_database(settings, entry.target)
            run_journal.close_entry(lock.connection, entry.run_id, run_journal.RECOVERED,
                                    f"dropped the partly restored database {entry.target}")
        entries = [entry for entry in entries if entry.command != run_journal.RESTORE_INTO]
        if not entries:
            return {"database": settings.database, "action": "dropped", "runs": runs,
                    "message": "interrupted restores into new databases: dropped "
                               + ", ".join(entry.target for entry in leftovers)}
        first = entries[0]
        if not first.backup_file:
            raise ConfigurationError(f"{first.describe()}: there is no backup to go back to",
                                     hint="check the database and run `recover --accept`")
        server = server_info(lock.connection)
        tools = _tools(["pg_dump", "pg_restore", "psql"], server.major)
        identity = server_identity(lock.connection)
        archive, info = _the_runs_own_backup(project, first, identity, tools)
        if confirm is not None and not confirm(settings.database,
                                               describe_backup(archive, info, describe_origin(info.server))
                                               + f"\n  taken before run {first.run_id[:8]}"):
            raise ConfigurationError("recover not confirmed; nothing was changed")
        restored, safety_copy = restore_under_lock(project, lock, archive, info, server=server, tools=tools,
                                                   events=events, reason=f"recovery of run {first.run_id[:8]}",
                                                   server_identity=identity)
        if restored.schema_verified:
            for entry in entries:
                run_journal.close_entry(lock.connection, entry.run_id, run_journal.RECOVERED,
                                        f"restored {archive.name}")
        now = list(project.source.current(lock.connection))
    return {"database": settings.database, "action": "restored", "runs": runs, "backup": str(archive),
            "pre_restore_backup": safety_copy.file, "revision_now": now,
            "schema_verified": restored.schema_verified, "schema_difference": restored.schema_difference,
            "message": (f"restored {archive.name}, the state before run {first.run_id[:8]}; now at "
                        f"{', '.join(now) or 'base'}") if restored.schema_verified else
                       f"restored {archive.name} but the schema differs: {restored.schema_difference}"}


def _the_runs_own_backup(project, entry, identity: dict, tools: dict) -> tuple:
    """(archive, its verified sidecar) of the backup the journal ``entry``'s run took, after the
    checks ``restore`` makes — a backup directory others cannot write (unless shared knowingly),
    a signed sidecar matching the file, this database on this server — and the journal's own
    record: exactly the bytes the run took (SHA-256 and size; the sidecar's MAC does not cover the
    file's name, so a renamed backup would pass everything else), taken at the revision the run
    started from. Any mismatch is a refusal saying what was found; nothing is changed."""
    import os

    from .backup.catalog import describe_origin, origin_mismatch, resolve_backup, verify_backup
    from .backup.directory import check_backup_directory
    from .base.errors import MigrationSafetyError, PreflightError

    settings, directory = project.database, project.safety.backup_dir
    run = f"run {entry.run_id[:8]}"
    if not entry.backup_sha256:
        raise MigrationSafetyError(
            f"cannot recover: the journal entry of {run} (written by an older version) records no SHA-256 of its "
            f"backup {Path(entry.backup_file).name}, so nothing proves a file by that name is the one it took; "
            "nothing was changed",
            hint="check the backup (`backups verify FILE`), restore it by name (`restore --backup FILE`), "
                 "then `recover --accept`")
    if os.path.lexists(directory):
        check_backup_directory(directory, allow_shared=project.safety.backup_dir_shared)
    try:
        archive = resolve_backup(directory, entry.backup_file)
    except PreflightError as exc:
        raise MigrationSafetyError(f"cannot recover {run}: {exc}; nothing was changed",
                                   hint="put the run's backup back, or `recover --accept`") from None
    verification = verify_backup(archive, tools["pg_restore"])
    if not verification.ok:
        raise MigrationSafetyError(f"cannot recover from {archive.name}: {verification.reason}; nothing was "
                                   "changed", hint="restore another backup, or `recover --accept`")
    info = verification.info
    expected_revision = sorted(entry.revision_before)
    problems = []
    if info.sha256 != entry.backup_sha256 or info.size_bytes != entry.backup_size:
        problems.append(f"holds other bytes (SHA-256 {info.sha256[:16]}…, {info.size_bytes} bytes) than the backup "
                        f"{run} took (SHA-256 {entry.backup_sha256[:16]}…, {entry.backup_size} bytes)")
    if info.database != settings.database:
        problems.append(f"is a backup of database {info.database!r}, not {settings.database!r}")
    foreign = origin_mismatch(info.server, identity)
    if foreign:
        problems.append(foreign)
    if sorted(info.revision) != expected_revision:
        problems.append(f"was taken at revision {', '.join(info.revision) or 'base'}, {run} started from "
                        f"{', '.join(expected_revision) or 'base'}")
    if problems:
        raise MigrationSafetyError(
            f"refusing to recover from {archive.name}: it {'; it '.join(problems)} (found: a backup of "
            f"{info.database} taken {info.created_at}, {describe_origin(info.server)}); nothing was changed",
            hint="put the run's own backup back under its name, restore a backup you choose with "
                 "`restore --backup FILE`, or keep the database as it is with `recover --accept`")
    return archive, info


def _run_state(project, connection) -> dict:
    """Unfinished runs from the journal, and who holds the migration lock right now (a RUNNING
    entry whose run still holds the lock is a run in progress, not an interrupted one)."""
    from .run import journal as run_journal
    from .run.lock import lock_holder

    holder = lock_holder(connection)
    entries = run_journal.unfinished(connection)
    if holder is not None:
        entries = [entry for entry in entries if entry.state != run_journal.RUNNING]
    return {"run_in_progress": holder, "unfinished_runs": [entry.as_dict() for entry in entries],
            "unfinished_text": [entry.describe() for entry in entries]}


def describe_backup(archive: Path, info, origin: str) -> str:
    """What a restore would put back, as the confirmation prompt shows it: "latest" is a file
    the person has not seen, so name it with what it holds."""
    from .backup.catalog import human_bytes

    return "\n".join(f"  {label:<9} {value}" for label, value in (
        ("file", archive.name), ("created", info.created_at), ("database", info.database), ("server", origin),
        ("revision", ", ".join(info.revision or []) or "base"), ("size", human_bytes(info.size_bytes))))


def _backups_made_after(records: list, info) -> list:
    """The recorded backups of this database made after the backup ``info`` describes: what
    restoring it loses. A backup the database has no record of is placed by its creation time."""
    from .backup import registry as backup_registry

    entry = backup_registry.find(records, info.sha256)
    if entry is not None:
        return backup_registry.made_after(records, entry)
    created = _dt.datetime.fromisoformat(info.created_at)
    return [later for later in records if later.created_at > created]


def _trusted_backup_path(project, backup: str, events, records: list) -> tuple:
    """The archive to restore, whether it lies outside the backup directory, and for ``latest``
    the database's record of it (registry; None when nothing is recorded), after refusing a
    backup directory others could write (before anything is read from it)."""
    import os

    from .backup.catalog import latest_backup, resolve_backup
    from .backup.directory import check_backup_directory, is_inside

    directory = project.safety.backup_dir
    if os.path.lexists(directory):
        check_backup_directory(directory, allow_shared=project.safety.backup_dir_shared)
    newest = None
    if backup == "latest":
        archive, newest = latest_backup(directory, project.database.database, records)
    else:
        archive = resolve_backup(directory, backup)
    outside = not is_inside(directory, archive)
    if outside:
        events.warn(f"{archive} is outside the backup directory {directory}: accepted because it is a regular "
                    "file; its sidecar must still verify")
    return archive, outside, newest


# -- monitoring -----------------------------------------------------------------------------------

def drift(project, connection) -> list:
    """Applied revisions whose file changed since it was applied, or is missing."""
    return project.source.drift(connection)


def health(project) -> dict:
    """One screen for monitoring: each check ok/fail with a detail; ``healthy`` is their conjunction."""
    import shutil

    from .backup.catalog import human_bytes, list_backups
    from .base.errors import MigrationSafetyError
    from .postgres.tools import check_tool_compatible, connect, server_info

    checks = []

    def check(name, passed, detail, level="fail"):
        checks.append({"check": name, "status": "ok" if passed else level, "detail": detail})

    connection = None
    try:
        connection = connect(project.database)
        server = server_info(connection)
        check("database", True, f"reachable, PostgreSQL {server.version.split()[0]}")
    except MigrationSafetyError as exc:
        check("database", False, str(exc))
        server = None
    try:
        for name, tool in _tools(["pg_dump", "pg_restore"]).items():
            if server:
                check_tool_compatible(tool, server.major)
            check(name, True, f"{tool.version} at {tool.path}")
    except MigrationSafetyError as exc:
        check("client tools", False, str(exc))
    try:
        from .backup.formats import describe_plan, plan_dump
        plan = plan_dump(project.safety.backup_format, project.safety.backup_compression,
                         _tools(["pg_dump"])["pg_dump"])
        check("backup format", True, describe_plan(plan, project.safety.backup_format))
    except MigrationSafetyError as exc:
        check("backup format", False, str(exc))
    backup_dir = project.safety.backup_dir
    try:
        from .backup.directory import ensure_directory_writable
        ensure_directory_writable(backup_dir, allow_shared=project.safety.backup_dir_shared)
        free = shutil.disk_usage(backup_dir).free
        enough = server is None or free > server.database_size
        check("backup directory", enough, f"{backup_dir} writable, {human_bytes(free)} free", "warn")
    except MigrationSafetyError as exc:
        check("backup directory", False, str(exc))
    try:
        heads, _ = _pending_and_heads(project, ())
        # Several heads are normal while branches are open (Alembic supports them), and the database
        # is no worse for it: a warning, because a deploy running plain `upgrade` (target `head`)
        # refuses until they are merged or `--revision heads` is given. No head at all is a failure.
        several = "; `upgrade` needs --revision heads or a merge revision" if len(heads) > 1 else ""
        check("single head", len(heads) == 1, f"heads: {', '.join(heads) or 'none'}{several}",
              "warn" if heads else "fail")
    except MigrationSafetyError as exc:
        check("revision scripts", False, str(exc))
        heads = []
    if connection is not None:
        try:
            state = _run_state(project, connection)
            check("interrupted runs", not state["unfinished_runs"],
                  "; ".join(state["unfinished_text"]) + " (`recover` or `recover --accept`)"
                  if state["unfinished_runs"] else
                  (f"a run is in progress: {state['run_in_progress']}" if state["run_in_progress"] else "none"))
            from .run.rehearsal import leftover_databases
            leftovers = leftover_databases(connection, project.database.database)
            check("rehearsal databases", not leftovers, f"{', '.join(leftovers)}: left by a run killed while it "
                  "rehearsed; the next run drops them" if leftovers else "none left behind", "warn")
            problems = drift(project, connection)
            check("drift", not problems, "; ".join(f"{d.revision}: {d.detail}" for d in problems)
                  or "applied revisions match their files")
            if heads:
                _, pending = _pending_and_heads(project, project.source.current(connection))
                check("pending", True, f"{len(pending)} revision(s) pending")
        except MigrationSafetyError as exc:
            check("drift", False, str(exc))
        finally:
            connection.close()
    backups = [e for e in list_backups(backup_dir) if e.info and e.info.database == project.database.database]
    if backups:
        age = (_dt.datetime.now(_dt.timezone.utc) - backups[0].created).total_seconds() / 3600
        check("last backup", True, f"{backups[0].archive.name}, {age:.1f} h old")
    else:
        check("last backup", True, "none yet")
    return {"healthy": all(c["status"] != "fail" for c in checks), "checks": checks}


def info(project) -> dict:
    """Versions of everything involved and the effective settings (password masked)."""
    import importlib.metadata as metadata
    from dataclasses import asdict

    from .base.errors import MigrationSafetyError
    from .postgres.tools import connect, server_info

    versions = {name: metadata.version(name) for name in ("alembic", "SQLAlchemy", "psycopg2-binary",
                                                          "sqlparse", "rich")}
    try:
        for name, tool in _tools(["pg_dump", "pg_restore", "psql"]).items():
            versions[name] = f"{tool.version} ({tool.path})"
    except MigrationSafetyError as exc:
        versions["client tools"] = str(exc)
    try:
        connection = connect(project.database)
        try:
            versions["server"] = server_info(connection).version
        finally:
            connection.close()
    except MigrationSafetyError as exc:
        versions["server"] = str(exc)
    safety = {k: str(v) for k, v in asdict(project.safety).items()}
    return {"versions": versions, "settings": {
        "alembic.ini": str(project.ini_path), "versions": str(project.sql_dir or project.versions_dir),
        "database": project.database.masked_url(), "database settings from": project.database.source, **safety}}


def revision_message(message: str) -> str:
    """``--message`` as it may go into a revision file. Alembic's template puts it verbatim right
    after the opening triple quote of the module docstring, so a triple quote in it would end the
    docstring and the rest would be code. One line, without control or other non-printable
    characters (no newline to leave a comment, no bidi override to disguise the source), with
    backslashes and quotes escaped: inert in any string literal or comment a template may put it
    in, and read back as the revision's docstring exactly as typed (whitespace collapsed)."""
    one_line = " ".join("".join(c if c.isprintable() else " " for c in message).split())
    return one_line.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def create(project, message: str, *, autogenerate: bool = False, safe: bool = False) -> dict:
    """A new revision through Alembic's command API, validated as soon as it is written. An
    autogenerate that finds no difference leaves no revision behind. ``safe`` (``--safe``): the
    new revision is written in its safe form (the fixes of ``validate --fix``) before it is shown."""
    import io as _io

    from alembic import command
    from alembic.util import CommandError

    message = revision_message(message)
    if not message:
        raise ConfigurationError("--message must not be empty")
    output = _io.StringIO()
    config = project.alembic_config(stdout=output)
    empty = []

    def drop_empty(context, revision, directives):
        if not (autogenerate and directives):
            return
        from .run.pipeline import WRAPPER_SCHEMAS
        # an env.py with include_schemas=True would see the audit trail's schema: never drop it
        for ops in (directives[0].upgrade_ops, directives[0].downgrade_ops):
            ops.ops[:] = [op for op in ops.ops if getattr(op, "schema", None) not in WRAPPER_SCHEMAS]
        if directives[0].upgrade_ops.is_empty():
            empty.append(True)
            directives[:] = []

    try:
        import sys
        with contextlib.redirect_stdout(sys.stderr):        # Alembic's "Generating ..." is progress, not output
            scripts = command.revision(config, message=message, autogenerate=autogenerate,
                                       process_revision_directives=drop_empty)
    except CommandError as exc:
        raise ConfigurationError("alembic: " + " ".join(str(exc).split())) from None
    except Exception as exc:
        from .base.redaction import mask
        from .postgres.tools import describe_connection_error
        from .sources.alembic_runner import translate_alembic_error
        text = translate_alembic_error(exc)
        if text is None and "OperationalError" in type(exc).__name__:
            text = describe_connection_error(exc, project.database)
        raise ConfigurationError(text or f"{type(exc).__name__}: {' '.join(mask(str(exc)).split())[:300]}") from None
    if empty or scripts is None:
        return {"created": None, "message": "no changes detected: the database matches the models; "
                                            "no revision was written"}
    script = scripts[0] if isinstance(scripts, list) else scripts
    fixed = []
    if safe:
        fixed = [f"{line}: {rule}" for result in fix(project, [script.path])["files"] for line, rule in result.applied]
    report = validate(project, [script.path])
    return {"created": script.path, "revision": script.revision, "report": report, "fixed": fixed,
            "message": f"created {script.path}" + (f" (made safe: {len(fixed)} fix(es))" if fixed else "")}
