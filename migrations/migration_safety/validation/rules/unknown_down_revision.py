"""Rule unknown-down-revision."""
from ..graph import downs, known
from ..model import Rule


def check_graph(sources, context):
    revisions = known(sources)
    for revision, source in revisions.items():
        for down in downs(source):
            if down not in revisions:
                yield source, 1, f"down_revision {down!r} of {revision} names no revision"


RULE = Rule(
    id='unknown-down-revision',
    severity='error',
    summary='down_revision names a revision that does not exist.',
    why='Alembic fails to build the graph (a bare KeyError) and no command works.',
    do_instead='Point down_revision at an existing revision id.',
    check_graph=check_graph,
)
