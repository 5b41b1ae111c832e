"""Rule drop-default-of-new-not-null-column."""
from ..model import Rule


def check_sequence(operations, context):
    added = set()       # (table, column): NOT NULL columns with a default, added to an existing table
    for op in operations:
        if op.kind == "add_column" and not op.get("nullable") and op.get("has_default") and not op.table_created_here:
            added.add((op.table, op.get("column")))
        elif op.kind == "drop_default" and (op.table, op.get("column")) in added:
            yield op, (f"the default of {op.label}.{op.get('column')}, a NOT NULL column added in this migration, is "
                       "dropped: inserts of the running code, which does not know the column, start failing")


RULE = Rule(
    id='drop-default-of-new-not-null-column',
    severity='error',
    summary='Dropping the default of a NOT NULL column in the migration that adds it breaks inserts of the running code.',
    why="The deployed application does not know the new column, so its INSERTs leave it out; with the default gone they fail with 'null value in column violates not-null constraint' until the new code is out.",
    do_instead='Keep the default until every running version of the code writes the column, then drop it in a later migration.',
    check_sequence=check_sequence,
)
