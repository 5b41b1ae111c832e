"""Running one command over a fleet's targets, each as its own process of this CLI.

The rollout only decides which targets start and when:
- ``canary``: the first N targets run first; the rest start only when all of them succeeded;
- ``concurrency``: at most K targets run at once (backups are I/O-heavy: default 1);
- ``on_failure``: ``stop`` starts no new target after a failure, ``continue`` runs them all;
- ``resume``: targets the state file records as done for the same command and target are skipped;
- Ctrl-C / SIGTERM: no new target starts; running ones finish (or restore) on their own, because
  each child runs in a session of its own that the terminal's signal does not reach.
Every target's outcome is written to the state file as soon as it is known, so a fleet run that
is itself interrupted can be resumed."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..base.errors import EXIT_ATTENTION, EXIT_USAGE, EXIT_FAILED, EXIT_OK, EXIT_VALIDATION

DONE = ("applied", "up-to-date")
# The worst outcome decides the fleet's exit code: a database needing attention before a failure,
# a failure before a configuration error, that before validation findings.
_SEVERITY = [EXIT_OK, EXIT_VALIDATION, EXIT_USAGE, EXIT_FAILED, EXIT_ATTENTION]


@dataclass
class TargetResult:
    name: str
    status: str                         # the child's outcome, or not-started / skipped / error
    exit_code: Optional[int] = None
    revision_before: list = field(default_factory=list)
    revision_after: list = field(default_factory=list)
    duration_seconds: float = 0.0
    backup: Optional[str] = None
    error: Optional[str] = None
    document: Optional[dict] = None     # what the child printed with --format json

    @property
    def succeeded(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass
class FleetResult:
    command: str
    target: Optional[str]
    targets: list
    stopped: Optional[str] = None       # why targets were left unstarted
    duration_seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        codes = [t.exit_code for t in self.targets if t.exit_code is not None]
        worst = max(codes, key=lambda code: _SEVERITY.index(code) if code in _SEVERITY else len(_SEVERITY),
                    default=EXIT_OK)
        if self.stopped and worst == EXIT_OK:
            return EXIT_FAILED          # interrupted: some targets were never started
        return worst

    def document(self) -> dict:
        counts: dict = {}
        for target in self.targets:
            counts[target.status] = counts.get(target.status, 0) + 1
        return {"command": self.command, "target": self.target, "exit_code": self.exit_code,
                "stopped": self.stopped, "duration_seconds": round(self.duration_seconds, 3), "counts": counts,
                "targets": [asdict(target) for target in self.targets]}


class StateFile:
    """Each target's last outcome for this fleet command, for ``--resume``."""

    def __init__(self, path: Path, command: str, target: Optional[str]):
        self.path, self.key = Path(path), f"{command} {target or ''}".strip()
        self.outcomes: dict = {}

    def load_done(self) -> set:
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            from ..base.errors import ConfigurationError
            raise ConfigurationError(f"--resume: cannot read the state file {self.path}: {exc}") from None
        if not isinstance(recorded, dict) or recorded.get("run") != self.key:
            return set()
        self.outcomes = dict(recorded.get("targets") or {})
        return {name for name, status in self.outcomes.items() if status in DONE}

    def record(self, result: TargetResult) -> None:
        self.outcomes[result.name] = result.status
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"run": self.key, "targets": self.outcomes}, handle, indent=1, sort_keys=True)
        os.replace(temporary, self.path)


