"""Rule add-column-inline-constraint."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_column" and op.get("inline_constraints") and not op.rows_known_absent:
        return (f"column {op.get('column') or ''} of {op.label} is added with {' and '.join(op.get('inline_constraints'))} "
                "in the same statement, under its ACCESS EXCLUSIVE lock")
    return None


RULE = Rule(
    id='add-column-inline-constraint',
    severity='warning',
    summary='ADD COLUMN with an inline UNIQUE, PRIMARY KEY or REFERENCES builds or checks it under the lock of the ALTER.',
    why='An inline UNIQUE or PRIMARY KEY builds its index over the whole table while ALTER TABLE holds ACCESS EXCLUSIVE (a PRIMARY KEY also needs every row non-null); an inline REFERENCES is validated at once and takes a lock on the referenced table too. None of the safe forms (CONCURRENTLY, NOT VALID, USING INDEX) exist inline.',
    do_instead='Add the plain column first; then `CREATE UNIQUE INDEX CONCURRENTLY` + `ADD CONSTRAINT ... UNIQUE USING INDEX` (in an autocommit block), or `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` and `VALIDATE CONSTRAINT` in a later migration.',
    do_instead_sql='Add the plain column first; then `CREATE UNIQUE INDEX CONCURRENTLY` in a file headed `-- migration-safety: no-transaction` and `ADD CONSTRAINT ... UNIQUE USING INDEX` in the next file, or `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` and `VALIDATE CONSTRAINT` in a later file.',
    check=check,
)
