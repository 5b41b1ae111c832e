"""Which step of a run ran last and how long each took, for the run record."""
from __future__ import annotations

import time
from typing import Optional


class StepTimes:
    """Which step ran last (the failed one, after a failure) and when each step started, so the
    run record holds each revision's own duration: a step lasts until the next one starts, the
    last one until the run ends. A step started again (a retry) counts from its last start."""

    def __init__(self) -> None:
        self.last: Optional[str] = None
        self._starts: list = []        # (revision, time.monotonic()) in the order they started
        self.paths: dict = {}          # revision -> its file, when the source knows it

    def started(self, revision: Optional[str], label: str, path: Optional[str] = None) -> None:
        self.last = label
        self._starts.append((revision, time.monotonic()))
        if revision is not None and path is not None:
            self.paths[revision] = path

    def attempts(self) -> dict:
        """How many times each step started: more than once when it was tried again (retries)."""
        counted: dict = {}
        for revision, _ in self._starts:
            if revision is not None:
                counted[revision] = counted.get(revision, 0) + 1
        return counted

    def ran(self) -> list:
        """The steps that started, each once, in the order they first started: what really ran,
        which for Alembic need not be the plan read beforehand."""
        return list(dict.fromkeys(revision for revision, _ in self._starts if revision is not None))

    def starts(self) -> list:
        """(revision, time.monotonic() it started), in the order the steps started."""
        return list(self._starts)

    def durations_ms(self, end: float) -> dict:
        ends = [started for _, started in self._starts[1:]] + [end]
        return {revision: round((until - started) * 1000)
                for (revision, started), until in zip(self._starts, ends) if revision is not None}
