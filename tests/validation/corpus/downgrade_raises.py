# expect: irreversible-downgrade@15
"""a downgrade that raises cannot undo the revision"""
from alembic import op
import sqlalchemy as sa

revision = "down_raises"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("code", sa.Text(), nullable=True))


def downgrade():
    raise NotImplementedError("code cannot be removed")
