# expect: add-check-without-not-valid@14
"""a non-native enum with create_constraint adds a CHECK constraint: a scan (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "enum_check"
down_revision = None
OLD = ("RUNNING", "DONE")
NEW = ("RUNNING", "DONE", "KILLED")


def upgrade():
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.Enum(*OLD, native_enum=False, create_constraint=True, name="status"),
            type_=sa.Enum(*NEW, native_enum=False, create_constraint=True, name="status"),
        )


def downgrade():
    op.execute("SELECT 1")
