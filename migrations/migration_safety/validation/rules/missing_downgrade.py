"""Rule missing-downgrade."""
from ..model import Rule


def check_file(revision_file, context):
    if revision_file.source is not None and "downgrade" not in revision_file.source.functions:
        yield 1, "no downgrade() function"


RULE = Rule(
    id='missing-downgrade',
    severity='error',
    summary='The file has no `downgrade()` function.',
    why='Alembic calls downgrade() to revert the revision; without it a downgrade crashes.',
    do_instead='Define `def downgrade() -> None:` that undoes upgrade().',
    check_file=check_file,
)
