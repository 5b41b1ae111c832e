"""Rule missing-revision-id (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='missing-revision-id',
    severity='error',
    summary='The file sets no `revision` identifier.',
    why='Alembic identifies revisions by the module-level `revision` string; without it the file is not a revision.',
    do_instead='Add `revision = "<id>"` at module level (generate files with `create`).',
)
