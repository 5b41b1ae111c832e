"""Rule missing-down-revision."""
from ..model import Rule


def check_file(revision_file, context):
    if revision_file.source is not None and "down_revision" not in revision_file.source.assigned:
        yield 1, "no module-level down_revision"


RULE = Rule(
    id='missing-down-revision',
    severity='error',
    summary='The file sets no `down_revision`.',
    why='Without `down_revision` Alembic cannot place the revision in the graph.',
    do_instead='Add `down_revision = "<parent id>"` (None only for the first revision).',
    check_file=check_file,
)
