# expect: delete-without-where@11
"""after every row is deleted, a NOT NULL column is harmless; the delete itself is not (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "emptied"
down_revision = None


def upgrade():
    op.execute("DELETE FROM staging_readings")
    op.add_column("staging_readings", sa.Column("source", sa.Text(), nullable=False))
    op.alter_column("staging_readings", "value", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade():
    op.execute("SELECT 1")
