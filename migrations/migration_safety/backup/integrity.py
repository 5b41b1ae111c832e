"""The sidecar MAC: proof that a backup was written by someone holding the backup key.

The sidecar records the archive's SHA-256 and size, so an HMAC-SHA-256 over the sidecar's
canonical content covers the archive too. Someone who can only write the backup directory can
recompute a SHA-256, not the MAC: the key lives outside that directory, in
``MIGRATION_BACKUP_KEY`` (a secret) or in a key file created on first use with mode 0600
(``MIGRATION_BACKUP_KEY_FILE``, default ``$XDG_CONFIG_HOME/migration_safety/backup.key``).
Moving backups to another machine means sharing that key (docs/security.md).

The key is handled as a key: at least 32 bytes; its file a regular file of this user readable by
no one else, in a directory of this user (or root) no one else can write, and never inside the
directory of the backups it signs (whoever can write there could read or replace it).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from ..base import redaction
from ..base.cache_files import make_private_directories
from ..base.errors import ConfigurationError
from .directory import is_inside

KEY_VARIABLE = "MIGRATION_BACKUP_KEY"
KEY_FILE_VARIABLE = "MIGRATION_BACKUP_KEY_FILE"
MAC_FIELD = "mac"
# Fields left out of the MAC: the MAC itself, and the archive's path, which changes with the
# directory (read_sidecar puts in where the archive is now).
UNSIGNED_FIELDS = (MAC_FIELD, "file")
MAC_PREFIX = "hmac-sha256:"
# HMAC-SHA-256's own block of security: a shorter key is guessable sooner than the MAC is forged.
MINIMUM_KEY_BYTES = 32


def key_file_path() -> Path:
    configured = os.environ.get(KEY_FILE_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "migration_safety" / "backup.key"


def load_key(*, create: bool, backup_dir: Optional[Path] = None) -> Optional[bytes]:
    """The backup key; with ``create`` a new key file is made when there is none (callers that may
    create one first make sure no signed backup needs the old one: catalog.signing_key). None when
    there is no key and none may be created (nothing signed with it can then be verified).
    ``backup_dir``: the directory of the backups it signs or verifies, which must not hold it."""
    secret = os.environ.get(KEY_VARIABLE)
    if secret:
        return _long_enough(secret.encode(), KEY_VARIABLE)
    path = key_file_path()
    if backup_dir is not None and is_inside(backup_dir, path):
        raise ConfigurationError(
            f"backup key file {path} is inside the backup directory {backup_dir}: whoever can write there could "
            f"read or replace it and forge backups; move it elsewhere and point {KEY_FILE_VARIABLE} at it")
    try:
        return _registered(_read_key_file(path))
    except FileNotFoundError:
        if not create:
            return None
    return _registered(_create_key_file(path))


def register_existing_key() -> None:
    """Mask the key from the start of a command, whether or not it reads the key: an earlier run's
    record or a revision may quote it. Best effort: a key that cannot be read is the business of
    the command that needs it."""
    try:
        load_key(create=False)
    except (ConfigurationError, OSError):
        pass


def _registered(key: bytes) -> bytes:
    """``key``, masked from now on wherever text leaves the wrapper (like the password)."""
    redaction.register(key.decode("utf-8", "replace"))
    return key


def _long_enough(key: bytes, where) -> bytes:
    if len(key) < MINIMUM_KEY_BYTES:
        raise ConfigurationError(
            f"the backup key in {where} is {len(key)} bytes; a key needs at least {MINIMUM_KEY_BYTES} (make one "
            "with: python3 -c 'import secrets; print(secrets.token_hex(32))')")
    return key


def _read_key_file(path: Path) -> bytes:
    _check_key_directory(path.parent)
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigurationError(
                f"backup key file {path} must be a regular file of your own, readable only by you "
                f"(owner {_user_name(info.st_uid)}, mode {stat.S_IMODE(info.st_mode):03o}; chmod 600 {path}); "
                "anyone who can read or replace it can forge backups")
        key = os.read(descriptor, 4096).strip()
    finally:
        os.close(descriptor)
    return _long_enough(key, path)


def _check_key_directory(directory: Path) -> None:
    """Whoever can write the key's directory can replace the key file with one of their own.
    Root may own it: root can replace any file anyway, so that exposes nothing more."""
    info = os.stat(directory)          # FileNotFoundError: no key yet
    if info.st_uid not in (os.geteuid(), 0):
        raise ConfigurationError(
            f"backup key directory {directory} is owned by {_user_name(info.st_uid)}, who could replace the key "
            f"and forge backups; keep the key in a directory of your own (chown {_user_name(os.geteuid())} "
            f"{directory}; chmod 700 {directory})")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigurationError(
            f"backup key directory {directory} is writable by others (mode {stat.S_IMODE(info.st_mode):03o}), who "
            f"could replace the key and forge backups; fix it with: chmod 700 {directory}")


def _user_name(uid: int) -> str:
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _create_key_file(path: Path) -> bytes:
    key = secrets.token_hex(32).encode()
    try:
        make_private_directories(path.parent)          # 0700 each, whatever the umask
        _check_key_directory(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_key_file(path)          # another run created it first: use theirs
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the backup key file {path}: {exc.strerror or exc}; set {KEY_VARIABLE} (a secret) "
            f"or {KEY_FILE_VARIABLE} to a writable place outside the backup directory") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


# Fields added after sidecars were first signed: left out while empty, so older sidecars still verify.
LATER_FIELDS = ("scope_tables", "scope_note", "scope_photograph_sha256")


def canonical_content(fields: dict) -> bytes:
    content = {k: v for k, v in fields.items() if k not in UNSIGNED_FIELDS
               and not (k in LATER_FIELDS and v in (None, ""))}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_mac(fields: dict, key: bytes) -> str:
    return MAC_PREFIX + hmac.new(key, canonical_content(fields), hashlib.sha256).hexdigest()


def sign_sidecar(fields: dict, key: bytes) -> dict:
    """The sidecar's fields with their MAC."""
    return {**fields, MAC_FIELD: compute_mac(fields, key)}


@dataclass(frozen=True)
class MacCheck:
    status: str            # valid | missing | invalid | no-key
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def verify_sidecar_mac(info, key: Optional[bytes] = None, *, backup_dir: Optional[Path] = None) -> MacCheck:
    """Check a BackupInfo's MAC against the backup key (loaded when not given; ``backup_dir`` as
    for load_key)."""
    fields = asdict(info)
    recorded = fields.get(MAC_FIELD) or ""
    if not recorded:
        return MacCheck("missing", "the sidecar carries no MAC (unsigned, or written by an older version)")
    key = key if key is not None else load_key(create=False, backup_dir=backup_dir)
    if key is None:
        return MacCheck("no-key", f"no backup key here ({KEY_VARIABLE} unset, no {key_file_path()}): "
                                  "cannot prove who wrote it")
    if hmac.compare_digest(recorded, compute_mac(fields, key)):
        return MacCheck("valid", "signed with this machine's backup key")
    return MacCheck("invalid", "the MAC does not match: the sidecar was forged or changed, "
                               "or signed with another key")
