"""Rule change-column-type-unverified."""
from ..model import Rule


def check(op, context):
    if op.kind != "alter_type" or op.rows_known_absent:
        return None
    column = f"{op.label}.{op.get('column') or 'a column'}"
    if op.get("verdict") == "no_existing_type":
        return (f"changing the type of {column} {op.get('change')} without existing_type: "
                "whether PostgreSQL rewrites the table depends on the current type")
    if op.get("verdict") == "unknown":
        return f"cannot tell whether changing the type of {column} ({op.get('change')}) rewrites the table"
    return None


RULE = Rule(
    id='change-column-type-unverified',
    severity='warning',
    summary='A column type change whose cost cannot be known from the file.',
    why='Widening varchar(n) to varchar(m >= n) or text, or raising numeric precision at the same scale, changes only the catalog; most other type changes rewrite the table under ACCESS EXCLUSIVE. Without the current type the validator cannot tell which this is.',
    do_instead='Pass `existing_type=` to alter_column (Alembic needs it on MySQL anyway); the validator then decides. An upgrade judges it against the live column.',
    check=check,
)
