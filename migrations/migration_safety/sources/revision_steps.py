"""Which revision Alembic is running, seen through Alembic's own step loop rather than its log.

``MigrationContext.run_migrations`` asks its migrations function (the one ``alembic.command``
passes as ``fn``) for the steps, then runs each one: the moment a step is handed out is the
moment it starts, whatever env.py did with logging (an env.py that never configures the
``alembic`` logger, or sets it to WARNING, silences the "Running upgrade ..." line). Steps that
finish are heard through ``on_version_apply``, the hook Alembic calls after each step, added to
whatever callbacks env.py passed to ``context.configure``.

The patch of ``MigrationContext.run_migrations`` is installed once and does nothing unless a
``RevisionSteps`` is watching. Runs of the service in other threads each watch their own (a
context variable); an env.py that runs the migrations in a thread of its own (a fresh context)
is still watched when one run is being watched in the process.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from typing import Iterator, Optional

from .steps import StepTimes

_watching: contextvars.ContextVar = contextvars.ContextVar("migration_safety_revision_steps", default=None)
_active: list = []
_active_lock = threading.Lock()
_installed = False


class RevisionSteps(StepTimes):
    """StepTimes fed by Alembic's step loop. A step that finished ends when Alembic reports it
    applied (on_version_apply, after its version row is written), so its duration leaves out
    whatever ran between steps or after the last one (a per-migration commit, env.py's exit)."""

    def __init__(self) -> None:
        super().__init__()
        self._finished: dict = {}       # revision -> time.monotonic() Alembic reported it applied

    def step_handed_out(self, step) -> None:
        # str(step) is Alembic's own label, "upgrade a -> b, message", as its log line says it
        self.started(_own_revision(step, bool(getattr(step, "is_upgrade", True))), str(step),
                     getattr(getattr(step, "revision", None), "path", None))

    def version_applied(self, *, step, **_) -> None:
        if not step.is_stamp and step.up_revision_ids:
            # the step's own revision: up going up, and the one removed going down (also "up")
            self._finished[step.up_revision_id] = time.monotonic()

    def durations_ms(self, end: float) -> dict:
        durations = super().durations_ms(end)
        for revision, started in self.starts():
            finished = self._finished.get(revision)
            if finished is not None and finished >= started:
                durations[revision] = round((finished - started) * 1000)
        return durations


def _own_revision(step, is_upgrade: bool) -> Optional[str]:
    """The revision a step applies (going up) or removes (going down): both are the step's
    ``revision``; a merge's down revisions are the other side."""
    revision = getattr(step, "revision", None)
    own = getattr(revision, "revision", None)
    if own is not None:
        return own
    ids = getattr(step, "to_revisions" if is_upgrade else "from_revisions", ()) or ()
    return ids[0] if ids else None


def _current() -> Optional[RevisionSteps]:
    watcher = _watching.get()
    if watcher is not None:
        return watcher
    with _active_lock:
        return _active[0] if len(_active) == 1 else None


def _install() -> None:
    global _installed
    with _active_lock:      # two service threads starting at once must not wrap it twice
        if not _installed:
            from alembic.runtime.migration import MigrationContext

            MigrationContext.run_migrations = _watched(MigrationContext.run_migrations)
            _installed = True


def _watched(original):
    @functools.wraps(original)
    def run_migrations(self, **kw):
        watcher = _current()
        if watcher is None or self.as_sql:
            return original(self, **kw)
        steps_of = self._migrations_fn

        def handing_out(heads, context):
            for step in steps_of(heads, context):
                watcher.step_handed_out(step)
                yield step

        self._migrations_fn = handing_out
        callbacks = tuple(self.on_version_apply_callbacks)
        self.on_version_apply_callbacks = callbacks + (watcher.version_applied,)
        try:
            return original(self, **kw)
        finally:
            self._migrations_fn = steps_of
            self.on_version_apply_callbacks = callbacks

    return run_migrations


@contextlib.contextmanager
def watching_revisions() -> Iterator[RevisionSteps]:
    _install()
    watcher = RevisionSteps()
    token = _watching.set(watcher)
    with _active_lock:
        _active.append(watcher)
    try:
        yield watcher
    finally:
        with _active_lock:
            _active.remove(watcher)
        _watching.reset(token)
