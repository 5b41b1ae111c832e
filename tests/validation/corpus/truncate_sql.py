# expect: truncate-table@12
"""data loss: TRUNCATE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "truncate_sql"
down_revision = None


def upgrade():
    op.execute("TRUNCATE TABLE harvests")


def downgrade():
    op.execute('SELECT 1')
