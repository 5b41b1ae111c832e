# expect: add-not-null-column-without-default@12
"""fails/locks: NOT NULL column without default"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_not_null"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("code", sa.Text(), nullable=False))


def downgrade():
    op.execute('SELECT 1')
