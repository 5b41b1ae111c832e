"""Keeping the database password out of everything the wrapper shows or stores.

A password reaches text in more forms than the one the user typed: URL-quoted inside a
SQLAlchemy URL (``s3cr%40t``), with every ``%`` doubled for ConfigParser (``s3cr%%40t``, what
alembic.ini and Alembic's Config hold), quoted the way ``DATABASE_URL`` spelled it, escaped
inside a ``repr`` or a JSON string. An env.py or a revision that puts the URL into an exception
message hands any of these forms to us. ``mask`` replaces every form of every known password
with ``***``; it is applied where text leaves the wrapper: the CLI's output (render.Output), the
error of a run result and the run record.

The passwords are the one the settings resolved (``register``) and, so that an error raised
before the settings are read is masked too, those in ``POSTGRES_PASSWORD``, ``PGPASSWORD`` and
``DATABASE_URL``; ``MIGRATION_API_TOKEN`` is masked the same way.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Optional
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
# Variables whose value is a secret to mask wherever it appears: the passwords, and the API token a
# deployment may hand the wrapper's environment (so a revision or env.py that quotes it leaks nothing).
SECRET_VARIABLES = ("POSTGRES_PASSWORD", "PGPASSWORD", "MIGRATION_API_TOKEN")

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
    spellings |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), s) for s in spellings}   # %2f as well as %2F
    spellings |= {s.replace("%", "%%") for s in spellings}                                         # ConfigParser-escaped
    return {s for s in spellings if s}


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
    """``mask`` applied to every string inside a JSON-like structure (dict keys included)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask_data(key): mask_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(item) for item in value]
    return value


# Terminal control sequences (CSI such as ESC[2J, OSC such as ESC]0;title BEL, other ESC pairs) and
# the remaining C0/C1 control characters but newline and tab: a revision message or a string read
# from the database must not be able to clear the screen, retitle the terminal or hide text.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[ -~]?")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def displayable(text) -> str:
    """``text`` as it may be printed: control characters removed, then the password masked in every
    form (in that order, so a control sequence cannot split a password to slip it through)."""
    return mask(_CONTROL_CHARACTER.sub("", _ESCAPE_SEQUENCE.sub("", str(text))))
