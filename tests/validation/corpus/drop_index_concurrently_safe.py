# expect: none
# quiet-for: drop-index-without-concurrently concurrently-in-transaction
"""safe: DROP INDEX CONCURRENTLY in autocommit"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_index_c"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_farms_owner_id")


def downgrade():
    op.execute('SELECT 1')
