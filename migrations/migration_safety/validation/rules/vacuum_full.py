"""Rule vacuum-full."""
from ..model import Rule


def check(op, context):
    if op.kind == "vacuum_full":
        return "VACUUM FULL rewrites tables under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='vacuum-full',
    severity='error',
    summary='VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock.',
    why='VACUUM FULL copies the whole table while nothing can read or write it, and cannot run in a transaction.',
    do_instead='Rely on autovacuum, or use pg_repack outside the migration.',
    check=check,
)
