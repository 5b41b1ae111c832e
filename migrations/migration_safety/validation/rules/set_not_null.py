"""Rule set-not-null."""
from ..model import Rule
from ._not_null import NotNullFacts


def check_sequence(operations, context):
    facts = NotNullFacts(context.postgres_major)
    for op in operations:
        facts.observe(op)
        if op.kind != "set_not_null":
            continue
        if not op.rows_known_absent and not facts.proven(op.table, op.get("column")):
            yield op, f"setting NOT NULL on a column of {op.label} scans the table under an ACCESS EXCLUSIVE lock"
        facts.set(op.table, op.get("column"))


RULE = Rule(
    id='set-not-null',
    severity='warning',
    summary='SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.',
    why='PostgreSQL checks every row while holding ACCESS EXCLUSIVE, blocking reads and writes for the length of a full table scan. On PostgreSQL 12+ a validated `CHECK (col IS NOT NULL)` earlier in the same migration lets it skip the scan, and the rule stays quiet.',
    do_instead='Add `CHECK (col IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT` in a later migration (a weaker lock); on PostgreSQL 12+ `SET NOT NULL` then skips the scan, and the check can be dropped.',
    check_sequence=check_sequence,
)
