# expect: set-not-null@12
"""lock: SET NOT NULL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "set_not_null"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ALTER COLUMN region SET NOT NULL")


def downgrade():
    op.execute('SELECT 1')
