"""Rule revision-cycle."""
from ..graph import downs, known
from ..model import Rule


def check_graph(sources, context):
    """Depth-first over down_revision edges; each cycle reported once."""
    revisions = known(sources)
    state: dict = {}
    reported = set()
    found = []

    def visit(revision, trail):
        state[revision] = "active"
        for down in downs(revisions[revision]):
            if down not in revisions:
                continue
            if state.get(down) == "active":
                cycle = trail[trail.index(down):] + [down] if down in trail else [revision, down]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    found.append((revisions[revision], 1, "revisions form a cycle: " + " -> ".join(cycle)))
            elif down not in state:
                visit(down, trail + [down])
        state[revision] = "done"

    for revision in revisions:
        if revision not in state:
            visit(revision, [revision])
    return found


RULE = Rule(
    id='revision-cycle',
    severity='error',
    summary='The revisions form a cycle.',
    why='A cycle has no order to apply; Alembic raises CycleDetected.',
    do_instead='Break the cycle by fixing the down_revision values.',
    check_graph=check_graph,
)
