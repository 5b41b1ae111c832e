"""Rule add-unique-constraint."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_constraint" and op.get("constraint_type") in ("primary", "unique") and not op.get("using_index") and not op.rows_known_absent:
        return f"adding a {op.get('constraint_type')} constraint to {op.label} builds its index under a blocking lock"
    return None


RULE = Rule(
    id='add-unique-constraint',
    severity='warning',
    summary='Adding a primary key or unique constraint builds an index under an ACCESS EXCLUSIVE lock.',
    why='ADD PRIMARY KEY / UNIQUE builds the index while writes (and, for the ALTER, reads) wait.',
    do_instead='`CREATE UNIQUE INDEX CONCURRENTLY` inside `op.get_context().autocommit_block()`, then `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX` (or PRIMARY KEY USING INDEX).',
    do_instead_sql='`CREATE UNIQUE INDEX CONCURRENTLY` in a file of its own headed `-- migration-safety: no-transaction`, then `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX` (or PRIMARY KEY USING INDEX) in the next file.',
    check=check,
)
