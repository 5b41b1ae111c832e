# expect: none
"""suppressed: drop with a reason"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "suppressed_w"
down_revision = None


def upgrade():
    op.drop_column("farms", "region")  # migration-safety: ignore[drop-column] unused since release 41


def downgrade():
    op.execute('SELECT 1')
