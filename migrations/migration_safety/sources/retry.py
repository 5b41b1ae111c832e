"""Trying a failed migration again: only when PostgreSQL rolled the attempt back (nothing of it
was committed) and the cause was transient — another session (a lock, a serialization conflict,
a deadlock) or the connection itself (lost, terminated by an administrator) — so a second
attempt, on a new connection if need be, may not meet it.

Which causes count as transient follows what retrying runners (Flyway's connect retries, the
old runners' retry_attempts) treat as such: SQLSTATE class 08 (connection exception), the
operator-intervention codes that end a session (57P01 admin shutdown, 57P02 crash shutdown,
57P03 cannot connect now), 40001, 40P01 and 55P03. Not 57014 (query canceled): that is the
run's own statement timeout, which a second attempt would meet again."""
from __future__ import annotations

import time
from typing import Callable, Optional

# SQLSTATE -> what to call it
TRANSIENT_SQLSTATES = {"55P03": "lock timeout", "40001": "serialization failure", "40P01": "deadlock",
                       "57P01": "connection lost: terminated by an administrator or a shutdown",
                       "57P02": "connection lost: server crash", "57P03": "connection lost: server not accepting "
                                                                        "connections yet"}
CONNECTION_LOST = "connection lost"
_CONNECTION_EXCEPTION_CLASS = "08"


def transient_cause(exc: BaseException) -> Optional[str]:
    """The transient cause of a failure, or None. PostgreSQL's error, wrapped by SQLAlchemy or by
    us, is found through ``orig``; a connection that died without a SQLSTATE (libpq's 'server
    closed the connection unexpectedly') is marked by SQLAlchemy (``connection_invalidated``) or
    by the SQL folder source (``connection_lost``)."""
    seen = 0
    while exc is not None and seen < 5:
        code = getattr(exc, "pgcode", None) or ""
        cause = TRANSIENT_SQLSTATES.get(code)
        if cause:
            return cause
        if code.startswith(_CONNECTION_EXCEPTION_CLASS) or getattr(exc, "connection_invalidated", False) \
                or getattr(exc, "connection_lost", False):
            return CONNECTION_LOST
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
            if cause is not None and attempt < attempts and not nothing_committed():
                notes.append(f"{label}: failed ({cause}) after something of it may have been committed; "
                             "not tried again")
                raise
            if cause is None or attempt == attempts:
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
