# expect: add-unique-constraint@12
"""lock: ADD PRIMARY KEY"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_primary_"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD CONSTRAINT farms_pk PRIMARY KEY (id)")


def downgrade():
    op.execute('SELECT 1')
