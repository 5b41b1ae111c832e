# expect: add-column-volatile-default@12 add-column-volatile-default@13 add-column-volatile-default@14
"""rewrite: a default calling a function not known to be immutable or stable"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "volatile_def"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD COLUMN token text DEFAULT make_token()")
    op.add_column("farms", sa.Column("ref", sa.Text(), server_default=sa.text("billing.next_ref()")))
    op.execute("ALTER TABLE farms ADD COLUMN picked float8 DEFAULT RANDOM()")


def downgrade():
    op.execute("SELECT 1")
