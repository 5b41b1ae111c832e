"""Rule sql-migration-gap."""
from ..model import Rule

# Reported by the SQL folder reader (sources/sql_files.py), not by a check of operations.
RULE = Rule(
    id='sql-migration-gap',
    severity='warning',
    summary='A gap in the version numbers, or an UP file without its DOWN file.',
    why="A missing number usually means a file was lost or not yet merged, and an UP file without its DOWN cannot be rolled back: a downgrade through it is refused.",
    do_instead='Restore the missing file (or renumber before anything is applied), and write the DOWN file next to each UP file.',
)
