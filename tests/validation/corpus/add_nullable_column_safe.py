# expect: none
# quiet-for: add-not-null-column-without-default
"""safe: nullable column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_nullable"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("code", sa.Text(), nullable=True))


def downgrade():
    op.execute('SELECT 1')
