# expect: add-foreign-key-without-not-valid@12
"""lock: foreign key without NOT VALID"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_fk_op"
down_revision = None


def upgrade():
    op.create_foreign_key("fk_farms_owner", "farms", "users", ["owner_id"], ["id"])


def downgrade():
    op.execute('SELECT 1')
