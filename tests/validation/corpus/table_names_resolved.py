# expect: drop-column@19 drop-column@20 drop-column@21 drop-column@23
"""tables named by keyword, constant, Model.__tablename__ and loops over constants"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

revision = "table_names"
down_revision = None
Base = declarative_base()
FARMS = "farms"
TAGGED = ("plots", "fields")


class Crop(Base):
    __tablename__ = "crops"


def upgrade():
    op.drop_column(table_name="barns", column_name="roof")
    op.drop_column(FARMS, "region")
    op.drop_column(Crop.__tablename__, "colour")
    for table in TAGGED:
        op.drop_column(table, "tag")


def downgrade():
    op.execute("SELECT 1")
