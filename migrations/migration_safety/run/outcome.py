"""How a run ends: the ``Outcome`` (each one exit code), the ``RunResult`` the face renders, and
the one-line description of what made a run fail. Shared by the pipeline and the rehearsal it calls."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional

from ..base import redaction
from ..base.errors import EXIT_ATTENTION, EXIT_FAILED, EXIT_OK, EXIT_VALIDATION
from ..sources import alembic_runner
from .interruption import Interruption


class Outcome(str, enum.Enum):
    """How a run ended; each maps to one exit code (README, "Exit codes")."""
    APPLIED = "applied"
    APPLIED_UNPROTECTED = "applied-not-fully-protected"   # applied, but it changed tables its scoped backup lacks
    UP_TO_DATE = "up-to-date"
    DRY_RUN = "dry-run"
    ROLLED_BACK = "failed-rolled-back"              # nothing was committed: the database is unchanged
    RESTORED = "failed-restored"                    # something was committed: restored and verified
    RESTORED_ROWS_ASIDE = "failed-restored-rows-aside"  # restored and verified; other sessions' rows copied aside
    NOT_RESTORED = "failed-not-restored"            # something was committed and --no-backup: half-migrated
    RESTORE_FAILED = "failed-restore-failed"        # the restore did not complete: half-migrated
    INTERRUPTED = "interrupted-unknown"             # the server or the lock was lost: state unknown
    REHEARSAL_FAILED = "failed-rehearsal"           # the rehearsal on a copy failed: the database is unchanged

    def __str__(self) -> str:
        return self.value

    @property
    def exit_code(self) -> int:
        if self in (Outcome.APPLIED, Outcome.UP_TO_DATE, Outcome.DRY_RUN):
            return EXIT_OK
        if self in (Outcome.NOT_RESTORED, Outcome.RESTORE_FAILED, Outcome.INTERRUPTED, Outcome.RESTORED_ROWS_ASIDE,
                    Outcome.APPLIED_UNPROTECTED):
            return EXIT_ATTENTION
        return EXIT_FAILED

    @property
    def needs_attention(self) -> bool:
        return self.exit_code == EXIT_ATTENTION

    @property
    def database_in_doubt(self) -> bool:
        """The database may be half-migrated: the journal keeps the run open until ``recover``."""
        return self.needs_attention and self is not Outcome.APPLIED_UNPROTECTED


@dataclass
class RunResult:
    command: str
    database: str
    target: str
    status: Outcome
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
    run_id: Optional[str] = None            # the journal entry of a run that changed something
    sql: Optional[str] = None
    findings: list = field(default_factory=list)
    accepted: list = field(default_factory=list)     # findings accepted in config: not blocking, still shown
    notes: list = field(default_factory=list)
    source: str = "alembic"                 # what ran: an Alembic project, or a SQL folder ("sql")
    rehearsal: Optional[dict] = None        # rehearsal.RehearsalReport, when the run rehearsed
    preserved_rows: dict = field(default_factory=dict)   # table -> other sessions' rows a restore copied aside
    rows_deleted_by_others: dict = field(default_factory=dict)      # table -> rows other sessions deleted, restored
    rows_absent_before_restore: dict = field(default_factory=dict)  # table -> rows deleted by the run or by others

    @property
    def exit_code(self) -> int:
        if self.status is Outcome.DRY_RUN and any(f.get("severity") == "error" for f in self.findings):
            return EXIT_VALIDATION
        return self.status.exit_code


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
