"""Fix for add-column-volatile-default: a volatile default makes ADD COLUMN rewrite the table
under ACCESS EXCLUSIVE. Instead: add the column without a default (a catalog change), set the
default (new rows get it), fill the existing rows in batches in autocommit (each batch its own
short transaction; ``SET col = DEFAULT`` evaluates the default per row, as ADD COLUMN would), then
NOT NULL through a validated CHECK when the column asked for it.

The batch template: ``UPDATE t SET c = DEFAULT WHERE ctid = ANY (ARRAY(SELECT ctid FROM t WHERE
c IS NULL LIMIT 10000))`` until it updates no row."""
import libcst as cst

from ._rewrite import autocommit_block, not_null_steps, python_string, qualified, quote_identifier

RULE_ID = "add-column-volatile-default"
BATCH_ROWS = 10000


def fix(call, finding):
    if call.name != "add_column" or call.has_star_arguments() or call.keywords() - {"table_name", "column", "schema"}:
        return None
    table, schema = call.literal(0, "table_name"), call.literal(None, "schema")
    column_arg = call.argument(1, "column")
    if not isinstance(table, str) or schema is ... or column_arg is None:
        return None
    column = column_arg.value
    if not (isinstance(column, cst.Call) and call.code(column.func) in ("sa.Column", "Column", "sqlalchemy.Column")):
        return None
    from ._rewrite import Call as _Call

    column_call = _Call(column)
    name = column_call.literal(0, "name")
    default = column_call.argument(None, "server_default")
    if not isinstance(name, str) or default is None or column_call.has_star_arguments():
        return None
    not_null = column_call.literal(None, "nullable") is False
    bare_column = column_call.without_keywords("server_default", "nullable")
    add = call.code(call.node.with_changes(args=[
        arg.with_changes(value=bare_column) if arg is column_arg else arg for arg in call.node.args]))
    schema_arg = f", schema={python_string(schema)}" if isinstance(schema, str) else ""
    target, quoted = qualified(table, schema), quote_identifier(name)
    backfill = (f"UPDATE {target} SET {quoted} = DEFAULT WHERE ctid = ANY (ARRAY(SELECT ctid FROM {target} "
                f"WHERE {quoted} IS NULL LIMIT {BATCH_ROWS}))")
    steps = [
        add + "\n",
        f"op.alter_column({python_string(table)}, {python_string(name)}{schema_arg}, "
        f"server_default={call.code(default.value)})\n",
        autocommit_block("bind = op.get_bind()",
                         f"while bind.exec_driver_sql({python_string(backfill)}).rowcount:\n    pass"),
    ]
    if not_null:
        steps += not_null_steps(f"op.alter_column({python_string(table)}, {python_string(name)}{schema_arg}, "
                                "nullable=False)", table, name, schema)
    return steps
