# expect: create-index-without-concurrently@12
"""lock: CREATE INDEX"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "create_index"
down_revision = None


def upgrade():
    op.execute("CREATE INDEX ix_farms_region ON farms (region)")


def downgrade():
    op.execute('SELECT 1')
