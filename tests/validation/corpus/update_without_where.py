# expect: update-without-where@12
"""rewrite: UPDATE without WHERE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "update_witho"
down_revision = None


def upgrade():
    op.execute("UPDATE farms SET region = 'north'")


def downgrade():
    op.execute('SELECT 1')
