"""Rule unknown-down-revision (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='unknown-down-revision',
    severity='error',
    summary='down_revision names a revision that does not exist.',
    why='Alembic fails to build the graph (a bare KeyError) and no command works.',
    do_instead='Point down_revision at an existing revision id.',
)
