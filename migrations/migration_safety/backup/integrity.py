"""The sidecar MAC: proof that a backup was written by someone holding the backup key.

The sidecar records the archive's SHA-256 and size, so an HMAC-SHA-256 over the sidecar's
canonical content covers the archive too. Someone who can only write the backup directory can
recompute a SHA-256, not the MAC: the key lives outside that directory, in
``MIGRATION_BACKUP_KEY`` (a secret) or in a key file created on first use with mode 0600
(``MIGRATION_BACKUP_KEY_FILE``, default ``$XDG_CONFIG_HOME/migration_safety/backup.key``).
Moving backups to another machine means sharing that key (README "Security").
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

from ..base.errors import ConfigurationError

KEY_VARIABLE = "MIGRATION_BACKUP_KEY"
KEY_FILE_VARIABLE = "MIGRATION_BACKUP_KEY_FILE"
MAC_FIELD = "mac"
# Fields left out of the MAC: the MAC itself, and the archive's path, which changes with the
# directory (read_sidecar puts in where the archive is now).
UNSIGNED_FIELDS = (MAC_FIELD, "file")
MAC_PREFIX = "hmac-sha256:"


def key_file_path() -> Path:
    configured = os.environ.get(KEY_FILE_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "migration_safety" / "backup.key"


def load_key(*, create: bool) -> Optional[bytes]:
    """The backup key; with ``create`` a new key file is made when there is none. None when there
    is no key and none may be created (nothing signed with it can then be verified)."""
    secret = os.environ.get(KEY_VARIABLE)
    if secret:
        return secret.encode()
    path = key_file_path()
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        if not create:
            return None
    return _create_key_file(path)


def _read_key_file(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigurationError(
                f"backup key file {path} must be a regular file of your own, readable only by you "
                f"(chmod 600 {path}); anyone who can read or replace it can forge backups")
        key = os.read(descriptor, 4096).strip()
    finally:
        os.close(descriptor)
    if len(key) < 16:
        raise ConfigurationError(f"backup key file {path} holds no usable key (at least 16 characters)")
    return key


def _create_key_file(path: Path) -> bytes:
    key = secrets.token_hex(32).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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


def verify_sidecar_mac(info, key: Optional[bytes] = None) -> MacCheck:
    """Check a BackupInfo's MAC against the backup key (loaded when not given)."""
    fields = asdict(info)
    recorded = fields.get(MAC_FIELD) or ""
    if not recorded:
        return MacCheck("missing", "the sidecar carries no MAC (unsigned, or written by an older version)")
    key = key if key is not None else load_key(create=False)
    if key is None:
        return MacCheck("no-key", f"no backup key here ({KEY_VARIABLE} unset, no {key_file_path()}): "
                                  "cannot prove who wrote it")
    if hmac.compare_digest(recorded, compute_mac(fields, key)):
        return MacCheck("valid", "signed with this machine's backup key")
    return MacCheck("invalid", "the MAC does not match: the sidecar was forged or changed, "
                               "or signed with another key")
