# expect: none
"""safe: ADD VALUE in autocommit"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "enum_add_val"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE mood ADD VALUE 'calm'")


def downgrade():
    op.execute('SELECT 1')
