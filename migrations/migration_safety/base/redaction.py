"""Keeping every secret the wrapper knows out of everything it shows or stores.

The secrets are the database password, the backup key and the service's API tokens. A secret
reaches text in more forms than the one the user typed: URL-quoted inside a SQLAlchemy URL
(``s3cr%40t``), quoted twice (a URL inside a URL parameter), with every ``%`` doubled for
ConfigParser (``s3cr%%40t``, what alembic.ini and Alembic's Config hold), escaped inside a
``repr`` or a JSON string, base64-encoded (alone, or inside an ``Authorization: Basic`` value
with a user name before it, at any of base64's three alignments) or hex-encoded. An env.py or a
revision that puts any of these into an exception message or prints it hands it to us. ``mask``
replaces every form of every known secret with ``***``; it is applied where text leaves the
wrapper: the CLI's output (render.Output), the JSON documents, the log file, the error of a run
result and the run record, and every response of the service.

The secrets are those registered (``register``: the password the settings resolved, a backup key
read from its file, the service's tokens) and, so that an error raised before the settings are
read is masked too, the values of SECRET_VARIABLES and the password inside ``DATABASE_URL``.
"""
from __future__ import annotations

import base64
import json
import os
import re
from functools import lru_cache
from typing import Optional
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
# Variables whose value is a secret to mask wherever it appears (and that no child process gets:
# config.settings.tool_environment).
SECRET_VARIABLES = ("POSTGRES_PASSWORD", "PGPASSWORD", "MIGRATION_API_TOKEN", "MIGRATION_API_ADMIN_TOKEN",
                    "MIGRATION_BACKUP_KEY")
# Encoded forms (base64 fragments, hex) of a secret shorter than this would match ordinary text.
_MIN_ENCODED_LENGTH = 8

_registered: set = set()


def register(password: Optional[str]) -> None:
    """Remember a password to mask from now on (the one the settings resolved)."""
    if password:
        _registered.add(password)


def register_url(url: Optional[str]) -> None:
    """Remember a URL's password, both as written in it and decoded."""
    password = _url_password(url)
    if password:
        register(password)
        register(unquote(password))


def _url_password(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    try:
        return urlsplit(url.strip()).password
    except ValueError:
        return None


def _known_passwords() -> frozenset:
    known = set(_registered)
    for variable in SECRET_VARIABLES:
        if os.environ.get(variable):
            known.add(os.environ[variable])
    in_url = _url_password(os.environ.get("DATABASE_URL"))
    if in_url:
        known.update((in_url, unquote(in_url)))
    return frozenset(known)


def _forms(password: str) -> set:
    """Every spelling of ``password`` that may appear in a message, URL, config value or repr."""
    spellings = {password, quote(password, safe=""), quote(password), quote_plus(password),
                 password.encode("unicode_escape").decode("ascii"), json.dumps(password)[1:-1]}
    spellings |= {quote(s, safe="") for s in list(spellings)} | {quote_plus(s) for s in list(spellings)}  # twice
    spellings |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), s) for s in spellings}   # %2f as well as %2F
    spellings |= {s.replace("%", "%%") for s in spellings}                                         # ConfigParser-escaped
    if len(password) >= _MIN_ENCODED_LENGTH:
        raw = password.encode("utf-8")
        spellings |= {raw.hex(), raw.hex().upper(), *_base64_fragments(raw)}
    return {s for s in spellings if s}


def _base64_fragments(raw: bytes) -> set:
    """The base64 characters that depend on ``raw`` alone, for each of the three offsets (mod 3)
    it may start at inside a longer value (``user:secret`` in Basic auth), standard and URL-safe
    alphabets: whatever surrounds the secret, one of them is in the encoding."""
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        first = -(-8 * offset // 6)                     # the first character made of ``raw``'s bits only
        last = (8 * (offset + len(raw))) // 6           # one past the last such character
        fragment = encoded[first:last]
        fragments |= {fragment, fragment.translate(str.maketrans("+/", "-_"))}
    return fragments


@lru_cache(maxsize=8)
def _pattern(passwords: frozenset) -> Optional[re.Pattern]:
    forms = {form for password in passwords for form in _forms(password)}
    if not forms:
        return None
    # Longest first, so a form is replaced whole rather than a shorter form inside it.
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))


def mask(text):
    """``text`` with every form of every known password replaced by ``***`` (non-strings as given)."""
    if not isinstance(text, str) or not text:
        return text
    pattern = _pattern(_known_passwords())
    return pattern.sub(MASK, text) if pattern else text


def mask_data(value):
    """``mask`` applied to every string inside a JSON-like structure (dict keys included). The
    secrets are looked up once for the whole structure: a report holds thousands of strings."""
    pattern = _pattern(_known_passwords())
    return _masked(value, pattern) if pattern else value


def _masked(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(MASK, value) if value else value
    if isinstance(value, dict):
        return {_masked(key, pattern): _masked(item, pattern) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item, pattern) for item in value]
    return value


# Terminal control sequences (CSI such as ESC[2J, OSC such as ESC]0;title BEL, other ESC pairs) and
# the remaining C0/C1 control characters but newline and tab: a revision message or a string read
# from the database must not be able to clear the screen, retitle the terminal or hide text.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[ -~]?")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text) -> str:
    """``displayable`` for what must stay one line of output (a file name, a finding): a newline
    inside it is shown as ``\\n``, so a file named to look like more output cannot forge a line."""
    return displayable(text).replace("\n", "\\n")


def displayable(text) -> str:
    """``text`` as it may be printed: control characters removed, then the password masked in every
    form (in that order, so a control sequence cannot split a password to slip it through)."""
    return mask(without_control_characters(text))


def without_control_characters(text) -> str:
    """``text`` without terminal control sequences and control characters (newline and tab stay);
    what is printed must still be masked afterwards (``mask``), as ``displayable`` does."""
    text = str(text)
    if text.isprintable():       # no control character at all (ESC, C0, C1, newline): nothing to remove
        return text
    return _CONTROL_CHARACTER.sub("", _ESCAPE_SEQUENCE.sub("", text))


class MaskingStream:
    """A text stream that masks every known secret in what is written to it before passing it on
    (the process' stdout and stderr: what a revision or env.py prints goes there unfiltered).
    Text is held back to the end of a line, so a secret written in pieces is masked whole."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r")) + 1
        if cut:
            complete, self._pending = self._pending[:cut], self._pending[cut:]
            self._inner.write(mask(complete))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._inner.write(mask(pending))
        self._inner.flush()

    def __getattr__(self, name):
        return getattr(self._inner, name)
