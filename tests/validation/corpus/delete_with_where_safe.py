# expect: none
"""safe: DELETE with WHERE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "delete_with_"
down_revision = None


def upgrade():
    op.execute("DELETE FROM harvests WHERE quantity_kg < 0")


def downgrade():
    op.execute('SELECT 1')
