"""Rule duplicate-revision."""
from ..graph import by_revision
from ..model import Rule


def check_graph(sources, context):
    for revision, holders in by_revision(sources).items():
        for duplicate in holders[1:]:
            yield duplicate, 1, f"revision {revision} is also declared in {holders[0].path.name}"


RULE = Rule(
    id='duplicate-revision',
    severity='error',
    summary='Two files declare the same revision id.',
    why='Alembic keeps only one of them (with just a warning): the other never runs.',
    do_instead='Give one of them a new id and fix the down_revision of its children.',
    check_graph=check_graph,
)
