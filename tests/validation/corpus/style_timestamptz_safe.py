# expect: none
# quiet-for: prefer-timestamptz
"""safe: timestamptz"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_timest"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute('SELECT 1')
