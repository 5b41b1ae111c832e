# expect: prefer-bigint-primary-key@12 prefer-identity@12
"""style: int primary key via SQLAlchemy (serial)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_serial"
down_revision = None


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("body", sa.Text()))


def downgrade():
    op.execute('SELECT 1')
