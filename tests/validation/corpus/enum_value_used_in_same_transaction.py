# expect: enum-value-used-in-same-transaction@12
"""an enum value used in the transaction that added it"""
from alembic import op
import sqlalchemy as sa

revision = "enum_use"
down_revision = None


def upgrade():
    op.execute("ALTER TYPE crop_kind ADD VALUE 'oats'")
    op.execute("UPDATE crops SET kind = 'oats' WHERE name LIKE 'oat%'")


def downgrade():
    op.execute("SELECT 1")
