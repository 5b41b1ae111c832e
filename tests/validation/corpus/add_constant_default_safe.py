# expect: none
# quiet-for: add-column-volatile-default add-not-null-column-without-default
"""safe on PG 11+: constant server default"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_constant"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")))


def downgrade():
    op.execute('SELECT 1')
