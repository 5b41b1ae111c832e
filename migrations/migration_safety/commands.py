"""One function per CLI command, after Alembic's command.py: each takes the project first and
plain arguments, resolves what it needs, hands off, and returns data for the CLI to render."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Optional, Sequence

from .errors import ConfigurationError
from .orchestration import Events, RunResult, safe_migrate


def upgrade(project, revision: str = "head", *, dry_run: bool = False, no_backup: bool = False,
            allow_unsafe: bool = False, lock_wait: Optional[float] = None, events: Events = Events()) -> RunResult:
    """Upgrade to ``revision`` (``--revision``, default head) behind a verified backup.

    ``--dry-run`` prints the plan, the validation report and the SQL, and changes nothing.
    ``--no-backup`` skips the backup (a failure that committed something is then not restored).
    ``--allow-unsafe`` proceeds although validation found errors (recorded in the result).
    """
    return safe_migrate(project, "upgrade", revision, dry_run=dry_run, take_backup=not no_backup,
                        allow_unsafe=allow_unsafe, lock_wait_seconds=lock_wait, events=events)


def downgrade(project, revision: str, *, dry_run: bool = False, no_backup: bool = False,
              lock_wait: Optional[float] = None, events: Events = Events()) -> RunResult:
    """Downgrade to ``revision`` (an id, a unique prefix, ``-1`` or ``base``) with the same protection."""
    return safe_migrate(project, "downgrade", revision, dry_run=dry_run, take_backup=not no_backup,
                        lock_wait_seconds=lock_wait, events=events)


def _database_heads(project) -> tuple:
    from .alembic_runner import read_current_heads
    from .pgtools import connect

    connection = connect(project.database)
    try:
        return read_current_heads(connection, project.version_table)
    finally:
        connection.close()


def current(project) -> dict:
    """The revision(s) the database is at."""
    heads = _database_heads(project)
    return {"database": project.database.database, "current": list(heads)}


def _script(project):
    from .alembic_runner import _load_scripts, script_directory

    script = script_directory(project.alembic_config())
    _load_scripts(script)
    return script


def history(project) -> dict:
    """Every revision, newest first, marked applied or pending against the database."""
    script = _script(project)
    heads = _database_heads(project)
    applied = set()
    for head in heads:
        applied.update(rev.revision for rev in script.revision_map.iterate_revisions(head, "base"))
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
        })
    return {"database": project.database.database, "current": list(heads), "revisions": revisions}


def status(project) -> dict:
    """Current revision, heads, pending revisions and the last backup."""
    from .alembic_runner import make_plan
    from .backups import list_backups

    heads = _database_heads(project)
    config = project.alembic_config()
    script = _script(project)
    script_heads = list(script.get_heads())
    pending = []
    if len(script_heads) == 1:
        pending = [step.label for step in make_plan(config, heads, "upgrade", "head").steps]
    backups = [entry for entry in list_backups(project.safety.backup_dir)
               if entry.info is None or entry.info.database == project.database.database]
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
        "up_to_date": not pending and len(script_heads) == 1,
        "last_backup": last_backup,
    }


def validate(project, migration_files: Sequence[str] = (), *, strict: bool = False):
    """Static checks of revision files; all of them plus the graph checks when none is named."""
    from . import validation

    versions_dir = project.versions_dir
    config = validation.load_config(project.ini_path)
    try:
        if migration_files:
            paths = [validation.resolve_migration_file(name, versions_dir) for name in migration_files]
            return validation.validate_paths(paths, config)
        if not versions_dir.is_dir():
            raise ConfigurationError(f"versions directory {versions_dir} not found")
        paths = sorted(p for p in versions_dir.glob("*.py") if not p.name.startswith("__"))
        return validation.validate_paths(paths, config, graph_dir=versions_dir)
    except validation.ValidationInputError as exc:
        raise ConfigurationError(str(exc)) from None


def explain_rule(rule_id: str) -> str:
    """The full text of one validation rule."""
    from . import validation

    try:
        return validation.explain(rule_id)
    except (KeyError, validation.ValidationInputError):
        raise ConfigurationError(f"unknown rule {rule_id!r}; `validate --list-rules` shows them") from None
