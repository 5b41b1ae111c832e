"""Rule enum-add-value-in-transaction."""
from ..model import Rule


def check(op, context):
    if op.kind == "enum_add_value" and not op.in_autocommit and context.postgres_major < 12:
        return f"ALTER TYPE ... ADD VALUE cannot run inside a transaction on PostgreSQL {context.postgres_major}"
    return None


RULE = Rule(
    id='enum-add-value-in-transaction',
    severity='error',
    summary='ALTER TYPE ... ADD VALUE cannot run in a transaction before PostgreSQL 12.',
    why='Before PostgreSQL 12, ALTER TYPE ... ADD VALUE fails inside a transaction block; on 12+ the new value cannot be used in the same transaction.',
    do_instead='Run it inside `with op.get_context().autocommit_block():`, and use the value in a later migration.',
    do_instead_sql='Put `ALTER TYPE ... ADD VALUE` in a file of its own headed `-- migration-safety: no-transaction`, and use the value in a later file.',
    check=check,
)
