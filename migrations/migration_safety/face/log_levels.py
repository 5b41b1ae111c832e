"""How much the wrapper and Alembic say on stderr: ``MIGRATION_LOG_LEVEL`` = ERROR, WARNING, INFO
or DEBUG. Unset, the wrapper's steps and warnings and Alembic's lines as the project's alembic.ini
configures them, except that upgrade and downgrade keep Alembic's per-revision INFO lines off the
terminal unless ``--verbose`` (or INFO/DEBUG) asks for them.

The wrapper's own lines pass through ``LevelEvents``: steps and progress are INFO, warnings are
WARNING; at DEBUG each step also says how long the run has been going, and every SQL statement a
run sends through SQLAlchemy is printed.

Alembic logs through whatever env.py configured: a stock env.py calls ``fileConfig()`` each time it
runs, which replaces every handler and resets the levels of the loggers alembic.ini names, so a level
set beforehand does not survive. A log record factory, installed once, sees every record as it is
created (after env.py configured logging) and re-applies the level first: the terminal handlers
(stream handlers on stderr/stdout) get the chosen level, and at INFO or DEBUG the ``alembic`` logger
is lowered to it. The levels of the loggers themselves are never raised: records a project's own
handlers expect keep reaching them. (Which revision runs is learnt from Alembic's step loop,
sources/revision_steps.py, not from these records.)
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from typing import Callable, Iterator, Mapping, Optional

from ..base.errors import ConfigurationError
from ..base.events import Events
from ..base.redaction import displayable

VARIABLE = "MIGRATION_LOG_LEVEL"
LEVELS = {"ERROR": logging.ERROR, "WARNING": logging.WARNING, "INFO": logging.INFO, "DEBUG": logging.DEBUG}


def level_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """The level ``MIGRATION_LOG_LEVEL`` names (any case), None when unset; a usage error otherwise."""
    environ = os.environ if environ is None else environ
    raw = (environ.get(VARIABLE) or "").strip()
    if not raw:
        return None
    level = LEVELS.get(raw.upper())
    if level is None:
        raise ConfigurationError(f"{VARIABLE} must be one of {', '.join(LEVELS)}, got {raw!r}")
    return level


def apply_to_logging(level: Optional[int]) -> None:
    """From now on, Alembic's (and any library's) terminal log output follows ``level``."""
    if level is None:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        _apply_levels(level)
        return previous(*args, **kwargs)

    logging.setLogRecordFactory(factory)
    if level <= logging.DEBUG:
        _print_sql_statements()


class _AlembicStepLines(logging.Filter):
    """Alembic's INFO lines ("Context impl ...", "Running upgrade a -> b, ...": one per revision)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "alembic.runtime.migration" and record.levelno == logging.INFO)


_STEP_LINES = _AlembicStepLines()


def quiet_alembic_steps() -> None:
    """Keep Alembic's per-revision INFO lines off the terminal (a run of 120 revisions printed one
    line each): the run's summary says what ran, ``--verbose`` and ``history`` list each revision.
    Only terminal handlers are filtered, so a project's log file keeps them; attached as records are
    made, because env.py's fileConfig() replaces the handlers each time it runs."""
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        for handler in _terminal_handlers():
            if _STEP_LINES not in handler.filters:
                handler.addFilter(_STEP_LINES)
        return previous(*args, **kwargs)

    logging.setLogRecordFactory(factory)


def _terminal_handlers() -> list:
    loggers = [logging.getLogger()] + [logger for logger in list(logging.Logger.manager.loggerDict.values())
                                       if isinstance(logger, logging.Logger)]
    return [handler for logger in loggers for handler in logger.handlers if _writes_to_terminal(handler)]


def _writes_to_terminal(handler: logging.Handler) -> bool:
    return (isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
            and getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__))


def _apply_levels(level: int) -> None:
    for handler in _terminal_handlers():
        if handler.level != level:
            handler.setLevel(level)
    alembic_logger = logging.getLogger("alembic")
    if level <= logging.INFO and alembic_logger.getEffectiveLevel() > level:
        alembic_logger.setLevel(level)


def _print_sql_statements() -> None:
    """DEBUG: each statement SQLAlchemy sends (env.py's engine, whatever its logging), on stderr.
    Without parameters: they are data, not what a migration does."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def before_cursor_execute(connection, cursor, statement, parameters, context, executemany):
        sys.stderr.write(f"  sql: {' '.join(displayable(statement).split())}\n")

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)


def shows_information(level: Optional[int]) -> bool:
    """Whether informational lines (steps, which database) reach stderr at this level."""
    return level is None or level <= logging.INFO


class LevelEvents(Events):
    """The CLI's events, filtered by level: steps and progress at INFO and below, warnings at
    WARNING and below; at DEBUG steps are prefixed with the seconds since the command started."""

    def __init__(self, inner: Events, level: Optional[int]):
        self.inner = inner
        self.level = logging.INFO if level is None else level
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        if self.level <= logging.DEBUG:
            text = f"[{time.monotonic() - self.started:7.2f}s] {text}"
        if self.level <= logging.INFO:
            self.inner.step(text)

    def warn(self, text: str) -> None:
        if self.level <= logging.WARNING:
            self.inner.warn(text)

    @contextlib.contextmanager
    def progress(self, label: str, total: Optional[int]) -> Iterator[Callable[[int, Optional[int]], None]]:
        if self.level <= logging.INFO:
            with self.inner.progress(label, total) as update:
                yield update
        else:
            yield lambda done, total=None: None
