"""Rule sql-migration-folder."""
from ..model import Rule

# Reported by the SQL folder reader (sources/sql_files.py), not by a check of operations.
RULE = Rule(
    id='sql-migration-folder',
    severity='error',
    summary='A SQL migration folder whose versions cannot be run reliably.',
    why="Two files with the same version, a DOWN file without its UP, a dependency in migration_config.yaml that names no file, or a dependency cycle leave the order of the migrations, or which file a version is, to chance.",
    do_instead='Give every migration one number (NNN_name_UP.sql + NNN_name_DOWN.sql, N_name.up.sql + N_name.down.sql, or NNN_name.sql), and list only existing versions as dependencies, without cycles.',
)
