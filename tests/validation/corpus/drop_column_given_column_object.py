# expect: drop-column@11
"""drop_column given a Column object drops that column"""
from alembic import op
import sqlalchemy as sa

revision = "drop_col_obj"
down_revision = None


def upgrade():
    op.drop_column("farms", sa.Column("region", sa.Text()))


def downgrade():
    op.add_column("farms", sa.Column("region", sa.Text()))
