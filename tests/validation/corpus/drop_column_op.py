# expect: drop-column@12
"""data loss: op.drop_column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_column_"
down_revision = None


def upgrade():
    op.drop_column("farms", "region")


def downgrade():
    op.execute('SELECT 1')
