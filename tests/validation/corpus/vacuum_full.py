# expect: vacuum-full@12
"""rewrite: VACUUM FULL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "vacuum_full"
down_revision = None


def upgrade():
    op.execute("VACUUM FULL farms")


def downgrade():
    op.execute('SELECT 1')
