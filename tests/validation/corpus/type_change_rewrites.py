# expect: narrow-column-type@11 narrow-column-type@12 change-column-type@13 change-column-type@14
"""type changes that rewrite or re-check every row (the first two also narrow: values may not fit)"""
from alembic import op
import sqlalchemy as sa

revision = "type_rewrite"
down_revision = None


def upgrade():
    op.alter_column("labels", "value", existing_type=sa.String(200), type_=sa.String(50))
    op.alter_column("prices", "amount", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(10, 4))
    op.alter_column("readings", "value", existing_type=sa.Float(precision=10), type_=sa.Float())
    op.alter_column("events", "at", existing_type=sa.DateTime(), type_=sa.DateTime(timezone=True))


def downgrade():
    op.execute("SELECT 1")
