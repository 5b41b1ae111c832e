# expect: drop-table@12
"""data loss: op.drop_table"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_table_o"
down_revision = None


def upgrade():
    op.drop_table("farms")


def downgrade():
    op.execute('SELECT 1')
