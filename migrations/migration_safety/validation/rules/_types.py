"""Column types, from an ``sa.Column(...)`` type expression or a SQL column definition (its key
from PostgreSQL's parser, see sql.py), reduced to the families the style rules care about; and
the severity of a style finding."""
from __future__ import annotations

import ast


def _keyword_true(call, name: str) -> bool:
    return isinstance(call, ast.Call) and any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value for k in call.keywords)


_SQL_FAMILIES = {"json": "json", "timestamp": "timestamp", "varchar": "varchar", "int4": "int", "int2": "int"}


def column_type(op) -> str:
    if op.via == "sql":
        if op.get("serial"):
            return "serial"
        key = op.get("type_key") or ("",)
        if key[0] == "array":
            key = key[1]
        return _SQL_FAMILIES.get(key[0], "")
    name = op.get("type_name", "")
    call = op.get("type_call")
    if name == "JSON":
        return "json"
    if name in ("DateTime", "TIMESTAMP") and not _keyword_true(call, "timezone"):
        return "timestamp"
    if name in ("String", "VARCHAR", "Unicode") and isinstance(call, ast.Call) and (
            call.args or any(k.arg == "length" for k in call.keywords)):
        return "varchar"
    if name in ("Integer", "SmallInteger", "INTEGER", "SMALLINT"):
        return "int"
    return ""


def is_serial(op) -> bool:
    """serial in SQL, or an integer primary key without sa.Identity (SQLAlchemy emits SERIAL)."""
    if op.via == "sql":
        return column_type(op) == "serial"
    return (op.get("primary_key") and not op.get("identity")
            and op.get("type_name") in ("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT"))


def is_bigserial(op) -> bool:
    return op.via == "sql" and op.get("serial") == "bigserial"


def style_severity(op):
    """A style note about a table created in the same revision is info: the table is new, nothing
    is lost by changing its definition before it ships (the judge demotes tables created earlier
    in the same plan); on an existing table the rule keeps its own severity."""
    return "info" if op.table_created_here else None
