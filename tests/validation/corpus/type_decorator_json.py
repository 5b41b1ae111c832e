# expect: prefer-jsonb@20
"""a TypeDecorator that is json on PostgreSQL is json"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

revision = "type_decorator_json"
down_revision = None


class Document(TypeDecorator):
    impl = sa.JSON
    cache_ok = True


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("body", Document()),
    )


def downgrade():
    op.execute('SELECT 1')
