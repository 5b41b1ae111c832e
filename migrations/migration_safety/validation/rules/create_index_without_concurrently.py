"""Rule create-index-without-concurrently."""
from ..model import Rule


def check(op, context):
    if op.kind == "create_index" and not op.get("concurrently") and not op.rows_known_absent:
        return f"creating an index on {op.label} without CONCURRENTLY blocks writes while it builds"
    return None


RULE = Rule(
    id='create-index-without-concurrently',
    severity='warning',
    summary='CREATE INDEX without CONCURRENTLY blocks writes for the whole build.',
    why='A plain CREATE INDEX holds a SHARE lock: inserts, updates and deletes wait until the index is built, minutes on a large table.',
    do_instead='`op.create_index(..., postgresql_concurrently=True)` (or CREATE INDEX CONCURRENTLY) inside `with op.get_context().autocommit_block():`.',
    do_instead_sql='`CREATE INDEX CONCURRENTLY` in a file of its own headed `-- migration-safety: no-transaction`.',
    check=check,
)
