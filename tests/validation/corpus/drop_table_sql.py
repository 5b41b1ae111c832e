# expect: drop-table@12
"""data loss: DROP TABLE in SQL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_table_s"
down_revision = None


def upgrade():
    op.execute("DROP TABLE IF EXISTS farms")


def downgrade():
    op.execute('SELECT 1')
