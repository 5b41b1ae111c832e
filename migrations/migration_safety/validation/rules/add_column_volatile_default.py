"""Rule add-column-volatile-default."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_column" and op.get("default_volatile") and not op.rows_known_absent:
        return f"column {op.get('column') or ''} of {op.label} gets a volatile default: the table is rewritten"
    return None


RULE = Rule(
    id='add-column-volatile-default',
    severity='error',
    summary='A volatile default rewrites the whole table.',
    why='Since PostgreSQL 11 a constant default is stored once in the catalog; a volatile one (random(), gen_random_uuid(), clock_timestamp()) must be computed per row, which rewrites the table under ACCESS EXCLUSIVE.',
    do_instead='Add the column without default (or with a constant one), set the default afterwards for new rows, and backfill existing rows in batches.',
    check=check,
)
