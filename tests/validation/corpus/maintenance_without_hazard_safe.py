# expect: none
# quiet-for: vacuum-full reindex-without-concurrently
"""safe: VACUUM with FULL turned off, REINDEX SYSTEM (CONCURRENTLY is impossible there)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "maintenance_"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM (FULL FALSE, ANALYZE) farms")
        op.execute("VACUUM (full off) fields")
        op.execute("REINDEX SYSTEM farmdb")


def downgrade():
    op.execute("SELECT 1")
