# expect: rename-column@12
"""breaks app: alter_column new_column_name"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "rename_colum"
down_revision = None


def upgrade():
    op.alter_column("farms", "region", new_column_name="area")


def downgrade():
    op.execute('SELECT 1')
