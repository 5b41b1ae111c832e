"""Which functions a column default may call without rewriting the table.

Since PostgreSQL 11, ADD COLUMN with a non-volatile default evaluates it once and stores the value
in the catalog; a volatile one is evaluated per row, which rewrites the table. Volatility is a
property of the function in pg_proc, which a static reader cannot see, so the judgement errs on
the side of the lock: only the built-in functions below (immutable or stable in pg_proc on every
supported version) count as safe; a user function, an extension's or any unknown name counts as
volatile until proven otherwise (mark the line ``ignore[add-column-volatile-default]`` then)."""
from __future__ import annotations

NON_VOLATILE = frozenset({
    # stable: the time of the transaction, the session's settings
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "current_database",
    "current_schema", "to_char", "to_timestamp", "to_date", "age", "timezone", "date_part", "date_trunc",
    "extract", "make_timestamptz", "pg_backend_pid", "inet_client_addr",
    # immutable: text, numbers, dates, json, arrays, casts spelled as calls
    "lower", "upper", "initcap", "btrim", "ltrim", "rtrim", "trim", "concat", "concat_ws", "left", "right",
    "lpad", "rpad", "length", "char_length", "octet_length", "substr", "substring", "replace", "repeat",
    "reverse", "split_part", "translate", "md5", "sha256", "encode", "decode", "format", "quote_ident",
    "abs", "round", "trunc", "floor", "ceil", "ceiling", "power", "sqrt", "mod", "greatest", "least",
    "make_date", "make_time", "make_timestamp", "make_interval", "to_number", "int4", "int8", "numeric",
    "text", "bool", "float8", "jsonb_build_object", "jsonb_build_array", "json_build_object",
    "json_build_array", "to_jsonb", "to_json", "jsonb_object", "array_fill", "array_length", "cardinality",
})


def is_known_non_volatile(name: tuple) -> bool:
    """``name`` as the parser gives it: ('now',) or ('pg_catalog', 'now'); a function in any other
    schema is not PostgreSQL's own."""
    if len(name) == 2 and name[0] == "pg_catalog":
        name = name[1:]
    return len(name) == 1 and name[0].lower() in NON_VOLATILE
