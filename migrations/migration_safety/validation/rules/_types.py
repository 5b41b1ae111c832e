"""Column types, from an ``sa.Column(...)`` type expression or a SQL column definition, reduced
to the families the style rules care about."""
from __future__ import annotations

import ast
import re


def _keyword_true(call, name: str) -> bool:
    return isinstance(call, ast.Call) and any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value for k in call.keywords)


def column_type(op) -> str:
    if op.via == "sql":
        sql = op.get("sql_type", "")
        if re.match(r"JSON\b", sql):
            return "json"
        if re.match(r"TIMESTAMP\b(\s*\(\d+\))?(?!\s*(\(\d+\)\s*)?WITH TIME ZONE)", sql) and not sql.startswith("TIMESTAMPTZ"):
            return "timestamp"
        if re.match(r"(VARCHAR|CHARACTER VARYING)\s*\(", sql):
            return "varchar"
        if re.match(r"(SMALL|BIG)?SERIAL\b", sql):
            return "serial"
        if re.match(r"(INT|INTEGER|INT4|SMALLINT|INT2)\b", sql):
            return "int"
        return ""
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
    return op.via == "sql" and op.get("sql_type", "").startswith("BIGSERIAL")
