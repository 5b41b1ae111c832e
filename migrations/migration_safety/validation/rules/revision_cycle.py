"""Rule revision-cycle."""
from ...migration_files.revision_file import cycle
from ..graph import declared, known
from ..model import Rule


def check_graph(sources, context):
    """Alembic's own verdict (CycleDetected): cycles of down revisions or of depends_on."""
    refused = cycle(declared(sources))
    if refused is None:
        return
    names = [refused.revisions] if isinstance(refused.revisions, str) else sorted(refused.revisions)
    revisions = known(sources)
    holder = next((revisions[name] for name in names if name in revisions), None)
    if holder is not None:
        yield holder, 1, f"revisions form a cycle ({refused.kind.lower()}; Alembic refuses the graph): {', '.join(names)}"


RULE = Rule(
    id='revision-cycle',
    severity='error',
    summary='The revisions form a cycle.',
    why='A cycle has no order to apply; Alembic raises CycleDetected.',
    do_instead='Break the cycle by fixing the down_revision (or depends_on) values.',
    check_graph=check_graph,
)
