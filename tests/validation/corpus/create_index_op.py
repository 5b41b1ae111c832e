# expect: create-index-without-concurrently@12
"""lock: create_index without concurrently"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "create_index"
down_revision = None


def upgrade():
    op.create_index("ix_farms_region", "farms", ["region"])


def downgrade():
    op.execute('SELECT 1')
