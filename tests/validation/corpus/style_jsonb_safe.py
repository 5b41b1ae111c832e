# expect: none
# quiet-for: prefer-jsonb
"""safe: jsonb column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_jsonb_"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("meta", postgresql.JSONB(), nullable=True))


def downgrade():
    op.execute('SELECT 1')
