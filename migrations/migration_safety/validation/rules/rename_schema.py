"""Rule rename-schema."""
from ..model import Rule


def check(op, context):
    if op.kind == "rename_schema" and not op.table_created_here:
        return f"renaming schema {op.get('schema')} breaks every query of the running code that names it"
    return None


RULE = Rule(
    id='rename-schema',
    severity='error',
    summary='Renaming a schema breaks the code that is still running.',
    why='Every qualified name (`schema.table`), search_path setting and grant of the deployed application still uses the old schema name; they all fail the moment the rename commits.',
    do_instead='Create the new schema and move objects (or create views) there while the old names keep working; switch the code and search_path; drop the old schema in a later release.',
    check=check,
)
