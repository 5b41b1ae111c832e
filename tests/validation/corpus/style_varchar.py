# expect: prefer-text-over-varchar@12
"""style: varchar(n)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_varcha"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("code", sa.String(20), nullable=True))


def downgrade():
    op.execute('SELECT 1')
