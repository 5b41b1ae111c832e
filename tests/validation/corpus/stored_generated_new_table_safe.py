# expect: drop-table@18
# quiet-for: add-stored-generated-column
"""a generated column of a table created in the same revision is fine"""
from alembic import op
import sqlalchemy as sa

revision = "generated_new"
down_revision = None


def upgrade():
    op.create_table("parcels", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("area", sa.Numeric()))
    op.add_column("parcels", sa.Column("area_ha", sa.Numeric(), sa.Computed("area / 10000")))


def downgrade():
    op.drop_table("parcels")
