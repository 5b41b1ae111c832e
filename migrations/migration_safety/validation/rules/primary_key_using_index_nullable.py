"""Rule primary-key-using-index-nullable."""
from ..model import Rule
from ..operations import normalize_table
from ._not_null import NotNullFacts


def check_sequence(operations, context):
    facts = NotNullFacts(context.postgres_major)
    indexes = {}        # index name -> its columns, for indexes created in this function
    for op in operations:
        facts.observe(op)
        if op.kind == "set_not_null":
            facts.set(op.table, op.get("column"))
        elif op.kind == "create_index" and op.get("name"):
            indexes[normalize_table(op.get("name"))] = op.get("columns") or ()
        elif (op.kind == "add_constraint" and op.get("constraint_type") == "primary" and op.get("using_index")
              and not op.rows_known_absent):
            index = normalize_table(op.get("using_index"))
            columns = indexes.get(index, ())
            unproven = [column for column in columns if not facts.proven(op.table, column)]
            if unproven:
                yield op, (f"PRIMARY KEY USING INDEX {index} sets NOT NULL on {', '.join(unproven)} of {op.label}: "
                           "a full scan under ACCESS EXCLUSIVE")
            elif not columns:
                yield op, (f"PRIMARY KEY USING INDEX {index} scans {op.label} under ACCESS EXCLUSIVE unless the "
                           "index's columns are already NOT NULL")


RULE = Rule(
    id='primary-key-using-index-nullable',
    severity='warning',
    summary='ADD PRIMARY KEY USING INDEX on a column not known to be NOT NULL scans the table under ACCESS EXCLUSIVE.',
    why='Attaching a prebuilt unique index as the primary key is quick only when its columns are already NOT NULL; otherwise PostgreSQL sets NOT NULL on them first, checking every row while holding ACCESS EXCLUSIVE.',
    do_instead='Make the columns NOT NULL first without the long lock: `ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` (autocommit block or a later migration), `ALTER COLUMN col SET NOT NULL` (PostgreSQL 12+ skips the scan), then `ADD PRIMARY KEY USING INDEX`.',
    check_sequence=check_sequence,
)
