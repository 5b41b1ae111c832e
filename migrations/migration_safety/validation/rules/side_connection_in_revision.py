"""Rule side-connection-in-revision."""
from ..model import Rule


def check(op, context):
    if op.kind == "side_connection":
        return f"{op.get('opener')}(...) opens a second connection from inside the revision"
    return None


RULE = Rule(
    id='side-connection-in-revision',
    severity='error',
    summary="A revision opens its own database connection.",
    why="Work done on a second connection commits on its own: the migration's rollback cannot undo it, the wrapper cannot see it, and it can wait forever on locks the migration's own transaction holds.",
    do_instead='Use the migration connection: `op.execute(...)` or `op.get_bind()`.',
    check=check,
)
