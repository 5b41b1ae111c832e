# expect: primary-key-using-index-nullable@14
"""scan: ADD PRIMARY KEY USING INDEX sets NOT NULL on columns not known to be NOT NULL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "primary_key_"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY farms_code_idx ON farms (code)")
    op.execute("ALTER TABLE farms ADD CONSTRAINT farms_pk PRIMARY KEY USING INDEX farms_code_idx")


def downgrade():
    op.execute("SELECT 1")
