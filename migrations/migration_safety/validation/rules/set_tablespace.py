"""Rule set-tablespace."""
from ..model import Rule


def check(op, context):
    if op.kind == "set_tablespace" and not op.table_created_here:
        return f"SET TABLESPACE copies {op.get('what') or op.label} file by file under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='set-tablespace',
    severity='error',
    summary='SET TABLESPACE copies the whole table or index while it is locked.',
    why='Moving a relation to another tablespace copies every data file while ACCESS EXCLUSIVE is held: no reads or writes for as long as the copy takes, minutes to hours on a large table.',
    do_instead='Move it outside migrations in a maintenance window (or with pg_repack --tablespace); create new tables and indexes directly in the target tablespace.',
    check=check,
)
