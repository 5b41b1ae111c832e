# expect: none
# quiet-for: drop-default-of-new-not-null-column
"""safe: dropping the default of a nullable new column, or of an old column"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "drop_default"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("note", sa.Text(), server_default="none"))
    op.alter_column("farms", "note", server_default=None)
    op.execute("ALTER TABLE fields ALTER COLUMN kind DROP DEFAULT")


def downgrade():
    op.execute("SELECT 1")
