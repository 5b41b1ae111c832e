"""Runs in the background: a migrate, rollback or backup asked for over HTTP goes through the
same pipeline as the CLI's, in a worker thread of its own, so it survives the client going away;
its steps, progress and final result document are kept here for ``GET /api/v1/runs/{id}``.

One run at a time per database (a second request gets the running one, for a 409). The
migration lock still guards against a CLI run on the same database: such a run shows here as a
failed run naming the lock's holder. Stopping the service waits for a running run to finish
(``wait_for_running``): stopping halfway would leave work for a person.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Callable, Iterator, Optional

from ..base.errors import EXIT_FAILED, MigrationSafetyError
from ..base.events import Events
from ..base.redaction import mask
from ..face.render import json_text

log = logging.getLogger("migration_safety.service")

RUNNING, FINISHED, FAILED = "running", "finished", "failed"
KEPT_RUNS = 100                  # finished runs remembered for /runs/{id}; the run records keep the rest
MAX_STEPS = 500


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class RunState:
    """One run as the service knows it; every method is safe to call from any thread."""

    def __init__(self, kind: str, database: str, parameters: dict, actor) -> None:
        self.id = str(uuid.uuid4())
        self.kind, self.database, self.parameters, self.actor = kind, database, parameters, actor
        self.state = RUNNING
        self.created_at, self.finished_at = _now(), None
        self.started = time.monotonic()
        self.steps: list[dict] = []
        self.progress: Optional[dict] = None
        self.result = None                    # the result document, as `--format json` prints it
        self.outcome: Optional[str] = None
        self.exit_code: Optional[int] = None
        self.error: Optional[dict] = None
        self.durations: dict = {}             # seconds: total, backup, restore (for /metrics)
        self.thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def add_step(self, level: str, text: str) -> None:
        with self._lock:
            if len(self.steps) < MAX_STEPS:
                self.steps.append({"at": _now(), "level": level, "text": mask(text)})

    def set_progress(self, label: Optional[str], done: int = 0, total: Optional[int] = None) -> None:
        with self._lock:
            self.progress = None if label is None else {"label": label, "done": done, "total": total}

    def finish(self, document, outcome: str, exit_code: int, durations: dict) -> None:
        with self._lock:
            self.result, self.outcome, self.exit_code = document, outcome, exit_code
            self.durations = durations
            self.state, self.finished_at, self.progress = FINISHED, _now(), None

    def fail(self, message: str, hint: Optional[str], exit_code: int) -> None:
        with self._lock:
            self.error = {"message": mask(message), "hint": mask(hint), "exit_code": exit_code}
            self.outcome, self.exit_code = "error", exit_code
            self.durations = {"total": round(time.monotonic() - self.started, 3)}
            self.state, self.finished_at, self.progress = FAILED, _now(), None

    def publish(self, ended: "RunState") -> None:
        """Show how the run ended (``ended``: a copy that finish() or fail() was called on)."""
        with self._lock:
            for name in ("result", "outcome", "exit_code", "error", "durations", "state", "finished_at", "progress"):
                setattr(self, name, getattr(ended, name))

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def url(self) -> str:
        return f"/api/v1/runs/{self.id}"

    def summary(self) -> dict:
        actor = self.actor
        return {"run_id": self.id, "url": self.url, "kind": self.kind, "database": self.database,
                "parameters": self.parameters, "state": self.state, "outcome": self.outcome,
                "created_at": self.created_at, "finished_at": self.finished_at,
                "requested_by": None if actor is None else {"token": actor.token_name, "client": actor.client_address,
                                                            "user_agent": actor.user_agent}}

    def document(self) -> dict:
        with self._lock:
            return {**self.summary(), "exit_code": self.exit_code, "steps": list(self.steps),
                    "progress": None if self.progress is None else dict(self.progress),
                    "result": self.result, "error": self.error}


class RecordingEvents(Events):
    """The pipeline's events, kept in the run's state instead of printed."""

    def __init__(self, run: RunState) -> None:
        self.run = run

    def step(self, text: str) -> None:
        self.run.add_step("step", text)

    def warn(self, text: str) -> None:
        self.run.add_step("warn", text)

    @contextlib.contextmanager
    def progress(self, label: str, total: Optional[int]) -> Iterator[Callable[[int, Optional[int]], None]]:
        self.run.set_progress(label, 0, total)

        def update(done: int, new_total: Optional[int] = None) -> None:
            self.run.set_progress(label, done, new_total or total)

        try:
            yield update
        finally:
            self.run.set_progress(None)


class RunInProgress(Exception):
    def __init__(self, running: RunState) -> None:
        super().__init__(f"run {running.id} is in progress on database {running.database}")
        self.running = running


# What a piece of work returns: the result document, its outcome, exit code and durations.
Work = Callable[[Events], tuple]


class RunRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: "OrderedDict[str, RunState]" = OrderedDict()

    def start(self, kind: str, database: str, parameters: dict, actor, work: Work,
              after: Optional[Callable[[RunState], None]] = None) -> RunState:
        """Start ``work`` in a thread of its own, or raise RunInProgress naming the running run."""
        with self._lock:
            for other in self._runs.values():
                if other.running and other.database == database:
                    raise RunInProgress(other)
            run = RunState(kind, database, parameters, actor)
            self._runs[run.id] = run
            while len(self._runs) > KEPT_RUNS:
                oldest = next(iter(self._runs.values()))
                if oldest.running:
                    break
                self._runs.popitem(last=False)
        run.thread = threading.Thread(target=self._execute, args=(run, work, after), name=f"run-{run.id[:8]}")
        run.thread.start()
        return run

    def wait_for_running(self) -> None:
        """At shutdown: a run stopped halfway would leave work for a person, so it is finished."""
        for run in self.running():
            log.warning("waiting for run %s (%s) to finish before stopping", run.id, run.kind)
            run.thread.join()

    @staticmethod
    def _execute(run: RunState, work: Work, after) -> None:
        """The work, then ``after`` (the audit row), and only then the state a client polls: a run
        shown as finished is already in the audit trail."""
        ended = copy.copy(run)          # the run as it ends; clients see ``run`` running until published
        try:
            document, outcome, exit_code, durations = work(RecordingEvents(run))
            ended.finish(json.loads(json_text(document)), outcome, exit_code, durations)
        except MigrationSafetyError as exc:
            ended.fail(str(exc), exc.hint, exc.exit_code)
        except Exception as exc:     # a bug of ours: one line, the run still ends
            log.error("run %s: internal error: %s", run.id, mask(f"{type(exc).__name__}: {exc}")[:300])
            ended.fail(f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", None, EXIT_FAILED)
        if after is not None:
            try:
                after(ended)
            except Exception as exc:
                log.error("run %s: %s", run.id, mask(' '.join(str(exc).split()))[:300])
        run.publish(ended)
        log.info("run %s (%s) ended: %s", run.id, run.kind, run.outcome)

    def get(self, run_id: str) -> Optional[RunState]:
        with self._lock:
            return self._runs.get(run_id)

    def recent(self, limit: int = 20) -> list[RunState]:
        with self._lock:
            return list(reversed(self._runs.values()))[:limit]

    def running(self) -> list[RunState]:
        with self._lock:
            return [run for run in self._runs.values() if run.running]

    def last_finished(self) -> Optional[RunState]:
        with self._lock:
            return next((run for run in reversed(self._runs.values()) if not run.running), None)
