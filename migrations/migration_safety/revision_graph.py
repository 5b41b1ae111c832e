"""Alembic's own ``RevisionMap`` over revisions read with ``ast`` (never imported), so the graph
checks and the drift walk see the graph exactly as an upgrade does: heads, merges, ``depends_on``
and branch labels included. Pure: made-up revisions test it.

References to revisions no file declares are left out of the map (Alembic would stop at the
first with a bare KeyError); callers report them themselves (unknown-down-revision, drift's
"missing")."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Optional


@dataclass(frozen=True)
class Declared:
    """What one revision file states about its place in the graph."""
    downs: tuple = ()
    depends_on: tuple = ()
    branch_labels: tuple = ()


def as_tuple(value) -> tuple:
    """A down_revision / depends_on / branch_labels value as the file states it, as a tuple."""
    if value is None or value == "<missing>":
        return ()
    if isinstance(value, (tuple, list)):
        return tuple(v for v in value if isinstance(v, str))
    return (value,) if isinstance(value, str) else ()


def alembic_revision_module():
    """``alembic.script.revision``, entered where every other caller enters Alembic's import cycle
    (``alembic.config``): two threads of the service entering it at different modules at once see
    a partially initialised module (ImportError)."""
    import alembic.config  # noqa: F401
    from alembic.script import revision

    return revision


def revision_map(declared: dict):
    """The RevisionMap of ``declared`` (revision id -> Declared), references to undeclared
    revisions dropped. Building it (any property) raises Alembic's CycleDetected for a cycle."""
    revision_module = alembic_revision_module()
    Revision, RevisionMap = revision_module.Revision, revision_module.RevisionMap
    labels = {label for entry in declared.values() for label in entry.branch_labels}

    def revisions():
        for revision, entry in declared.items():
            downs = tuple(d for d in entry.downs if d in declared)
            depends = tuple(d for d in entry.depends_on if d in declared or d in labels)
            yield Revision(revision, downs or None, dependencies=depends or None,
                           branch_labels=entry.branch_labels or None)

    return RevisionMap(revisions)


def heads(declared: dict) -> Optional[tuple]:
    """The heads as Alembic computes them; None when it cannot build the graph (a cycle)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(sorted(revision_map(declared).heads))
    except alembic_revision_module().RevisionError:
        return None


def cycle(declared: dict):
    """Alembic's CycleDetected (a cycle or self-loop of down revisions or of depends_on; its
    ``kind`` and ``revisions`` say which) when it refuses the graph; None when it accepts it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revision_map(declared).heads
    except alembic_revision_module().CycleDetected as exc:
        return exc
    return None


def applied_below(declared: dict, current: Iterable[str]) -> list:
    """``current`` (the database's heads) and every revision an upgrade counts as applied below
    them — down revisions and depends_on, as Alembic's upgrade plan does — that a file declares.
    Raises CycleDetected for a cyclic graph."""
    revision_map_ = revision_map(declared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        targets = revision_map_.get_revisions(tuple(r for r in current if r in declared))
        return sorted(revision.revision for revision in revision_map_._get_ancestor_nodes(targets))
