# expect: add-column-volatile-default@12
"""rewrite: volatile default"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_volatile"
down_revision = None


def upgrade():
    op.add_column("farms", sa.Column("token", sa.UUID(), server_default=sa.text("gen_random_uuid()")))


def downgrade():
    op.execute('SELECT 1')
