# expect: add-column-inline-constraint@12 add-column-inline-constraint@13 add-column-inline-constraint@14 add-not-null-column-without-default@14 add-column-inline-constraint@15
"""lock: ADD COLUMN with an inline UNIQUE, PRIMARY KEY or REFERENCES"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_column_i"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD COLUMN code text UNIQUE")
    op.execute("ALTER TABLE farms ADD COLUMN owner_id int8 REFERENCES users (id)")
    op.execute("ALTER TABLE farms ADD COLUMN uid int8 PRIMARY KEY")
    op.add_column("fields", sa.Column("slug", sa.Text(), unique=True))


def downgrade():
    op.execute("SELECT 1")
