"""Rule irreversible-downgrade (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='irreversible-downgrade',
    severity='warning',
    summary='downgrade() does nothing: the revision cannot be undone.',
    why='An empty or pass-only downgrade() silently leaves the schema changed while Alembic records the revision as reverted.',
    do_instead='Write the reverse operations; if the change truly cannot be reversed, raise an exception in downgrade() that says so.',
)
