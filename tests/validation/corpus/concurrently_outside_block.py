# expect: concurrently-in-transaction@12
"""fails: CONCURRENTLY in the migration transaction"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "concurrently"
down_revision = None


def upgrade():
    op.execute("CREATE INDEX CONCURRENTLY ix_farms_region ON farms (region)")


def downgrade():
    op.execute('SELECT 1')
