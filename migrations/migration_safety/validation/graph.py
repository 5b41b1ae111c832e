"""What the graph rules share: the revisions by id, and the graph as Alembic's RevisionMap sees
it (``revision_graph``), built from what the files state (pure: made-up revisions test it)."""
from __future__ import annotations

from ..migration_files.revision_file import Declared, as_tuple


def downs(source) -> tuple:
    return as_tuple(source.down_revision)


def by_revision(sources: list) -> dict:
    """revision id -> every file declaring it, in the order given."""
    found: dict = {}
    for source in sources:
        if source.revision:
            found.setdefault(source.revision, []).append(source)
    return found


def known(sources: list) -> dict:
    """revision id -> the first file declaring it."""
    return {revision: holders[0] for revision, holders in by_revision(sources).items()}


def declared(sources: list) -> dict:
    """revision id -> Declared (down revisions, depends_on, branch labels), for revision_graph."""
    return {revision: Declared(downs(source), as_tuple(source.constants.get("depends_on")),
                               as_tuple(source.constants.get("branch_labels")))
            for revision, source in known(sources).items()}
