"""Trying a failed migration again: only when PostgreSQL rolled the attempt back (nothing of it
was committed) and the cause was another session, so a second attempt may not meet it."""
from __future__ import annotations

import time
from typing import Callable, Optional

# SQLSTATE -> what to call it
TRANSIENT_SQLSTATES = {"55P03": "lock timeout", "40001": "serialization failure", "40P01": "deadlock"}


def transient_cause(exc: BaseException) -> Optional[str]:
    """The transient cause of a failure (PostgreSQL's error, wrapped by SQLAlchemy or by us, is
    found through ``orig``), or None."""
    seen = 0
    while exc is not None and seen < 5:
        cause = TRANSIENT_SQLSTATES.get(getattr(exc, "pgcode", None))
        if cause:
            return cause
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return None


def with_retries(attempt_once: Callable[[], None], *, label: str, attempts: int, delay_seconds: float,
                 nothing_committed: Callable[[], bool], events, notes: list) -> None:
    """Run ``attempt_once`` up to ``attempts`` times, again only after a transient failure that
    ``nothing_committed`` confirms left nothing behind; each attempt is shown and noted."""
    for attempt in range(1, attempts + 1):
        try:
            attempt_once()
        except Exception as exc:
            cause = transient_cause(exc)
            if cause is None or attempt == attempts or not nothing_committed():
                if attempt > 1:
                    notes.append(f"{label}: failed again on attempt {attempt} of {attempts} "
                                 f"({cause or 'not transient'})")
                raise
            message = (f"{label}: attempt {attempt} of {attempts} failed ({cause}) and was rolled back, nothing "
                       f"of it committed; trying again in {delay_seconds:g}s")
            events.warn(message)
            notes.append(message)
            time.sleep(delay_seconds)
            continue
        if attempt > 1:
            notes.append(f"{label}: applied on attempt {attempt} of {attempts}")
        return
