"""Rule syntax-error."""
from ..model import Rule


def check_file(revision_file, context):
    if isinstance(revision_file.problem, SyntaxError):
        yield revision_file.problem.lineno or 1, f"syntax error: {revision_file.problem.msg}"


RULE = Rule(
    id='syntax-error',
    severity='error',
    summary='The revision file is not valid Python.',
    why='Alembic imports every revision file when it loads the script directory: one syntax error stops every command.',
    do_instead='Fix the syntax error at the reported line.',
    check_file=check_file,
)
