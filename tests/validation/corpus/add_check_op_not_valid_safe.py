# expect: none
# quiet-for: add-check-without-not-valid
"""safe: check NOT VALID via op"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_check_op"
down_revision = None


def upgrade():
    op.create_check_constraint("area_pos", "fields", "area_hectares > 0", postgresql_not_valid=True)


def downgrade():
    op.execute('SELECT 1')
