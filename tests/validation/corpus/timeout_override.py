# expect: timeout-override@11 timeout-override@12 timeout-override@13
"""a revision that replaces the wrapper's timeouts"""
from alembic import op
import sqlalchemy as sa

revision = "timeouts"
down_revision = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '10min'")
    op.execute("SET statement_timeout TO 0")
    op.execute("SELECT set_config('lock_timeout', '0', true)")
    op.add_column("farms", sa.Column("code", sa.Text(), nullable=True))


def downgrade():
    op.execute("SELECT 1")
