# expect: none
# quiet-for: add-column-inline-constraint
"""safe: inline constraints on a column of a table created in the same migration"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_column_i"
down_revision = None


def upgrade():
    op.create_table("crops", sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True))
    op.execute("ALTER TABLE crops ADD COLUMN code text UNIQUE")
    op.add_column("crops", sa.Column("farm_id", sa.BigInteger(), sa.ForeignKey("farms.id")))
    op.execute("ALTER TABLE farms ADD COLUMN note text NOT NULL DEFAULT 'none'")


def downgrade():
    op.execute("SELECT 1")
