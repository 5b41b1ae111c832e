"""Whether ``alter_column(existing_type=A, type_=B)`` rewrites the table on PostgreSQL.

SQLAlchemy type expressions are reduced to the PostgreSQL type they render (``Float()`` and
``Float(53)`` are both double precision; ``String()`` without a length is unbounded varchar,
stored like text). PostgreSQL changes a type without a rewrite when the old one is binary
coercible to the new and the new one's modifier accepts every old value: varchar(n) to
varchar(m >= n) or text, numeric(p, s) to numeric(q >= p, s) or unconstrained numeric."""
from __future__ import annotations

import ast
from typing import Callable, Optional

_FAMILIES = {
    "text": ("Text", "TEXT", "UnicodeText", "CLOB"),
    "varchar": ("String", "VARCHAR", "Unicode", "NVARCHAR", "CHARACTER_VARYING"),
    "char": ("CHAR", "NCHAR"),
    "float": ("Float", "FLOAT"),
    "float8": ("DOUBLE_PRECISION", "Double", "DOUBLE"),
    "float4": ("REAL",),
    "numeric": ("Numeric", "NUMERIC", "DECIMAL"),
    "int4": ("Integer", "INTEGER", "INT"),
    "int8": ("BigInteger", "BIGINT"),
    "int2": ("SmallInteger", "SMALLINT"),
    "bool": ("Boolean", "BOOLEAN"),
    "timestamp": ("DateTime", "TIMESTAMP"),
    "date": ("Date", "DATE"),
    "time": ("Time", "TIME"),
    "interval": ("Interval", "INTERVAL"),
    "json": ("JSON",),
    "jsonb": ("JSONB",),
    "uuid": ("UUID", "Uuid"),
    "bytea": ("LargeBinary", "BYTEA", "BLOB", "BINARY", "VARBINARY"),
    "enum": ("Enum", "ENUM"),
}
_BY_NAME = {name: family for family, names in _FAMILIES.items() for name in names}


def _name(node) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _argument(call, position: int, keyword: str):
    if not isinstance(call, ast.Call):
        return None
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[position] if len(call.args) > position else None


def _postgresql_type(node):
    """``T.with_variant(V, "mysql")`` is T on PostgreSQL; ``with_variant(V, "postgresql")`` is V."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_variant":
        dialect = node.args[1] if len(node.args) > 1 else None
        if isinstance(dialect, ast.Constant) and dialect.value == "postgresql" and node.args:
            return node.args[0]
        node = node.func.value
    return node


def type_key(node, value: Callable) -> Optional[tuple]:
    """The PostgreSQL type a SQLAlchemy type expression renders, as a comparable tuple; None if unknown."""
    node = _postgresql_type(node)
    family = _BY_NAME.get(_name(node))
    if family is None:
        return None

    def number(position, keyword):
        argument = _argument(node, position, keyword)
        if argument is None:
            return None
        result = value(argument)
        return result if isinstance(result, int) else "?"

    if family == "varchar":
        length = number(0, "length")
        return ("text",) if length is None else ("varchar", length)
    if family == "char":
        return ("char", number(0, "length") or 1)
    if family == "float":
        precision = number(0, "precision")
        if precision == "?":
            return None
        return ("float4",) if precision is not None and precision <= 24 else ("float8",)
    if family == "numeric":
        return ("numeric", number(0, "precision"), number(1, "scale"))
    if family == "timestamp":
        timezone = _argument(node, 0, "timezone")
        return ("timestamptz",) if isinstance(timezone, ast.Constant) and timezone.value else ("timestamp",)
    if family == "enum":
        native = _argument(node, 99, "native_enum")
        if isinstance(native, ast.Constant) and native.value is False:
            check = _argument(node, 99, "create_constraint")
            return ("nonnative_enum", isinstance(check, ast.Constant) and bool(check.value))
        name = _argument(node, 99, "name")
        return ("enum", name.value if isinstance(name, ast.Constant) else "?")
    return (family,)


def compare_types(existing, new, value: Callable) -> tuple[str, str]:
    """(verdict, "old -> new") where verdict is same, coercible, check (a CHECK constraint is added:
    a scan), rewrite, unknown, or no_existing_type."""
    new_key = type_key(new, value)
    described = ast.unparse(new)
    if existing is None:
        return "no_existing_type", f"to {described}"
    old_key = type_key(existing, value)
    described = f"{ast.unparse(existing)} -> {described}"
    if old_key is None or new_key is None:
        same = ast.unparse(_postgresql_type(existing)) == ast.unparse(_postgresql_type(new))
        return ("same" if same else "unknown"), described
    return compare_keys(old_key, new_key), described


def compare_keys(old_key: tuple, new_key: tuple) -> str:
    """The verdict for two known types (see compare_types)."""
    if new_key[0] == "nonnative_enum":
        return "check" if new_key[1] else "coercible"
    if old_key == new_key and "?" not in old_key:
        return "same"
    if old_key[0] in ("varchar", "text", "nonnative_enum") and new_key == ("text",):
        return "coercible"
    if old_key[0] == "varchar" and new_key[0] == "varchar":
        if "?" in (old_key[1], new_key[1]):
            return "unknown"
        return "coercible" if new_key[1] >= old_key[1] else "rewrite"
    if old_key[0] == "numeric" and new_key[0] == "numeric":
        if new_key[1:] == (None, None):
            return "coercible"
        if "?" in old_key + new_key:
            return "unknown"
        same_scale = (old_key[2] or 0) == (new_key[2] or 0)
        wider = old_key[1] is not None and new_key[1] >= old_key[1]
        return "coercible" if same_scale and wider else "rewrite"
    if old_key[0] == "enum" and new_key[0] == "enum" and old_key[1] == new_key[1] != "?":
        return "same"            # the same PostgreSQL type; values are added with ALTER TYPE
    return "rewrite"


_SQL_TYPES = {"text": "text", "double precision": "float8", "float8": "float8", "float": "float8",
              "real": "float4", "float4": "float4", "integer": "int4", "int": "int4", "int4": "int4",
              "bigint": "int8", "int8": "int8", "smallint": "int2", "int2": "int2", "boolean": "bool",
              "bool": "bool", "timestamp without time zone": "timestamp", "timestamp": "timestamp",
              "timestamp with time zone": "timestamptz", "timestamptz": "timestamptz", "date": "date",
              "json": "json", "jsonb": "jsonb", "uuid": "uuid", "bytea": "bytea", "interval": "interval"}


def sql_type_key(text: str) -> Optional[tuple]:
    """The same key for a type written in SQL or reported by the catalog (format_type):
    ``character varying(255)``, ``numeric(10,2)``, ``double precision``."""
    import re

    text = " ".join(text.lower().split())
    match = re.match(r"(character varying|varchar)\s*(?:\((\d+)\))?$", text)
    if match:
        return ("varchar", int(match.group(2))) if match.group(2) else ("text",)
    match = re.match(r"(numeric|decimal)\s*(?:\((\d+)\s*(?:,\s*(\d+))?\))?$", text)
    if match:
        precision = int(match.group(2)) if match.group(2) else None
        scale = int(match.group(3)) if match.group(3) else (0 if precision is not None else None)
        return ("numeric", precision, scale)
    family = _SQL_TYPES.get(text)
    return (family,) if family else None
