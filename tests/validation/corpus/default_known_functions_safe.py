# expect: none
# quiet-for: add-column-volatile-default
"""safe: defaults PostgreSQL evaluates once (constants, stable and immutable functions)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "default_know"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD COLUMN created timestamptz DEFAULT now()")
    op.execute("ALTER TABLE farms ADD COLUMN seen timestamptz DEFAULT CURRENT_TIMESTAMP")
    op.execute("ALTER TABLE farms ADD COLUMN tags jsonb DEFAULT '{}'::jsonb")
    op.execute("ALTER TABLE farms ADD COLUMN label text DEFAULT lower('North') || '-' || 'x'")
    op.add_column("farms", sa.Column("added", sa.DateTime(timezone=True), server_default=sa.func.now()))
    op.add_column("farms", sa.Column("day", sa.Date(), server_default=sa.text("CURRENT_DATE")))


def downgrade():
    op.execute("SELECT 1")
