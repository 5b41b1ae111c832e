# expect: add-column-volatile-default@12
"""rewrite: volatile default in SQL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_volatile"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD COLUMN score double precision DEFAULT random()")


def downgrade():
    op.execute('SELECT 1')
