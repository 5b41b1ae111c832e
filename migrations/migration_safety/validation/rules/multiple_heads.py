"""Rule multiple-heads (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='multiple-heads',
    severity='error',
    summary='The revision graph has more than one head.',
    why='`upgrade head` refuses to choose; deploys that run it fail.',
    do_instead="Merge the heads with `alembic merge heads` (or point one branch's down_revision at the other head).",
)
