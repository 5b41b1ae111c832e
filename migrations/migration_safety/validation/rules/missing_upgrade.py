"""Rule missing-upgrade (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='missing-upgrade',
    severity='error',
    summary='The file has no `upgrade()` function.',
    why='Alembic calls upgrade() to apply the revision.',
    do_instead='Define `def upgrade() -> None:`.',
)
