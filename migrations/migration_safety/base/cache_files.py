"""The wrapper's small caches (tool versions, revision chains): JSON files in the user's cache
directory, read and written best effort — a read-only home (a container) only means the next
run works the answer out again.

A cache answers questions the wrapper acts on (which pg_dump is which version), so it is private:
the folder is created 0700 and its files 0600 whatever the umask; a folder that is a link, is not
ours or that others can write is not used at all (one warning, nothing read, nothing written); a
file is opened through the folder's descriptor without following a link, and written under a
fresh name (O_EXCL) then renamed, so a link planted in its place is never written through.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Optional

_warned: set = set()


def cache_path(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migration_safety" / name


def private_directory(path: Path, *, create: bool = True) -> Optional[int]:
    """A descriptor of ``path``, a folder of our own that nobody else can write (missing folders
    created 0700), or None with one warning when it is not (the caller then does without)."""
    if create:
        try:
            make_private_directories(path)
        except OSError:
            return None
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    problem = untrusted_because(os.fstat(descriptor))
    if problem is None:
        return descriptor
    os.close(descriptor)
    if str(path) not in _warned:
        _warned.add(str(path))
        sys.stderr.write(f"warning: not using {path}: it {problem}; remove it or chmod 700 it\n")
    return None


def untrusted_because(info: os.stat_result) -> Optional[str]:
    """Why a folder or file with this stat must not be trusted, or None."""
    if info.st_uid != os.geteuid():
        return "belongs to another user"
    if info.st_mode & 0o022:
        return "can be written by other users"
    return None


def make_private_directories(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (not what the umask leaves)."""
    missing = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700, follow_symlinks=False)


def read_cache(name: str) -> dict:
    target = cache_path(name)
    folder = private_directory(target.parent, create=False)
    if folder is None:
        return {}
    try:
        descriptor = os.open(target.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or untrusted_because(info):
                return {}
            data = json.loads(handle.read())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
    finally:
        os.close(folder)


def write_cache(name: str, data: dict) -> None:
    """Written aside under a fresh name and renamed, so a reader never sees half a file."""
    target = cache_path(name)
    folder = private_directory(target.parent)
    if folder is None:
        return
    temporary = f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o600, dir_fd=folder)
        try:
            os.fchmod(descriptor, 0o600)
            view = memoryview(json.dumps(data).encode())
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        os.replace(temporary, target.name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=folder)
        except OSError:
            pass
    finally:
        os.close(folder)
