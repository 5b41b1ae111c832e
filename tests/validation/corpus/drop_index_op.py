# expect: drop-index-without-concurrently@12
"""lock: drop_index without concurrently"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_index_o"
down_revision = None


def upgrade():
    op.drop_index("ix_farms_owner_id", table_name="farms")


def downgrade():
    op.execute('SELECT 1')
