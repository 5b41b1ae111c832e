# expect: cluster-table@12
"""rewrite: CLUSTER"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "cluster"
down_revision = None


def upgrade():
    op.execute("CLUSTER farms USING farms_pkey")


def downgrade():
    op.execute('SELECT 1')
