"""The revision chain of an Alembic project as Alembic last loaded it, kept between runs, so that
``status``, ``current`` and ``health`` answer without importing Alembic and every revision file
(most of their time: about 0.8 s of 1.2 s on the example project).

It is used only when it cannot differ from what Alembic would load now. The key covers the
installed Alembic, the working directory (a relative ``script_location`` is relative to it), the
project's alembic.ini and every file under its ``script_location`` (path, size, modification
time; ``__pycache__`` aside), so a new, removed or edited revision misses the cache. Only plain
projects are kept: an alembic.ini (no ``[tool.alembic]``), revisions only under
``script_location`` (no ``version_locations``, no ``sourceless``), in one straight line (no
merges, branch labels or ``depends_on``). Everything else, and any doubt, asks Alembic. What a
revision file imports from elsewhere is not in the key: a broken import there shows in
``upgrade`` and ``validate``, and in ``status`` only after a revision file changes.
"""
from __future__ import annotations

import configparser
import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from ..base.cache_files import read_cache, write_cache

_FORMAT = 1
_KEPT_PROJECTS = 20
_CACHE = "revision_chains.json"


def _script_location(ini_path: Path) -> Optional[Path]:
    """The directory Alembic loads the revisions from, when the project is a plain one."""
    from ..config.discovery import has_tool_alembic

    if ini_path.suffix == ".toml" or has_tool_alembic(ini_path.parent / "pyproject.toml"):
        return None
    parser = configparser.ConfigParser(defaults={"here": str(ini_path.parent.resolve())})
    try:
        parser.read(ini_path)
        section = parser["alembic"]
        location = section.get("script_location")
        if not location or any(section.get(option) for option in
                               ("version_locations", "recursive_version_locations", "sourceless")):
            return None
    except (configparser.Error, KeyError, OSError):
        return None
    if ":" in location and not os.path.isabs(location):          # package:resource
        return None
    return Path(os.path.abspath(location))


def _key(ini_path: Path, location: Path) -> Optional[str]:
    from importlib.util import find_spec

    digest = hashlib.sha256(json.dumps([_FORMAT, os.getcwd(), str(location)]).encode())
    try:
        # Alembic's __init__.py carries its version: another Alembic is another key (without
        # importlib.metadata, which costs 40 ms)
        files = [Path(find_spec("alembic").origin), ini_path.resolve()]
        for directory, subdirectories, names in os.walk(location):
            subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
            files += [Path(directory) / name for name in sorted(names)]
        for path in files:
            status = os.stat(path)
            digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    except OSError:
        return None
    return digest.hexdigest()


def cached_chain(ini_path: Path) -> Optional[list]:
    """The project's revisions base first, each ``[revision, down_revision, doc, path]``, when the
    cache holds them for exactly the files there are now; otherwise None."""
    location = _script_location(Path(ini_path))
    key = location and _key(Path(ini_path), location)
    chain = read_cache(_CACHE).get(key) if key else None
    return chain if isinstance(chain, list) else None


def remember_chain(ini_path: Path, script) -> None:
    """Keep the chain of Alembic's loaded ScriptDirectory ``script`` if the project is a plain
    one (best effort: an unwritable cache only means the next run loads Alembic again)."""
    location = _script_location(Path(ini_path))
    revisions = list(script.walk_revisions())[::-1]              # base first
    if location is None or not _is_straight_line(revisions):
        return
    key = _key(Path(ini_path), location)
    if key is None:
        return
    cache = read_cache(_CACHE)
    cache.pop(key, None)
    cache[key] = [[rev.revision, rev.down_revision, rev.doc or "", rev.path] for rev in revisions]
    cache = dict(list(cache.items())[-_KEPT_PROJECTS:])
    write_cache(_CACHE, cache)


def _is_straight_line(revisions: list) -> bool:
    previous = None
    for rev in revisions:
        if rev.branch_labels or rev.dependencies or rev.down_revision != previous:
            return False
        if not isinstance(rev.revision, str):
            return False
        previous = rev.revision
    return bool(revisions)


def upgrade_steps(chain: list, current: tuple) -> Optional[list]:
    """The ``[revision, down_revision, doc, path]`` an upgrade to the head would run from
    ``current``; None when that needs Alembic's answer (several or unknown current revisions)."""
    if not current:
        return list(chain)
    if len(current) > 1:
        return None
    ids = [entry[0] for entry in chain]
    if current[0] not in ids:
        return None
    return chain[ids.index(current[0]) + 1:]
