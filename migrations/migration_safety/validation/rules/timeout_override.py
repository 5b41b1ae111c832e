"""Rule timeout-override."""
from ..model import Rule


def check(op, context):
    if op.kind == "timeout_override":
        return f"the revision sets {op.get('setting')}, replacing the one the wrapper applies to the migration"
    return None


RULE = Rule(
    id='timeout-override',
    severity='warning',
    summary='SET statement_timeout / lock_timeout inside a revision overrides the wrapper.',
    why="The wrapper sets lock_timeout (and optionally statement_timeout) so a migration fails fast instead of queueing behind a long transaction and blocking the application; a revision that changes them (even with SET LOCAL, for the rest of the transaction) removes that protection.",
    do_instead='Set the timeouts in the wrapper settings (`--lock-wait`, MIGRATION_LOCK_TIMEOUT / statement timeout) for the run that needs them, not in the revision.',
    check=check,
)
