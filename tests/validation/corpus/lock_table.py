# expect: lock-table@12
"""lock: explicit LOCK TABLE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "lock_table"
down_revision = None


def upgrade():
    op.execute("LOCK TABLE farms IN ACCESS EXCLUSIVE MODE")


def downgrade():
    op.execute('SELECT 1')
