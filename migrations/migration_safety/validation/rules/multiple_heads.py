"""Rule multiple-heads."""
from ..graph import downs, known
from ..model import Rule


def check_graph(sources, context):
    revisions = known(sources)
    children = {down for source in revisions.values() for down in downs(source)}
    heads = sorted(revision for revision in revisions if revision not in children)
    if len(heads) > 1:
        yield revisions[heads[-1]], 1, f"{len(heads)} heads: {', '.join(heads)}; merge them into one"


RULE = Rule(
    id='multiple-heads',
    severity='error',
    summary='The revision graph has more than one head.',
    why='`upgrade head` refuses to choose; deploys that run it fail.',
    do_instead="Merge the heads with `alembic merge heads` (or point one branch's down_revision at the other head).",
    check_graph=check_graph,
)
