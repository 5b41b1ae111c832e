"""Fix for add-foreign-key-without-not-valid: the constraint is added NOT VALID (no scan, a brief
lock) and validated in its own transaction right after, in an autocommit block, where VALIDATE
takes only SHARE UPDATE EXCLUSIVE on the table (and ROW SHARE on the referenced one).

The rule for where the VALIDATE goes: the same revision, in an autocommit block after the
revision's transactional work. A separate revision would let a deploy stop between the two and
leave an unvalidated constraint that nobody remembers; the autocommit block gives the same
locking without that gap."""
from ._rewrite import not_valid_then_validated

RULE_ID = "add-foreign-key-without-not-valid"


def fix(call, finding):
    if call.name != "create_foreign_key" or call.has_star_arguments():
        return None
    return not_valid_then_validated(call, "constraint_name", "source_table", "source_schema")
