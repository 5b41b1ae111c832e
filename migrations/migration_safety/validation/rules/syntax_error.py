"""Rule syntax-error (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='syntax-error',
    severity='error',
    summary='The revision file is not valid Python.',
    why='Alembic imports every revision file when it loads the script directory: one syntax error stops every command.',
    do_instead='Fix the syntax error at the reported line.',
)
