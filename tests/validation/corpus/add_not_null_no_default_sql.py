# expect: add-not-null-column-without-default@12
"""fails: SQL NOT NULL column without default"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_not_null"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD COLUMN code text NOT NULL")


def downgrade():
    op.execute('SELECT 1')
