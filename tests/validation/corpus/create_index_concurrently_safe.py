# expect: none
# quiet-for: create-index-without-concurrently concurrently-in-transaction
"""safe: concurrently inside autocommit block"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "create_index"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_farms_region", "farms", ["region"], postgresql_concurrently=True)


def downgrade():
    op.execute('SELECT 1')
