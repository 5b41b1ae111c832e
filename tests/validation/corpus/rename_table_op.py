# expect: rename-table@12
"""breaks app: op.rename_table"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "rename_table"
down_revision = None


def upgrade():
    op.rename_table("farms", "holdings")


def downgrade():
    op.execute('SELECT 1')
