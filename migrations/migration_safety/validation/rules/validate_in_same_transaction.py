"""Rule validate-in-same-transaction."""
from ..model import Rule


def check_sequence(operations, context):
    not_valid = {}    # constraint name (or table, when unnamed) -> the operation adding it NOT VALID
    for op in operations:
        if op.kind == "add_constraint" and op.get("not_valid") and not op.in_autocommit:
            not_valid[op.get("name") or op.table] = op
        elif op.kind == "validate_constraint" and not op.in_autocommit:
            if (op.get("name") or op.table) in not_valid or (op.get("name") is None and op.table in {
                    added.table for added in not_valid.values()}):
                yield op, (f"VALIDATE CONSTRAINT {op.get('name') or ''} runs in the transaction that added it "
                           f"NOT VALID: the ACCESS EXCLUSIVE lock on {op.label} is held through the scan")


RULE = Rule(
    id='validate-in-same-transaction',
    severity='warning',
    summary='NOT VALID and VALIDATE CONSTRAINT in the same transaction buys nothing.',
    why='ADD CONSTRAINT ... NOT VALID takes ACCESS EXCLUSIVE briefly so that the scan can run later under a weaker lock; validating in the same transaction keeps the strong lock for the whole scan.',
    do_instead='Validate in a later revision (with transaction_per_migration, or a separate run), or inside `op.get_context().autocommit_block()`.',
    do_instead_sql='Validate in a later file (each file commits in a transaction of its own), or in a file headed `-- migration-safety: no-transaction`.',
    check_sequence=check_sequence,
)
