# expect: none
# quiet-for: timeout-override
"""a statement_timeout scoped to the statements that need it, and a lock_timeout lowered"""
from alembic import op
import sqlalchemy as sa

revision = "timeouts_scoped"
down_revision = None


def upgrade():
    op.execute("SET LOCAL statement_timeout = '30min'")   # ends when the autocommit block below commits
    op.execute("SET LOCAL lock_timeout = '2s'")           # stricter than the wrapper's 5s
    op.execute("UPDATE farms SET region = 'north' WHERE region IS NULL")
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = '2h'")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_farms_region ON farms (region)")
        op.execute("RESET statement_timeout")
        op.execute("SET LOCAL lock_timeout = 0")          # outside a transaction: PostgreSQL ignores it
    op.get_bind().execute(sa.text("SELECT set_config('statement_timeout', '1h', false)"))
    op.execute("UPDATE farms SET code = upper(code) WHERE code IS NOT NULL")
    op.execute("SET statement_timeout TO DEFAULT")
    op.execute("SET SESSION lock_timeout = '1s'")
    op.execute("UPDATE farms SET code = trim(code) WHERE code IS NOT NULL")
    op.execute("RESET ALL")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_farms_region")
