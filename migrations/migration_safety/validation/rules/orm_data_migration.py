"""Rule orm-data-migration."""
from ..model import Rule


def check(op, context):
    if op.via == "orm" and op.kind in ("delete", "update") and op.get("where") and not op.rows_known_absent:
        verb = "deletes" if op.kind == "delete" else "rewrites"
        return f"{op.get('method')}() {verb} rows of {op.label} through the ORM, in the migration transaction"
    return None


RULE = Rule(
    id='orm-data-migration',
    severity='warning',
    summary='The ORM rewrites or deletes rows inside the migration.',
    why='A bulk ORM update or delete touches an unknown number of rows in one transaction, holding their row locks (and the schema locks taken before it) until the migration commits; its model classes also drift from the schema the revision was written for.',
    do_instead='Express it as SQL on the tables of this revision, in batches; run big backfills outside the migration.',
    check=check,
)
