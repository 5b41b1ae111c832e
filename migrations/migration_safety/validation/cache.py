"""What the rules said about each revision file, kept between runs by the file's content hash, so
that an unchanged file is neither parsed (Python ast, PostgreSQL's parser) nor checked again:
most of a validate's time on a large chain, and ``upgrade`` validates every pending file again.

What is kept is what the rules return, before the project's settings are applied (disabled rules,
severities, accepted findings, the direction); those are applied on every run, so changing them
needs no invalidation. The settings rules read, ``postgres_version``, the transaction mode
env.py runs in and the wrapper's ``lock_timeout``, are part of each key (a file that uses column types
of the project's own modules, found under ``module_paths`` or not, is never kept: they can change
while it does not), and
the validator itself is: the size and modification time of every module of this package and
pglast's version. Files that could not be read (empty, binary, a syntax error) are not kept. Like
the other caches (cache_files.py) it is best effort: an unwritable home only means the next run
checks everything again."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import pglast

from ..base.cache_files import read_cache, write_cache
from .source import RevisionSource

_CACHE = "validation_findings.json"
_KEPT_FILES = 20000
_GRAPH_CONSTANTS = ("depends_on", "branch_labels")


def _validator_fingerprint() -> str:
    digest = hashlib.sha256(f"pglast {pglast.__version__}".encode())
    package = Path(__file__).parent
    for module in sorted(package.rglob("*.py")):
        status = module.stat()
        digest.update(f"{module.relative_to(package)} {status.st_size} {status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _tuples(value):
    """JSON gives lists back; keys, revisions and constants are tuples."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


class FindingsCache:
    def __init__(self, postgres_major: int, transaction_mode: str = "single", lock_timeout: str = "5s") -> None:
        self._postgres_major = postgres_major
        self._transaction_mode = transaction_mode
        self._lock_timeout = lock_timeout
        self._validator = _validator_fingerprint()
        stored = read_cache(_CACHE)
        self._stored = stored.get("files", {}) if stored.get("validator") == self._validator else {}
        self._used: dict = {}
        self._changed = False

    def _key(self, data: bytes) -> str:
        return (f"{hashlib.sha256(data).hexdigest()} pg{self._postgres_major} {self._transaction_mode} "
                f"lock_timeout={self._lock_timeout}")

    def lookup(self, path: Path, data: bytes) -> Optional[tuple]:
        """(the revision as the graph rules read it, the rules' results) for an unchanged file."""
        key = self._key(data)
        entry = self._stored.get(key)
        if entry is None:
            return None
        self._used[key] = entry
        return replay(path, data, entry)

    def keep(self, data: bytes, entry: dict) -> None:
        """Remember ``entry`` (made by ``entry_of``) for the file whose content is ``data``."""
        self._changed = True
        self._used[self._key(data)] = entry

    def save(self) -> None:
        if not self._changed:
            return
        files = dict(self._used)
        for key, entry in self._stored.items():
            if len(files) >= _KEPT_FILES:
                break
            files.setdefault(key, entry)
        write_cache(_CACHE, {"validator": self._validator, "files": files})


def entry_of(source: RevisionSource, results: list) -> dict:
    """What is kept of a checked file: its place in the graph and the rules' results (plain data)."""
    return {"revision": source.revision, "down_revision": source.down_revision, "assigned": sorted(source.assigned),
            "constants": {name: source.constants[name] for name in _GRAPH_CONSTANTS if name in source.constants},
            "results": results}


def replay(path: Path, data: bytes, entry: dict) -> tuple:
    """(the revision as the graph rules read it, the rules' results) from a kept entry."""
    source = RevisionSource(path, data.decode("utf-8"), None, revision=entry["revision"],
                            down_revision=_tuples(entry["down_revision"]), assigned=set(entry["assigned"]),
                            constants=_tuples(entry["constants"]))
    return source, [_tuples(result) for result in entry["results"]]
