"""Rule sql-built-at-runtime."""
from ..model import Rule


def check(op, context):
    if op.kind == "runtime_sql":
        where = "op.execute()" if op.get("through", "op") == "op" else "a connection's execute()"
        return f"{where} with SQL built at run time: not checked"
    return None


RULE = Rule(
    id='sql-built-at-runtime',
    severity='info',
    summary='SQL built at run time cannot be checked.',
    why='An f-string, concatenation or variable passed to op.execute only exists when the migration runs, so none of the SQL rules can see it.',
    do_instead='Write the SQL as a literal string (bind values with sa.text(...).bindparams()), or review it by hand and mark it `# migration-safety: ignore[sql-built-at-runtime] <reason>`.',
    check=check,
)
