"""Fix for add-unique-constraint: the unique index is built CONCURRENTLY in an autocommit block,
then the constraint adopts it (``ADD CONSTRAINT ... UNIQUE USING INDEX``: a catalog change under a
brief lock). The index takes the constraint's name, so the final schema is the same."""
from ._rewrite import autocommit_block, python_string, qualified, quote_identifier

RULE_ID = "add-unique-constraint"


def fix(call, finding):
    if call.name != "create_unique_constraint" or call.has_star_arguments():
        return None
    name, table, columns = (call.literal(0, "constraint_name"), call.literal(1, "table_name"),
                            call.literal(2, "columns"))
    schema = call.literal(None, "schema")
    if (not isinstance(name, str) or not isinstance(table, str) or not isinstance(columns, list) or schema is ...
            or call.keywords() - {"constraint_name", "table_name", "columns", "schema"}):
        return None                 # deferrable, initially, ...: USING INDEX cannot carry them all here
    schema_arg = f", schema={python_string(schema)}" if isinstance(schema, str) else ""
    listed = ", ".join(map(python_string, columns))
    index = (f"op.create_index({python_string(name)}, {python_string(table)}, [{listed}], unique=True{schema_arg}, "
             "postgresql_concurrently=True, if_not_exists=True)")
    adopt = (f"ALTER TABLE {qualified(table, schema)} ADD CONSTRAINT {quote_identifier(name)} "
             f"UNIQUE USING INDEX {quote_identifier(name)}")
    return [autocommit_block(index), f"op.execute({python_string(adopt)})\n"]
