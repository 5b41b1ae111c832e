# expect: sql-built-at-runtime@13
"""unchecked: SQL built at run time"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "runtime_sql"
down_revision = None


def upgrade():
    table = "farms"
    op.execute(f"DELETE FROM {table}")


def downgrade():
    op.execute('SELECT 1')
