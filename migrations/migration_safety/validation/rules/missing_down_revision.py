"""Rule missing-down-revision (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='missing-down-revision',
    severity='error',
    summary='The file sets no `down_revision`.',
    why='Without `down_revision` Alembic cannot place the revision in the graph.',
    do_instead='Add `down_revision = "<parent id>"` (None only for the first revision).',
)
