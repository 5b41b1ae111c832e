"""Rule multiple-heads."""
from ...migration_files.revision_file import heads
from ..graph import declared, known
from ..model import Rule


def check_graph(sources, context):
    """The heads as Alembic computes them (a cyclic graph has none to count: revision-cycle)."""
    found = heads(declared(sources))
    if found and len(found) > 1:
        yield known(sources)[found[-1]], 1, f"{len(found)} heads: {', '.join(found)}; merge them into one"


RULE = Rule(
    id='multiple-heads',
    severity='error',
    summary='The revision graph has more than one head.',
    why='`upgrade head` refuses to choose; deploys that run it fail.',
    do_instead="Merge the heads with `alembic merge heads` (or point one branch's down_revision at the other head).",
    check_graph=check_graph,
)
