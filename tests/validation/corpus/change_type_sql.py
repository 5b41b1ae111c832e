# expect: change-column-type@12
"""rewrite: ALTER COLUMN TYPE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "change_type_"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ALTER COLUMN name TYPE bigint")


def downgrade():
    op.execute('SELECT 1')
