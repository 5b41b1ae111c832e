# expect: none
# quiet-for: change-column-type change-column-type-unverified
"""widenings PostgreSQL makes in the catalog only, and types spelled two ways (shape of real chains)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import MEDIUMTEXT

revision = "widen_safe"
down_revision = None
LABEL_LENGTH = 250


def upgrade():
    with op.batch_alter_table("labels") as batch_op:
        batch_op.alter_column("value", existing_type=sa.String(LABEL_LENGTH), type_=sa.String(length=5000))
        batch_op.alter_column("note", existing_type=sa.String(5000),
                              type_=sa.Text().with_variant(MEDIUMTEXT, "mysql"))
    op.alter_column("readings", "value", existing_type=sa.Float(), type_=sa.Float(precision=53))
    op.alter_column("readings", "ok", existing_type=sa.Boolean(), type_=sa.BOOLEAN())
    op.alter_column("prices", "amount", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(14, 2))
    op.alter_column("prices", "rate", existing_type=sa.Numeric(10, 4), type_=sa.Numeric())
    op.alter_column("jobs", "state", existing_type=sa.Enum("a", "b", name="jobstate"),
                    type_=sa.Enum("a", "b", "c", name="jobstate"))


def downgrade():
    op.execute("SELECT 1")
