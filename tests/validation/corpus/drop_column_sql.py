# expect: drop-column@12
"""data loss: ALTER TABLE DROP COLUMN"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_column_"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms DROP COLUMN region")


def downgrade():
    op.execute('SELECT 1')
