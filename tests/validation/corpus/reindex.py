# expect: reindex-without-concurrently@12
"""lock: REINDEX"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "reindex"
down_revision = None


def upgrade():
    op.execute("REINDEX TABLE farms")


def downgrade():
    op.execute('SELECT 1')
