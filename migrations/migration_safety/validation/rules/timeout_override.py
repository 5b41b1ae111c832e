"""Rule timeout-override: a timeout a revision sets that outlives the revision, and any lock_timeout
a revision disables or raises above the wrapper's.

A timeout is scoped, and quiet, when it ends before the revision does:
- reset later in the same function (``RESET statement_timeout``, ``SET ... TO DEFAULT``,
  ``RESET ALL``): in an autocommit block, ``SET`` then ``RESET`` before the block ends;
- ``SET LOCAL`` (``set_config(..., true)``) in a transaction that ends with the revision: env.py
  runs each revision in its own transaction (``transaction_per_migration``), a plain-SQL file runs
  in its own, or an autocommit block later in the function commits it. With Alembic's default
  (every revision of the run in one transaction) ``SET LOCAL`` lasts until the run's COMMIT, so
  the revisions after this one run with it too: it needs its RESET as well.

RESET returns to the wrapper's value: the wrapper gives its timeouts in the connection's startup
options (PGOPTIONS), which is what RESET restores. ``SET LOCAL`` outside a transaction (in an
autocommit block) does nothing at all, so it is no hazard either.

Each finding tells the fixer (validation/fixes/timeout_override.py) how the override is scoped
mechanically (``scope_fix``): ``local`` (SET -> SET LOCAL), ``local+reset`` (and RESET at the end
of ``upgrade()``), ``reset`` (RESET at the end of the autocommit block, or of ``upgrade()`` when
env.py runs everything in autocommit), or nothing (lock_timeout disabled: a person decides)."""
from __future__ import annotations

from ..model import Rule
from ..sql import duration_ms


def _resets(operation, setting: str, local: bool) -> bool:
    """Whether ``operation`` ends an override of ``setting``: RESET, SET ... TO DEFAULT, RESET ALL
    (``SET LOCAL ... TO DEFAULT`` only a local one: at COMMIT a session-level value comes back)."""
    if operation.kind == "timeout_override":
        return (operation.get("action") == "reset" and operation.get("setting") == setting
                and (local is True or not operation.get("local")))
    return operation.kind == "sql" and bool(operation.get("resets_all"))


def _ends_with_the_revision(operation, later: list, context) -> bool:
    """Whether a SET LOCAL in a transaction ends before the revision does (its transaction commits)."""
    return (context.transaction_mode == "per-migration" or operation.get("through") == "sql file"
            or any(other.in_autocommit for other in later))


def _lock_timeout_problem(operation, context):
    """Why a lock_timeout the revision sets is a hazard even when scoped, or None."""
    value = operation.get("value")
    wanted = duration_ms(value)
    if value is None or wanted is None:
        return "sets lock_timeout to a value the file does not state"
    if wanted == 0:
        return "disables lock_timeout (0): a lock wait is no longer bounded"
    wrapper = duration_ms(context.lock_timeout)
    if wrapper is not None and wrapper != 0 and wanted > wrapper:
        return f"raises lock_timeout to {value.strip()}, above the wrapper's {context.lock_timeout}"
    return None


def check_sequence(operations, context):
    for index, op in enumerate(operations):
        if op.kind != "timeout_override" or op.get("action") != "set":
            continue
        setting = op.get("setting")
        local = op.get("local")
        if local and op.in_autocommit:
            continue                # SET LOCAL outside a transaction: PostgreSQL ignores it
        later = operations[index + 1:]
        reset_later = any(_resets(other, setting, local) for other in later)
        scoped = reset_later or (local is True and _ends_with_the_revision(op, later, context))
        problem = _lock_timeout_problem(op, context) if setting == "lock_timeout" else None
        if scoped and problem is None:
            continue
        leak, scope_fix = None, None
        if not scoped:
            if op.in_autocommit:
                leak = (f"{setting} set in autocommit lasts for the rest of the session: the revisions after "
                        f"this one lose the wrapper's {setting} (RESET it after the statements that need it)")
                scope_fix = "reset"
            elif local is True:
                leak = (f"SET LOCAL {setting} lasts until the run's transaction commits: env.py runs every "
                        f"revision in one transaction, so the revisions after this one run with it too")
                scope_fix = "local+reset"
            else:
                leak = (f"{setting} set for the session outlives this revision: the revisions after it lose "
                        f"the wrapper's {setting}")
                if local is None:     # set_config(..., <not a constant>): RESET scopes it whatever it is
                    scope_fix = "reset"
                else:
                    scope_fix = "local" if _ends_with_the_revision(op, later, context) else "local+reset"
        if setting == "lock_timeout" and duration_ms(op.get("value")) == 0:
            scope_fix = None        # no mechanical fix: the revision must not wait without bound
        message = "; ".join(part for part in (problem and f"the revision {problem}", leak) if part)
        yield op, message, {"scope_fix": scope_fix, "setting": setting}


RULE = Rule(
    id='timeout-override',
    severity='warning',
    summary='A revision sets statement_timeout / lock_timeout beyond its own statements, or disables or '
            'raises lock_timeout.',
    why="The wrapper gives the migration connection its lock_timeout (and statement_timeout when set) so a "
        "migration fails fast instead of queueing behind a long transaction and blocking the application "
        "behind it. A plain `SET statement_timeout`/`SET lock_timeout` (or `SET SESSION`, `set_config(..., "
        "false)`) in a revision lasts for the rest of the session: it leaks into every later revision of the "
        "run, which then lose that protection. So does `SET LOCAL` when env.py runs every revision in one "
        "transaction (Alembic's default): it lasts until the run's COMMIT. Disabling lock_timeout (`0`) lets "
        "the migration queue without bound behind a long transaction while every query of the application "
        "on that table queues behind it; raising it above the wrapper's does the same for longer, even when "
        "scoped, because that wait is the hazard itself, not the statement's duration.",
    do_instead="Leave lock_timeout to the wrapper and never disable it (a run that truly needs a longer lock wait "
               "gets a larger MIGRATION_LOCK_TIMEOUT, at a quiet hour). Scope a statement_timeout the revision "
               "needs (a long backfill, a long concurrent index build) to the statements that need it: "
               "`SET LOCAL statement_timeout = '30min'` in a transaction (and `RESET statement_timeout` at the end "
               "of `upgrade()` when env.py runs every revision in one transaction); inside "
               "`op.get_context().autocommit_block()`, where SET LOCAL does nothing, `SET statement_timeout` and "
               "`RESET statement_timeout` as the block's last statement. `validate --fix` writes these.",
    do_instead_sql="Leave lock_timeout to the wrapper (MIGRATION_LOCK_TIMEOUT) and never disable it. Scope a "
                   "statement_timeout the file needs to the file: `SET LOCAL statement_timeout = '30min'` (it ends "
                   "at the file's COMMIT); in a file headed `-- migration-safety: no-transaction`, `SET "
                   "statement_timeout` then `RESET statement_timeout` after the statements that need it.",
    check_sequence=check_sequence,
)
