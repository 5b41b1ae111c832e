# expect: narrow-column-type@12 narrow-column-type@13 narrow-column-type@14 narrow-column-type@15
"""rewrite and rounding: precision or scale reduced, even with existing_type"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "type_change_"
down_revision = None


def upgrade():
    op.alter_column("events", "at", existing_type=postgresql.TIME(), type_=postgresql.TIME(precision=3))
    op.alter_column("prices", "amount", existing_type=sa.Numeric(12, 2), type_=sa.Numeric(10, 2))
    op.alter_column("prices", "rate", existing_type=sa.Numeric(12, 4), type_=sa.Numeric(12, 2))
    op.alter_column("events", "name", existing_type=sa.String(200), type_=sa.String(50))


def downgrade():
    op.execute("SELECT 1")
