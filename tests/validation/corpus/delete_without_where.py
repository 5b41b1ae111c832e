# expect: delete-without-where@12
"""data loss: DELETE without WHERE"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "delete_witho"
down_revision = None


def upgrade():
    op.execute(sa.text("DELETE FROM harvests"))


def downgrade():
    op.execute('SELECT 1')
