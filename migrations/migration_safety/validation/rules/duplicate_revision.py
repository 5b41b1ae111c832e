"""Rule duplicate-revision (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='duplicate-revision',
    severity='error',
    summary='Two files declare the same revision id.',
    why='Alembic keeps only one of them (with just a warning): the other never runs.',
    do_instead='Give one of them a new id and fix the down_revision of its children.',
)
