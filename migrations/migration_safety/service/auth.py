"""Who may call the service: bearer tokens with a read or a write scope.

Tokens come from the environment (``MIGRATION_API_TOKEN``: read, ``MIGRATION_API_ADMIN_TOKEN``:
write) and/or a tokens file (``MIGRATION_API_TOKENS_FILE``) naming each token with its scope and
its SHA-256, so the file holds no token itself:

    {"deploy-bot": {"scope": "write", "sha256": "<64 hex digits>"},
     "grafana":    {"scope": "read",  "sha256": "<64 hex digits>"}}

Only hashes are kept in memory; a presented token is hashed and compared with every known hash
in constant time. Tokens must be random (``python -c 'import secrets; print(secrets.token_urlsafe(32))'``):
an unsalted hash is enough for a random secret, not for a password a person chose.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from ..base.errors import ConfigurationError

READ, WRITE = "read", "write"
TOKEN_VARIABLES = {"MIGRATION_API_TOKEN": ("api-token", READ), "MIGRATION_API_ADMIN_TOKEN": ("admin-token", WRITE)}
TOKENS_FILE_VARIABLE = "MIGRATION_API_TOKENS_FILE"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """An authenticated token: its name (shown, recorded) and scope; never the token."""
    name: str
    scope: str

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE


class TokenStore:
    def __init__(self, entries: Mapping[str, tuple[str, str]]):
        self._entries = dict(entries)           # name -> (scope, sha256 hex)

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> "TokenStore":
        environ = os.environ if environ is None else environ
        entries = {}
        for variable, (name, scope) in TOKEN_VARIABLES.items():
            token = environ.get(variable, "").strip()
            if token:
                entries[name] = (scope, token_hash(token))
        if environ.get(TOKENS_FILE_VARIABLE):
            entries.update(_read_tokens_file(Path(environ[TOKENS_FILE_VARIABLE])))
        if not entries:
            raise ConfigurationError("the service needs at least one API token: set MIGRATION_API_TOKEN (read), "
                                     "MIGRATION_API_ADMIN_TOKEN (write) or MIGRATION_API_TOKENS_FILE")
        return cls(entries)

    @property
    def writable(self) -> bool:
        """Write endpoints exist only when some token may use them."""
        return any(scope == WRITE for scope, _ in self._entries.values())

    def authenticate(self, authorization: Optional[str]) -> Optional[Caller]:
        """The caller an ``Authorization: Bearer ...`` header names, or None. Every known hash is
        compared (in constant time), so the time taken does not tell which name was close."""
        if not authorization:
            return None
        kind, _, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return None
        presented = token_hash(token.strip())
        found = None
        for name, (scope, digest) in self._entries.items():
            if hmac.compare_digest(presented, digest):
                found = Caller(name, scope)
        return found


def _read_tokens_file(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the tokens file {path}: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected an object mapping token names to {{scope, sha256}}")
    entries = {}
    for name, entry in data.items():
        scope = entry.get("scope") if isinstance(entry, dict) else None
        digest = str(entry.get("sha256", "")).lower() if isinstance(entry, dict) else ""
        if scope not in (READ, WRITE) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigurationError(f"{path}: token {name!r} needs \"scope\": \"read\" or \"write\" and "
                                     "\"sha256\": 64 hex digits (serve --hash-token prints one)")
        entries[str(name)] = (scope, digest)
    return entries
