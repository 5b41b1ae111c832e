# expect: prefer-jsonb@12
"""style: json column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_json"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("meta", sa.JSON(), nullable=True))


def downgrade():
    op.execute('SELECT 1')
