"""The wrapper's exceptions. Each carries the exit code the CLI returns and a one-line message.

Exit codes (documented in the README):
    0  success
    1  the operation failed; the database was restored or left untouched (the message says which)
    2  usage or configuration error (bad settings, unreachable server, missing tools, unknown revision)
    3  validation found errors
    4  the database may be partially migrated and needs attention (a restore that could not
       complete, an interrupted run found by the next one)
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VALIDATION = 3
EXIT_ATTENTION = 4


class MigrationSafetyError(Exception):
    """Base class: ``str(error)`` is the one line shown to the user."""
    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class ConfigurationError(MigrationSafetyError):
    """Settings, arguments, alembic.ini, revision scripts: the user must change something."""
    exit_code = EXIT_USAGE


class PreflightError(ConfigurationError):
    """A check before anything changed failed (server, credentials, tools, disk)."""


class LockBusyError(MigrationSafetyError):
    """Another run holds the migration lock for this database."""
    exit_code = EXIT_FAILED


class ToolError(MigrationSafetyError):
    """pg_dump / pg_restore / psql failed."""


class BackupError(MigrationSafetyError):
    """The backup could not be written or verified; nothing was migrated."""


class RestoreError(MigrationSafetyError):
    """A restore did not complete; the database is as the message says."""


class ValidationFailed(MigrationSafetyError):
    exit_code = EXIT_VALIDATION

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class NeedsAttention(MigrationSafetyError):
    """The database may be partially migrated (an interrupted run, a restore that could not
    complete): migrations stop until a person recovers or accepts it."""
    exit_code = EXIT_ATTENTION


def command_name() -> str:
    """The command as the user started it, for hints that tell them what to run next: this
    repository's ``migration_utils.py`` or the installed ``migration-safety`` (also when the run came
    through the API or the service, which have no command line of their own)."""
    import os
    import sys

    started_as = os.path.basename(sys.argv[0]) if sys.argv else ""
    return started_as if started_as in ("migration_utils.py", "migration-safety") else "migration-safety"
