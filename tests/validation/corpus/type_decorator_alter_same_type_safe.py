# expect: none
# quiet-for: change-column-type change-column-type-unverified
"""json to a TypeDecorator whose PostgreSQL type is json: the same type, no rewrite"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

revision = "type_decorator_alter"
down_revision = None


class Document(TypeDecorator):
    impl = sa.JSON
    cache_ok = True


def upgrade():
    op.alter_column("events", "body", existing_type=sa.JSON(), type_=Document())


def downgrade():
    op.execute('SELECT 1')
