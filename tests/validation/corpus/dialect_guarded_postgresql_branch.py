# expect: drop-column@15 drop-table@18
"""the PostgreSQL branch of a dialect test and the code after an early return are checked"""
from alembic import op
import sqlalchemy as sa

revision = "dialect_pg"
down_revision = None


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.drop_column("farms", "legacy")
    else:
        op.drop_column("farms", "region")
    if dialect != "postgresql":
        return
    op.drop_table("scratch")


def downgrade():
    op.execute("SELECT 1")
