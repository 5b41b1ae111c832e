"""The Python API: the commands the CLI runs, for programs (and the service).

    from migration_safety import api      # installed (pip install), or run with migrations/ on PYTHONPATH

    print(api.status()["pending"])
    plan = api.upgrade(target="head", dry_run=True)   # a RunResult: .status, .steps, .findings, .sql
    result = api.upgrade(target="head")
    if result.exit_code != 0:
        raise SystemExit(result.message)

Every function takes ``config`` (an alembic.ini or pyproject.toml path; without it the config is
found as the CLI finds it) and reads the database settings from the environment like the CLI. They return the same objects the
CLI renders — ``--format json`` prints exactly ``render.json_text(result)`` — and raise the
CLI's exceptions (``errors.MigrationSafetyError`` and subclasses, each with its ``exit_code``)
where the CLI would exit with an error.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence, Union

from . import commands
from .sources.project import Project

if TYPE_CHECKING:
    from .base.events import Events
    from .run.outcome import RunResult
    from .sources.history import Actor
    from .validation import ValidationReport

Config = Union[None, str, Project]


def project(config: Config = None) -> Project:
    """The project ``config`` names (a Project is passed through)."""
    return config if isinstance(config, Project) else Project.load(config)


def status(*, config: Config = None) -> dict:
    """Current revision, heads, pending revisions, the last backup and drift (``status``)."""
    return commands.status(project(config))


def history(*, config: Config = None) -> dict:
    """Every revision, applied or pending, and the recorded runs, newest first (``history``)."""
    return commands.history(project(config))


def health(*, config: Config = None) -> dict:
    """The monitoring checks; ``healthy`` is their conjunction (``health``)."""
    return commands.health(project(config))


def fleet_upgrade(target: str = "head", *, targets_file: Optional[str] = None,
                  tenant_schemas: Optional[Sequence[str]] = None, dry_run: bool = False, canary: int = 0,
                  concurrency: int = 1, on_failure: str = "stop", events: Optional[Events] = None,
                  config: Config = None):
    """``upgrade`` over a fleet (docs/fleets.md): the databases of ``targets_file`` (default: the
    ``fleet_targets`` setting) or the named ``tenant_schemas`` of this database, each its own
    protected run. Returns a ``fleet.rollout.FleetResult`` (``.document()`` is the JSON)."""
    chosen = project(config)
    arguments = ["--config", str(chosen.config_path), "upgrade", "--revision", target] + (
        ["--dry-run"] if dry_run else [])
    return commands.fleet(chosen, arguments, command="upgrade", revision=target,
                          targets_file=None if tenant_schemas else (targets_file or chosen.safety.fleet_targets),
                          tenant_schemas=",".join(tenant_schemas) if tenant_schemas else None, canary=canary,
                          concurrency=concurrency, on_failure=on_failure, events=events)


def upgrade(target: str = "head", *, dry_run: bool = False, allow_unsafe: bool = False, no_backup: bool = False,
            lock_wait: Optional[float] = None, events: Optional[Events] = None, actor: Optional[Actor] = None,
            config: Config = None) -> RunResult:
    """Upgrade to ``target`` behind a verified backup, restoring on failure (``upgrade``).
    ``events`` receives the steps and progress; ``actor`` is recorded as who asked."""
    return commands.upgrade(project(config), target, dry_run=dry_run, no_backup=no_backup,
                            allow_unsafe=allow_unsafe, lock_wait=lock_wait, events=events, actor=actor)


def downgrade(target: str, *, dry_run: bool = False, no_backup: bool = False, lock_wait: Optional[float] = None,
              events: Optional[Events] = None, actor: Optional[Actor] = None, config: Config = None) -> RunResult:
    """Downgrade to ``target`` (an id, a unique prefix, ``-1`` or ``base``) with the same protection."""
    return commands.downgrade(project(config), target, dry_run=dry_run, no_backup=no_backup,
                              lock_wait=lock_wait, events=events, actor=actor)


def backups(*, config: Config = None) -> list[dict]:
    """Every backup in the backup directory, newest first (``backups list``)."""
    return commands.backups_list(project(config))


def create_backup(*, events: Optional[Events] = None, actor: Optional[Actor] = None, config: Config = None) -> dict:
    """Take a verified backup now (``backups create``)."""
    return commands.backups_create(project(config), events=events, actor=actor)


def validate(migration_files: Sequence[str] = (), *, config: Config = None) -> ValidationReport:
    """Static checks of the named revision files, or of all of them plus the graph (``validate``).
    ``face.validation_report.report_document(report)`` is what ``validate --format json`` prints."""
    return commands.validate(project(config), migration_files)
