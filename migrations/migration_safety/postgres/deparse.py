"""One form for the expressions PostgreSQL prints differently once pg_dump's text of them has been
read back by a restore.

``status IN ('a', 'b')`` on a varchar column (what SQLAlchemy's ``Enum(native_enum=False)`` and
many hand-written CHECKs make) is stored as a text comparison; the server prints it

    ((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))

and the restore, parsing that text, stores a different tree that prints as

    ((status)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text]))

The same constraint (or partial index predicate), other text: a restore verified by comparing the
text of definitions would call a right restore wrong. Both spellings are brought to one,
``ANY (ARRAY['a'::character varying, 'b'::character varying])``, by the same two substitutions, in
Python for pg_dump's text (``canonical``) and in SQL for ``pg_get_constraintdef`` and
``pg_get_indexdef`` (``canonical_sql``)."""
from __future__ import annotations

import re

from .tools import quote_literal

# ('a'::character varying)::text -> 'a'::character varying  (a literal, its type, cast to text)
_ELEMENT = r"\(((?:'[^']*')+::[a-z ]+(?:\(\d+\))?)\)::text"
# ANY ((ARRAY[...])::text[]) -> ANY (ARRAY[...])  (the array cast to text[] as a whole)
_ARRAY = r"ANY \(\(ARRAY\[(.*?)\]\)::text\[\]\)"

_ELEMENT_RE = re.compile(_ELEMENT)
_ARRAY_RE = re.compile(_ARRAY)


def canonical(text: str) -> str:
    """``text`` (a line of pg_dump, a definition) with both spellings brought to one."""
    if "::text" not in text:
        return text
    return _ARRAY_RE.sub(r"ANY (ARRAY[\1])", _ELEMENT_RE.sub(r"\1", text))


def canonical_sql(expression: str) -> str:
    """SQL for ``canonical`` of the text ``expression`` yields (PostgreSQL's regular expressions:
    the array's pattern has its one quantifier non-greedy, so the whole match is)."""
    return (f"pg_catalog.regexp_replace(pg_catalog.regexp_replace({expression}, {quote_literal(_ELEMENT)}, '\\1', 'g'), "
            f"{quote_literal(_ARRAY)}, 'ANY (ARRAY[\\1])', 'g')")
