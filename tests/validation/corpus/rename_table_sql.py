# expect: rename-table@12
"""breaks app: ALTER TABLE RENAME TO"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "rename_table"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms RENAME TO holdings")


def downgrade():
    op.execute('SELECT 1')
