# expect: add-stored-generated-column@11 add-stored-generated-column@12
"""a stored generated column added to an existing table rewrites it"""
from alembic import op
import sqlalchemy as sa

revision = "generated"
down_revision = None


def upgrade():
    op.add_column("plots", sa.Column("area_ha", sa.Numeric(), sa.Computed("area / 10000")))
    op.execute("ALTER TABLE plots ADD COLUMN perimeter_km numeric GENERATED ALWAYS AS (perimeter / 1000) STORED")


def downgrade():
    op.execute("SELECT 1")
