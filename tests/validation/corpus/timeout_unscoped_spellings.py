# expect: timeout-override@13 timeout-override@14 timeout-override@16 timeout-override@19 timeout-override@20
"""timeouts that outlive the revision, in every spelling PostgreSQL reads: SET SESSION,
set_config(..., false), a connection's execute, SET LOCAL when every revision shares one
transaction, SET without RESET in an autocommit block; and lock_timeout disabled even when scoped"""
from alembic import op
import sqlalchemy as sa

revision = "timeouts_unscoped"
down_revision = None


def upgrade():
    op.execute("SET SESSION statement_timeout = '1h'")
    op.execute(sa.text("SELECT pg_catalog.set_config('lock_timeout', '3s', false)"))
    with op.get_context().autocommit_block():
        op.execute("set statement_timeout to 7200000")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_farms_code ON farms (code)")
    op.execute("UPDATE farms SET code = lower(code) WHERE code IS NOT NULL")
    op.get_bind().execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '10min'"))
    op.execute("SET LOCAL lock_timeout TO 0")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_farms_code")
