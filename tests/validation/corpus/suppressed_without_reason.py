# expect: suppression-without-reason@12
"""suppression without reason is reported"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "suppressed_w"
down_revision = None


def upgrade():
    op.drop_column("farms", "region")  # migration-safety: ignore[drop-column]


def downgrade():
    op.execute('SELECT 1')
