"""Fix for drop-index-without-concurrently: DROP INDEX CONCURRENTLY (no ACCESS EXCLUSIVE on the
table) in an autocommit block, with IF EXISTS so a retry is safe."""
from ._rewrite import autocommit_block

RULE_ID = "drop-index-without-concurrently"


def fix(call, finding):
    if call.name != "drop_index" or call.has_star_arguments():
        return None
    return [autocommit_block(call.code(call.with_keywords(postgresql_concurrently="True", if_exists="True")))]
