"""The wrapper's small caches (tool versions, revision chains): JSON files in the user's cache
directory, read and written best effort — a read-only home (a container) only means the next
run works the answer out again."""
from __future__ import annotations

import json
import os
from pathlib import Path


def cache_path(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migration_safety" / name


def read_cache(name: str) -> dict:
    try:
        data = json.loads(cache_path(name).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_cache(name: str, data: dict) -> None:
    """Written aside and renamed, so a reader never sees half a file."""
    target = cache_path(name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data))
        os.replace(temporary, target)
    except OSError:
        pass