def run_fleet(targets: list, child_arguments, *, command: str, target: Optional[str], canary: int = 0,
              concurrency: int = 1, on_failure: str = "stop", state: Optional[StateFile] = None,
              resume: bool = False, events=None, environ=None) -> FleetResult:
    """Run ``child_arguments(target)`` (the CLI's arguments for that target's own run) for every
    target under the rollout rules above; the children's environments come from
    ``target.child_environment(environ)``."""
    environ = dict(os.environ if environ is None else environ)
    started_at = time.monotonic()
    done_before = state.load_done() if (state is not None and resume) else set()
    results = {t.name: TargetResult(t.name, "skipped", EXIT_OK, error="done in an earlier run (--resume)")
               for t in targets if t.name in done_before}
    waiting = [t for t in targets if t.name not in done_before]
    finished: queue.Queue = queue.Queue()
    running: dict = {}
    stopped: Optional[str] = None
    canary = min(max(canary, 0), len(waiting))
    launched = 0
    interrupted = threading.Event()

    def on_signal(signum, frame):
        interrupted.set()
        if events is not None:
            events.warn(f"{signal.Signals(signum).name} received: no new target starts; running ones finish")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} \
        if threading.current_thread() is threading.main_thread() else {}
    order = [t.name for t in waiting]
    secrets = frozenset(t.password_env for t in targets if t.password_env)
    try:
        while waiting or running:
            if interrupted.is_set() and stopped is None:
                stopped = "interrupted"
            while (waiting and stopped is None and len(running) < concurrency
                   and (launched < canary or _canaries_passed(results, order, canary))):
                next_target = waiting.pop(0)
                launched += 1
                running[next_target.name] = _start(next_target, child_arguments, environ, secrets, finished,
                                                   events)
            if not running:
                break
            try:
                result = finished.get(timeout=0.2)
            except queue.Empty:
                continue
            running.pop(result.name).join()
            results[result.name] = result
            if state is not None:
                state.record(result)
            if events is not None:
                events.step(_progress_line(result, results, len(targets), len(running)))
            if not result.succeeded and stopped is None:
                if result.name in order[:canary]:
                    stopped = f"canary {result.name} failed"
                elif on_failure == "stop":
                    stopped = f"{result.name} failed (--on-failure stop)"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for remaining in waiting:
        results[remaining.name] = TargetResult(remaining.name, "not-started", None, error=stopped)
    return FleetResult(command, target, [results[t.name] for t in targets], stopped,
                       time.monotonic() - started_at)


def _canaries_passed(results: dict, order: list, canary: int) -> bool:
    return all(name in results and results[name].succeeded for name in order[:canary])


def _progress_line(result: TargetResult, results: dict, total: int, running: int) -> str:
    """One line per finished target with the fleet's counts so far: a log that reads as a live
    display (done, failed, running) when piped, in CI or in a Kubernetes job's log."""
    done = sum(1 for r in results.values() if r.succeeded)
    failed = sum(1 for r in results.values() if not r.succeeded)
    change = ""
    if result.revision_before or result.revision_after:
        change = f" ({', '.join(result.revision_before) or 'base'} -> {', '.join(result.revision_after) or 'base'})"
    tail = f": {result.error}" if result.error and not result.succeeded else ""
    return (f"[{done} done, {failed} failed, {running} running of {total}] {result.name}: {result.status}{change} "
            f"{result.duration_seconds:.1f}s{tail}")


def child_command(arguments: list) -> list:
    """This CLI as a child process, from the same package the parent runs."""
    return [sys.executable, "-c", "from migration_safety.face.cli import run; run()", *arguments]


def _start(target, child_arguments, environ: dict, secrets: frozenset, finished: queue.Queue,
           events) -> threading.Thread:
    def run() -> None:
        finished.put(_run_one(target, child_arguments, environ, secrets))

    if events is not None:
        events.step(f"{target.name}: started")
    thread = threading.Thread(target=run, name=f"fleet-{target.name}", daemon=True)
    thread.start()
    return thread


def _run_one(target, child_arguments, environ: dict, secrets: frozenset) -> TargetResult:
    from ..base.errors import MigrationSafetyError

    started = time.monotonic()
    try:
        environment = target.child_environment(environ, secrets - {target.password_env})
    except MigrationSafetyError as exc:
        return TargetResult(target.name, "error", EXIT_USAGE, error=str(exc))
    package_parent = str(Path(__file__).resolve().parents[2])
    environment["PYTHONPATH"] = os.pathsep.join([package_parent] + [p for p in [environ.get("PYTHONPATH")] if p])
    # a session of its own: the terminal's Ctrl-C reaches the fleet, which lets this run finish
    completed = subprocess.run(child_command(child_arguments(target)), env=environment, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, start_new_session=True)
    elapsed = time.monotonic() - started
    try:
        document = json.loads(completed.stdout) if completed.stdout.strip() else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        last = [line for line in completed.stderr.splitlines() if line.strip()]
        return TargetResult(target.name, "error", completed.returncode, duration_seconds=elapsed,
                            error=(last[-1] if last else f"exit {completed.returncode}")[:300])
    error = document.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    return TargetResult(
        target.name, str(document.get("status") or ("ok" if completed.returncode == EXIT_OK else "failed")),
        completed.returncode, list(document.get("revision_before") or []), list(document.get("revision_after") or []),
        float(document.get("duration_seconds") or elapsed), document.get("backup"),
        error if completed.returncode != EXIT_OK else None, document)
