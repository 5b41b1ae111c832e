"""crops and harvests

Revision ID: 002
Revises: 001
Create Date: 2026-11-24 10:05:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = "002"
down_revision: Union[str, Sequence[str], None] = "001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "crops",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("field_id", sa.BigInteger(), sa.ForeignKey("fields.id", ondelete="CASCADE"), nullable=False),
        sa.Column("species", sa.Text(), nullable=False),
        sa.Column("planted_on", sa.Date(), nullable=False),
        sa.Column("expected_harvest_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_crops_field_id", "crops", ["field_id"])
    op.create_table(
        "harvests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("crop_id", sa.BigInteger(), sa.ForeignKey("crops.id", ondelete="CASCADE"), nullable=False),
        sa.Column("harvested_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("quantity_kg", sa.Numeric(12, 3), nullable=False),
        sa.Column("quality", postgresql.JSONB(), nullable=True),
        sa.CheckConstraint("quantity_kg >= 0", name="harvests_quantity_not_negative"),
    )
    op.create_index("ix_harvests_crop_id_harvested_at", "harvests", ["crop_id", "harvested_at"])


def downgrade() -> None:
    op.drop_index("ix_harvests_crop_id_harvested_at", table_name="harvests")
    op.drop_table("harvests")
    op.drop_index("ix_crops_field_id", table_name="crops")
    op.drop_table("crops")
