"""Rule missing-upgrade."""
from ..model import Rule


def check_file(revision_file, context):
    if revision_file.source is not None and "upgrade" not in revision_file.source.functions:
        yield 1, "no upgrade() function"


RULE = Rule(
    id='missing-upgrade',
    severity='error',
    summary='The file has no `upgrade()` function.',
    why='Alembic calls upgrade() to apply the revision.',
    do_instead='Define `def upgrade() -> None:`.',
    check_file=check_file,
)
