"""Rule missing-revision-id."""
from ..model import Rule


def check_file(revision_file, context):
    source = revision_file.source
    if source is not None and ("revision" not in source.assigned or not source.revision):
        yield 1, "no module-level revision = '...'"


RULE = Rule(
    id='missing-revision-id',
    severity='error',
    summary='The file sets no `revision` identifier.',
    why='Alembic identifies revisions by the module-level `revision` string; without it the file is not a revision.',
    do_instead='Add `revision = "<id>"` at module level (generate files with `create`).',
    check_file=check_file,
)
