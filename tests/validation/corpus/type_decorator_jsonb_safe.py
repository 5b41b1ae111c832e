# expect: none
# quiet-for: prefer-jsonb column-type-unverified
"""TypeDecorators whose PostgreSQL type is jsonb, by impl or by load_dialect_impl"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

revision = "type_decorator_jsonb"
down_revision = None


class JSON(TypeDecorator):
    impl = postgresql.JSONB
    cache_ok = True


class PortableJSON(TypeDecorator):
    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


class NotOnPostgres(TypeDecorator):
    impl = sa.JSON

    def load_dialect_impl(self, dialect):
        if dialect.name != "postgresql":
            return dialect.type_descriptor(sa.JSON())
        return dialect.type_descriptor(postgresql.JSONB(astext_type=sa.Text()))


def upgrade():
    op.create_table("events", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("a", JSON()), sa.Column("b", PortableJSON()), sa.Column("c", NotOnPostgres()))


def downgrade():
    op.execute('SELECT 1')
