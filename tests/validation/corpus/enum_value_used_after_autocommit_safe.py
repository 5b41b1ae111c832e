# expect: none
# quiet-for: enum-value-used-in-same-transaction enum-add-value-in-transaction
"""the value is committed by the autocommit block before it is used"""
from alembic import op
import sqlalchemy as sa

revision = "enum_use_ok"
down_revision = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE crop_kind ADD VALUE IF NOT EXISTS 'oats'")
    op.execute("UPDATE crops SET kind = 'oats' WHERE name LIKE 'oat%'")


def downgrade():
    op.execute("SELECT 1")
