"""Fix for set-not-null: CHECK (col IS NOT NULL) NOT VALID, VALIDATE in its own transaction, then
SET NOT NULL, which on PostgreSQL 12+ uses the validated CHECK instead of scanning the table under
ACCESS EXCLUSIVE, then the CHECK is dropped. Only an ``alter_column`` that changes nothing but
nullability is rewritten."""
from ._rewrite import not_null_steps

RULE_ID = "set-not-null"
_ONLY_NULLABILITY = {"table_name", "column_name", "nullable", "schema", "existing_type", "existing_nullable",
                     "existing_server_default", "existing_comment"}


def fix(call, finding):
    if call.name != "alter_column" or call.has_star_arguments() or call.keywords() - _ONLY_NULLABILITY:
        return None
    table, column, schema = call.literal(0, "table_name"), call.literal(1, "column_name"), call.literal(None, "schema")
    if not isinstance(table, str) or not isinstance(column, str) or schema is ... \
            or call.literal(None, "nullable") is not False:
        return None
    return not_null_steps(call.code(), table, column, schema)
