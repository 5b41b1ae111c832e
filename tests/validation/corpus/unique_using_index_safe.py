# expect: none
# quiet-for: add-unique-constraint
"""safe: unique index concurrently then USING INDEX"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "unique_using"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_farms_name_idx ON farms (name)")
    op.execute("ALTER TABLE farms ADD CONSTRAINT uq_farms_name UNIQUE USING INDEX uq_farms_name_idx")


def downgrade():
    op.execute('SELECT 1')
