# expect: change-column-type-unverified@12 change-column-type-unverified@13 change-column-type-unverified@14
"""type_= without existing_type: the cost depends on the live column (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "type_unknown"
down_revision = None


def upgrade():
    with op.batch_alter_table("attributes") as batch_op:
        batch_op.alter_column("value_json", type_=sa.TEXT)
    op.alter_column("readings", "value", type_=sa.Float(precision=53))
    op.execute("ALTER TABLE labels ALTER COLUMN value TYPE varchar(500)")


def downgrade():
    op.execute("SELECT 1")
