# expect: change-column-type@12
"""rewrite: alter_column type_"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "change_type_"
down_revision = None


def upgrade():
    op.alter_column("farms", "name", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade():
    op.execute('SELECT 1')
