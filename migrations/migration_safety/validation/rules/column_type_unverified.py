"""Rule column-type-unverified."""
from ..model import Rule


def check(op, context):
    if op.kind == "column" and op.get("type_unverified"):
        return f"the type of column {op.get('column')} on PostgreSQL is unverified: {op.get('type_unverified')}"
    return None


RULE = Rule(
    id='column-type-unverified',
    severity='info',
    summary='A column type the validator cannot know without importing the project.',
    why='A custom type (a TypeDecorator, a type made at run time) becomes whatever its PostgreSQL implementation is; the style and lock rules about types (json, timestamp, int keys) are only as true as the type they judge, so they say nothing about a type they cannot read.',
    do_instead='Nothing is needed. To have the type judged, define it where the validator can read it: `impl = JSONB`, or a `load_dialect_impl` whose PostgreSQL branch returns the type, in a module under the project folder or `prepend_sys_path`.',
    check=check,
)
