"""Rule enum-value-used-in-same-transaction."""
from ..model import Rule


def check_sequence(operations, context):
    added = {}        # value literal -> type, for values added inside the transaction
    for op in operations:
        if op.kind == "enum_add_value" and not op.in_autocommit and op.get("value") is not None:
            added[f"'{op.get('value')}'"] = op.get("type_name")
            continue
        if op.in_autocommit or op.via != "sql":
            continue
        for literal, type_name in added.items():
            if literal in op.get("statement", ""):
                yield op, f"uses {literal}, added to enum {type_name} earlier in the same transaction"
                break


RULE = Rule(
    id='enum-value-used-in-same-transaction',
    severity='error',
    summary='A value added with ALTER TYPE ... ADD VALUE is used before the transaction commits.',
    why="PostgreSQL refuses to use an enum value in the transaction that added it ('unsafe use of new value'), on every version.",
    do_instead='Add the value in `with op.get_context().autocommit_block():` (or in an earlier revision with transaction_per_migration), and use it afterwards.',
    do_instead_sql='Add the value in an earlier file (each file commits in a transaction of its own) or in a file headed `-- migration-safety: no-transaction`, and use it afterwards.',
    check_sequence=check_sequence,
)
