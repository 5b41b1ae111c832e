"""Fix for create-index-without-concurrently: the index is built CONCURRENTLY (writes go on) in an
autocommit block (CONCURRENTLY cannot run inside a transaction), with IF NOT EXISTS so a retry
after an interrupted build does not fail on the name (PostgreSQL leaves an invalid index behind
an interrupted concurrent build: drop it before retrying)."""
from ._rewrite import autocommit_block

RULE_ID = "create-index-without-concurrently"


def fix(call, finding):
    if call.name != "create_index" or call.has_star_arguments():
        return None
    return [autocommit_block(call.code(call.with_keywords(postgresql_concurrently="True", if_not_exists="True")))]
