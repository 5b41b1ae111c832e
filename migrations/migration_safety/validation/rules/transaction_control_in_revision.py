"""Rule transaction-control-in-revision."""
from ..model import Rule


def check(op, context):
    if op.kind == "transaction_control":
        return (f"{op.get('command') or op.get('statement')} inside a revision ends or starts the migration's "
                "transaction behind Alembic's back")
    return None


RULE = Rule(
    id='transaction-control-in-revision',
    severity='error',
    summary='COMMIT, ROLLBACK or BEGIN inside a revision.',
    why="Alembic runs the revision inside its transaction: a COMMIT makes the steps before it permanent even if a later step fails (so nothing rolls back and the wrapper must restore from backup), a ROLLBACK silently undoes them while alembic_version still advances.",
    do_instead='Let Alembic own the transaction; for statements that cannot run in one, use `with op.get_context().autocommit_block():`.',
    do_instead_sql="The wrapper owns each file's transaction (a file's own top-level BEGIN/COMMIT are left out); for statements that cannot run in one, head the file with `-- migration-safety: no-transaction`.",
    check=check,
)
