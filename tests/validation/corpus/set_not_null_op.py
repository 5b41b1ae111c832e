# expect: set-not-null@12
"""lock: nullable=False on existing column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "set_not_null"
down_revision = None


def upgrade():
    op.alter_column("farms", "region", nullable=False)


def downgrade():
    op.execute('SELECT 1')
