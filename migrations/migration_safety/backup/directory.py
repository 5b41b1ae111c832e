"""The backup directory as a trust boundary.

Restoring a backup runs the SQL its archive holds, so whoever can write the backup directory
can run SQL as the configured role. The directory must therefore be private to the user who
runs the tool (created 0700, never group- or world-writable, owned by this user, not reached
through someone else's symlink), unless the operator knowingly accepts a shared one
(``MIGRATION_BACKUP_DIR_SHARED``); then the sidecar MAC (backup_integrity) is what protects it.

Every file the tool creates there is made with ``O_CREAT|O_EXCL|O_NOFOLLOW`` under a random
name, so a link planted by another user can never redirect a write elsewhere.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ..base.cache_files import make_private_directories
from ..base.errors import ConfigurationError, PreflightError

SHARED_SETTING = "MIGRATION_BACKUP_DIR_SHARED=on (or backup_dir_shared = on in [migration_safety])"
PRIVATE_FILE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UntrustedBackupDirectory(ConfigurationError):
    """The backup directory could be written by someone else: refused before anything is done."""


def prepare_backup_directory(path: Path, *, allow_shared: bool = False) -> None:
    """Create the directory if needed (mode 0700), then refuse it unless it is private (see
    ``check_backup_directory``)."""
    make_private_directories(path)
    check_backup_directory(path, allow_shared=allow_shared)


def check_backup_directory(path: Path, *, allow_shared: bool = False) -> None:
    """Refuse (exit 2, the fix in the message) a backup directory another user could write:
    group/world-writable, owned by another user, or reached through a symlink another user owns.
    ``allow_shared`` accepts such a directory knowingly."""
    if allow_shared:
        return
    me = os.geteuid()
    foreign_link = _foreign_symlink_on_the_way(path, me)
    if foreign_link is not None:
        link, owner = foreign_link
        raise UntrustedBackupDirectory(
            f"backup directory {path} is reached through the symlink {link}, owned by {_user_name(owner)}, who "
            f"could point it anywhere; use the real path or replace the link, or set {SHARED_SETTING}")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UntrustedBackupDirectory(f"backup directory {path} is not usable: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UntrustedBackupDirectory(f"backup directory {path} is not a directory")
    if info.st_uid != me:
        raise UntrustedBackupDirectory(
            f"backup directory {path} is owned by {_user_name(info.st_uid)}, not by {_user_name(me)} who runs "
            f"this: whoever owns it can plant a backup that a restore would run; use a directory of your own "
            f"(chown {_user_name(me)} {path}; chmod 700 {path}) or set {SHARED_SETTING}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UntrustedBackupDirectory(
            f"backup directory {path} is writable by others (mode {stat.S_IMODE(info.st_mode):03o}): anyone who can "
            f"write it can plant a backup that a restore would run; fix it with: chmod 700 {path} "
            f"(or set {SHARED_SETTING} to accept it knowingly)")


def _foreign_symlink_on_the_way(path: Path, me: int):
    """The first symlink on the way to ``path`` owned by neither this user nor root, with its owner."""
    current = Path(path.anchor)
    for part in Path(os.path.abspath(path)).parts[1:]:
        current = current / part
        try:
            info = os.lstat(current)
        except OSError:
            return None
        if stat.S_ISLNK(info.st_mode):
            if info.st_uid not in (me, 0):
                return current, info.st_uid
            current = Path(os.path.realpath(current))
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def create_private_file(directory: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new file only this user can read, under a random name, opened for writing; never follows
    a link and never opens a file that already exists (what a planted link would need)."""
    for _ in range(100):
        candidate = directory / f"{prefix}{secrets.token_hex(8)}{suffix}"
        try:
            return os.open(candidate, os.O_RDWR | PRIVATE_FILE_FLAGS, 0o600), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def owned_regular_file(path: Path) -> bool:
    """A regular file (not a link) owned by this user: the only kind of catalog file trusted."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def is_inside(directory: Path, path: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(directory))
        return True
    except ValueError:
        return False


def ensure_directory_writable(path: Path, *, allow_shared: bool = False) -> None:
    """The backup directory exists (created 0700), is private unless ``allow_shared`` (see
    prepare_backup_directory), and a file can be created in it. The probe is a fresh random name made
    with O_EXCL|O_NOFOLLOW: a link planted in the directory cannot make it truncate anything."""
    try:
        prepare_backup_directory(path, allow_shared=allow_shared)
        descriptor, probe = create_private_file(path, ".write_probe_", "")
        os.close(descriptor)
        probe.unlink()
    except OSError as exc:
        raise PreflightError(f"backup directory {path} is not writable: {exc.strerror or exc}") from None


def replace_privately(target: Path, data: bytes) -> None:
    """``target`` now holds ``data``: written to a private temporary file beside it, synced, and
    renamed over it (a rename replaces a planted link; it never writes through one)."""
    descriptor, temporary = create_private_file(target.parent, f".{target.stem}.", ".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            temporary.unlink()
