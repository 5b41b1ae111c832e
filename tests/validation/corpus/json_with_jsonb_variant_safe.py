# expect: none
# quiet-for: prefer-jsonb
"""json elsewhere, jsonb on PostgreSQL: with_variant(JSONB, "postgresql") is jsonb here"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "json_variant"
down_revision = None


def upgrade():
    op.create_table("events", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("payload", sa.JSON().with_variant(JSONB(), "postgresql")))


def downgrade():
    op.execute('SELECT 1')
