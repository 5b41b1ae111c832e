# expect: drop-default-of-new-not-null-column@13 drop-default-of-new-not-null-column@15
"""breaks running code: the default of a NOT NULL column dropped in the migration that adds it"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_default"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("status", sa.Text(), nullable=False, server_default="active"))
    op.alter_column("farms", "status", server_default=None)
    op.execute("ALTER TABLE fields ADD COLUMN kind text NOT NULL DEFAULT 'crop'")
    op.execute("ALTER TABLE fields ALTER COLUMN kind DROP DEFAULT")


def downgrade():
    op.execute("SELECT 1")
