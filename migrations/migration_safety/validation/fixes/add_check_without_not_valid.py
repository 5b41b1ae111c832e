"""Fix for add-check-without-not-valid: the CHECK is added NOT VALID (no scan under ACCESS
EXCLUSIVE) and validated in its own transaction in an autocommit block right after (SHARE UPDATE
EXCLUSIVE: reads and writes go on). Where the VALIDATE goes follows the foreign-key fix's rule."""
from ._rewrite import not_valid_then_validated

RULE_ID = "add-check-without-not-valid"


def fix(call, finding):
    if call.name != "create_check_constraint" or call.has_star_arguments():
        return None
    return not_valid_then_validated(call, "constraint_name", "table_name", "schema")
