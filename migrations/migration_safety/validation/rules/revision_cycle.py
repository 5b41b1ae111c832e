"""Rule revision-cycle (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='revision-cycle',
    severity='error',
    summary='The revisions form a cycle.',
    why='A cycle has no order to apply; Alembic raises CycleDetected.',
    do_instead='Break the cycle by fixing the down_revision values.',
)
