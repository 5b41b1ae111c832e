# expect: prefer-jsonb@14
"""a variant for MySQL leaves the type json on PostgreSQL"""
from alembic import op
import sqlalchemy as sa

revision = "json_other_variant"
down_revision = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("payload", sa.JSON().with_variant(sa.Text(), "mysql")),
    )


def downgrade():
    op.execute('SELECT 1')
