"""Fix for add-check-without-not-valid: the CHECK is added NOT VALID (no scan under ACCESS
EXCLUSIVE) and validated in its own transaction in an autocommit block right after (SHARE UPDATE
EXCLUSIVE: reads and writes go on). Where the VALIDATE goes follows the foreign-key fix's rule."""
from ._rewrite import autocommit_block, python_string, qualified

RULE_ID = "add-check-without-not-valid"


def fix(call, finding):
    if call.name != "create_check_constraint" or call.has_star_arguments():
        return None
    name, table = call.literal(0, "constraint_name"), call.literal(1, "table_name")
    schema = call.literal(None, "schema")
    if not isinstance(name, str) or not isinstance(table, str) or schema is ...:
        return None
    validate = f"ALTER TABLE {qualified(table, schema)} VALIDATE CONSTRAINT {name}"
    return [call.code(call.with_keywords(postgresql_not_valid="True")) + "\n",
            autocommit_block(f"op.execute({python_string(validate)})")]
