# expect: drop-column@24
"""operations in helper functions the revision defines and calls are checked (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "helpers"
down_revision = None


def upgrade():
    _drop_legacy()
    _drop_legacy()


def downgrade():
    op.execute("SELECT 1")


def _drop_legacy():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("spans") as batch_op:
            batch_op.drop_column("legacy")
    else:
        op.drop_column("spans", "legacy")
