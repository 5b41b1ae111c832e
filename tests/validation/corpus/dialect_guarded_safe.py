# expect: none
# quiet-for: drop-column drop-table rename-column set-not-null
"""code that runs only on other dialects reports nothing (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "dialect_safe"
down_revision = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "mysql":
        op.drop_column("farms", "region")
    if bind.engine.name == "sqlite":
        with op.batch_alter_table("farms") as batch_op:
            batch_op.alter_column("name", new_column_name="title")
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        op.drop_table("scratch")
    if op.get_bind().dialect.name in ("mssql", "mysql"):
        op.alter_column("farms", "name", nullable=False)
    elif op.get_bind().dialect.name == "postgresql":
        op.add_column("farms", sa.Column("code", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        return
    op.drop_table("mysql_scratch")


def downgrade():
    op.execute("SELECT 1")
