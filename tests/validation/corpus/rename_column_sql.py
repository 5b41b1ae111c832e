# expect: rename-column@12
"""breaks app: RENAME COLUMN"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "rename_colum"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms RENAME COLUMN region TO area")


def downgrade():
    op.execute('SELECT 1')
