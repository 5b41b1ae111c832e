# expect: set-tablespace@12 set-tablespace@13
"""rewrite: SET TABLESPACE copies the table (or index) under ACCESS EXCLUSIVE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "set_tablespa"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms SET TABLESPACE fast_ssd")
    op.execute("ALTER INDEX ix_farms_region SET TABLESPACE fast_ssd")


def downgrade():
    op.execute("SELECT 1")
