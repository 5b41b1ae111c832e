"""Rule unreadable-revision (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='unreadable-revision',
    severity='error',
    summary='The revision file is empty, binary or not UTF-8.',
    why='Alembic cannot load it, and nothing in it can be checked.',
    do_instead='Restore the file from version control or delete it.',
)
