# expect: add-check-without-not-valid@12
"""lock: CHECK without NOT VALID"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_check_sq"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE fields ADD CONSTRAINT area_pos CHECK (area_hectares > 0)")


def downgrade():
    op.execute('SELECT 1')
