# expect: transaction-control-in-revision@12 transaction-control-in-revision@13 transaction-control-in-revision@14
"""transaction control inside a revision"""
from alembic import op
import sqlalchemy as sa

revision = "txn_control"
down_revision = None


def upgrade():
    op.execute("UPDATE farms SET region = 'north' WHERE region IS NULL")
    op.execute("COMMIT")
    op.get_bind().commit()
    op.execute("BEGIN; UPDATE plots SET area = 1 WHERE area = 0")


def downgrade():
    op.execute("SELECT 1")
