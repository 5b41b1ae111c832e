# expect: irreversible-downgrade@15
"""empty downgrade"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "irreversible"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("code", sa.Text(), nullable=True))


def downgrade():
    pass
