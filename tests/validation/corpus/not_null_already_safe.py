# expect: none
# quiet-for: set-not-null irreversible-downgrade
"""nullable=False with existing_nullable=False changes nothing; an empty downgrade after a comment is fine"""
from alembic import op
import sqlalchemy as sa

revision = "nn_already"
down_revision = None


def upgrade():
    op.alter_column("farms", "name", nullable=False, existing_nullable=False, comment="the farm's name")


def downgrade():
    pass
