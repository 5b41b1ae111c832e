# expect: add-column-volatile-default@12 add-column-volatile-default@13 prefer-identity@12 add-column-inline-constraint@12 add-column-inline-constraint@13
# quiet-for: add-not-null-column-without-default
"""an identity or (BIG)SERIAL primary key fills every row: no NOT NULL-without-default finding"""
from alembic import op
import sqlalchemy as sa

revision = "add_generated_key"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.add_column("fields", sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True))


def downgrade():
    op.execute('SELECT 1')
