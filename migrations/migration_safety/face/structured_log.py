"""A structured log of every run, for an operations team's log shipper: ``MIGRATION_LOG_FILE`` (or
``[migration_safety] log_file``) names a file that each command appends to, one JSON object per
line — one per step, warning and progress span as it happens, and a final one with the outcome.

Every line carries ``time`` (UTC, ISO 8601), ``run_id`` (one per command run), ``command``,
``database``, ``pid``, ``event`` (step | warning | progress | outcome), ``level``, ``message`` and
``elapsed_seconds`` since the run started; steps are numbered (``step``), a progress span has its
``duration_seconds``, the outcome its ``exit_code``, ``outcome`` and durations.

Secrets never reach the file: each line is masked (redaction.mask: every form of the database
password and of ``MIGRATION_API_TOKEN``) before and after JSON encoding. The file is created with
mode 0600 and opened for appending, never through a symbolic link, and only when it is a regular
file of the user running the tool; each line is one ``write``, so concurrent runs interleave whole
lines. A write that fails (disk full) is reported once on stderr and never fails the migration.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import stat
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..base.errors import EXIT_FAILED, ConfigurationError, MigrationSafetyError
from ..base.events import Events
from ..base.redaction import mask, mask_data

VARIABLE = "MIGRATION_LOG_FILE"


class RunLog:
    """The JSON lines of one command run, appended to ``path``."""

    def __init__(self, path: Path, *, command: str, database: str):
        try:
            # never through a link: a link planted at the path would aim our lines at any file we can write
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            reason = "it is a symbolic link" if os.path.islink(path) else exc.strerror
            raise ConfigurationError(f"cannot open the log file {path}: {reason}",
                                     hint=f"{VARIABLE} or [migration_safety] log_file") from None
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            os.close(descriptor)
            raise ConfigurationError(f"refusing the log file {path}: it is not a regular file of your own (another "
                                     "user could read or rewrite what the runs log)",
                                     hint=f"{VARIABLE} or [migration_safety] log_file")
        self.path = path
        self.descriptor = descriptor
        self.fields = {"run_id": uuid.uuid4().hex, "command": command, "database": database, "pid": os.getpid()}
        self.started = time.monotonic()
        self.steps = 0
        self.finished = False
        self.write_error: Optional[str] = None      # the first failed write, reported once
        self.write_error_reported = False

    def write(self, event: str, level: str, message: str, **fields) -> None:
        record = {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
                  **self.fields, "event": event, "level": level, "message": message,
                  "elapsed_seconds": round(time.monotonic() - self.started, 3), **fields}
        line = mask(json.dumps(mask_data(record), default=str)) + "\n"
        try:
            os.write(self.descriptor, line.encode("utf-8"))
        except OSError as exc:
            if self.write_error is None:
                self.write_error = f"cannot write the log file {self.path}: {exc.strerror}"

    def step(self, message: str) -> None:
        self.steps += 1
        self.write("step", "INFO", message, step=self.steps)

    def finish(self, exit_code: int, *, result=None, error: Optional[str] = None) -> None:
        """The final line: the outcome (a run's status, else ok/failed), exit code and durations."""
        if self.finished:
            return
        self.finished = True
        fields = {"exit_code": exit_code, "outcome": "ok" if exit_code == 0 else "failed"}
        if result is not None:
            fields.update(outcome=str(result.status), revision_before=result.revision_before,
                          revision_after=result.revision_after, failed_step=result.failed_step,
                          backup=result.backup, duration_seconds=result.duration_seconds,
                          backup_seconds=result.backup_seconds, migrate_seconds=result.migrate_seconds,
                          restore_seconds=result.restore_seconds, restore_mode=result.restore_mode)
            error = error or result.error
            message = result.message
        else:
            fields["duration_seconds"] = round(time.monotonic() - self.started, 3)
            message = error or fields["outcome"]
        if error:
            fields["error"] = error
        self.write("outcome", "INFO" if exit_code == 0 else "ERROR", message, **fields)

    def close(self) -> None:
        os.close(self.descriptor)


def log_path(project) -> Optional[Path]:
    """Where the log goes: ``MIGRATION_LOG_FILE`` / ``log_file``, relative to alembic.ini's folder."""
    configured = project.safety.log_file
    if not configured:
        return None
    path = Path(configured).expanduser()
    return path if path.is_absolute() else project.ini_path.parent / path


@contextlib.contextmanager
def run_log(project, command: str) -> Iterator[Optional[RunLog]]:
    """The run's log (None when no log file is configured). An exception that ends the command is
    its outcome: logged with its exit code, then passed on."""
    path = log_path(project)
    if path is None:
        yield None
        return
    log = RunLog(path, command=command, database=project.database.database)
    try:
        yield log
    except BaseException as exc:
        own = isinstance(exc, MigrationSafetyError)
        log.finish(exc.exit_code if own else EXIT_FAILED,
                   error=str(exc) if own else " ".join(f"{type(exc).__name__}: {exc}".split()))
        raise
    finally:
        log.close()


class LoggingEvents(Events):
    """Tees the CLI's events into the run log: every step, warning and progress span is one line."""

    def __init__(self, inner: Events, log: RunLog):
        self.inner = inner
        self.log = log

    def step(self, text: str) -> None:
        self.log.step(text)
        self.inner.step(text)
        self._report_write_error()

    def warn(self, text: str) -> None:
        self.log.write("warning", "WARNING", text)
        self.inner.warn(text)
        self._report_write_error()

    @contextlib.contextmanager
    def progress(self, label: str, total: Optional[int]) -> Iterator[Callable[[int, Optional[int]], None]]:
        started = time.monotonic()
        done_so_far = [0]
        with self.inner.progress(label, total) as update:
            def tee(done: int, new_total: Optional[int] = None) -> None:
                done_so_far[0] = done
                update(done, new_total)

            try:
                yield tee
            finally:
                self.log.write("progress", "INFO", f"{label}: {done_so_far[0]} bytes", label=label,
                               bytes=done_so_far[0], total_bytes=total,
                               duration_seconds=round(time.monotonic() - started, 3))

    def _report_write_error(self) -> None:
        if self.log.write_error and not self.log.write_error_reported:
            self.log.write_error_reported = True
            self.inner.warn(self.log.write_error)
