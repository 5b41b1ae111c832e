# expect: add-unique-constraint@12
"""lock: unique constraint on existing table"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_unique_o"
down_revision = None


def upgrade():
    op.create_unique_constraint("uq_farms_name", "farms", ["name"])


def downgrade():
    op.execute('SELECT 1')
