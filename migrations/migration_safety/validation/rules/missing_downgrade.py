"""Rule missing-downgrade (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='missing-downgrade',
    severity='error',
    summary='The file has no `downgrade()` function.',
    why='Alembic calls downgrade() to revert the revision; without it a downgrade crashes.',
    do_instead='Define `def downgrade() -> None:` that undoes upgrade().',
)
