"""field soil profile: a nullable jsonb column (safe on a live table)

Revision ID: 003
Revises: 002
Create Date: 2026-11-24 10:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = "003"
down_revision: Union[str, Sequence[str], None] = "002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("fields", sa.Column("soil", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("fields", "soil")  # migration-safety: ignore[drop-column] reverting 003 only removes its own column
