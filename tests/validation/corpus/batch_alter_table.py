# expect: drop-column@13
"""batch_alter_table context"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "batch_alter_"
down_revision = None


def upgrade():
    with op.batch_alter_table("farms") as batch_op:
        batch_op.drop_column("region")


def downgrade():
    op.execute('SELECT 1')
