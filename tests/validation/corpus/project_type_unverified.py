# expect: column-type-unverified@15
"""a type from the project whose source cannot be read: unverified (info), not a json warning"""
from alembic import op
import sqlalchemy as sa
from farm_app_not_on_any_path.types import JSON

revision = "project_type"
down_revision = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("body", JSON()),
    )


def downgrade():
    op.execute('SELECT 1')
