# expect: none
# quiet-for: reindex-without-concurrently concurrently-in-transaction
"""safe: REINDEX CONCURRENTLY in autocommit"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "reindex_conc"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("REINDEX TABLE CONCURRENTLY farms")


def downgrade():
    op.execute('SELECT 1')
