"""What the graph rules share: the revisions by id and their down_revision edges (pure: made-up
revisions test it)."""
from __future__ import annotations


def downs(source) -> tuple:
    value = source.down_revision
    if value is None or value == "<missing>":
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


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
